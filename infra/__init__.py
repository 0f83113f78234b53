"""The snowwatch CDK app (run as `.venv/bin/python infra/app.py`, see cdk.json)."""
