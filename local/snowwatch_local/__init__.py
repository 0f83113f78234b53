"""The local stack: Postgres, moto, fakesnow with a synthetic account, the API server and the scheduler."""
