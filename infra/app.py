"""The CDK app: `cdk synth` / `cdk deploy` run `.venv/bin/python infra/app.py` (cdk.json).

Also runs without the CDK CLI (`make synth`): then it reads cdk.json's context itself and writes
the cloud assembly to cdk.out. cdk-nag's AwsSolutions pack runs as a validation plugin on every
synth; any unacknowledged finding fails the synth (report: cdk.out/policy-validation-report.json).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# `python infra/app.py` puts infra/ first on sys.path, where infra/constructs would shadow the
# `constructs` library: import from the repository root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "infra"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# This machine's Node (20) is past end-of-life for jsii: the banner is noise on every synth.
# Deploy with a supported Node (22/24) per docs/deploy.md.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # major versions, comma-separated

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.config import Config, ConfigError  # noqa: E402
from infra.constants import APP_NAME  # noqa: E402
from infra.context import cdk_json_context, context_args  # noqa: E402
from infra.stack import SnowwatchStack  # noqa: E402


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> cdk.App:
    """The app with its one stack and the cdk-nag plugin (not synthesized yet).

    ``context`` overrides cdk.json's context (under the CLI, the CLI's context wins over both).
    """
    app = cdk.App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    config = Config.from_scope(app)
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    env = cdk.Environment(account=account, region=region) if config.vpc_id and account and region else None
    SnowwatchStack(app, config.stack_name, config=config, env=env)
    # DBProxyTargetGroup takes no tags (CloudFormation rejects the property).
    cdk.Tags.of(app).add("app", APP_NAME, exclude_resource_types=["AWS::RDS::DBProxyTargetGroup"])
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main(argv: list[str]) -> None:
    outdir = None if os.environ.get("CDK_OUTDIR") else str(ROOT / "cdk.out")
    try:
        app = build_app(context_args(argv), outdir=outdir)
    except ConfigError as exc:
        raise SystemExit(f"configuration error: {exc}") from None
    app.synth()


if __name__ == "__main__":
    main(sys.argv[1:])
