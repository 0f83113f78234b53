"""Names, sizes, timeouts, retention and TTL defaults of the AWS deployment, in one place.

Route paths, methods and cache TTLs are not here: they come from the route table
(snowwatch.routes); job schedules come from snowwatch.schedules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
COMMON_LAYER_DIR = ROOT / "layers" / "common"
BUILD_LAYERS_DIR = ROOT / "build" / "layers"
WEB_DIST_DIR = ROOT / "web" / "dist"
MIGRATIONS_DIR = COMMON_LAYER_DIR / "python" / "snowwatch" / "db" / "migrations"

APP_NAME = "snowwatch"
DEFAULT_STACK_NAME = "Snowwatch"
METRICS_NAMESPACE = "Snowwatch"

# The runtime, and the CPython version the dependency layers are built for (scripts/build_layers.py).
LAMBDA_PYTHON_VERSION = "3.14"
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024

# Excluded from every code asset.
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/*.egg-info", "pyproject.toml", ".build-hash"]

# Runtime secrets (connector key pairs, Slack targets) live under `<stack name>/<org id>/...`, named and
# tagged by the runtime (env SECRET_NAMESPACE = the stack name); roles are scoped to `<stack name>/*`.
SECRET_ORG_TAG = "snowwatch:org"  # noqa: S105 - a tag key, not a secret

# Database roles, one per function family (created by migration 0320_roles.sql). Migrate logs in as
# the RDS master user (the only function that reads the master secret); the others with IAM tokens.
DB_ROLES: dict[str, str] = {"api": "snowwatch_api", "jobs": "snowwatch_jobs", "notify": "snowwatch_notify"}


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: where its code is, what it carries, and how big and long it may run.

    ``family`` decides its database role and its security group (api, jobs, notify, migrate; the
    authorizer has neither: it runs outside the VPC). Nothing reserves concurrency: job functions
    are bounded by their queue's event-source maximum concurrency (``max_concurrency``).
    """

    name: str
    asset: str  # folder under functions/
    handler: str
    memory_mb: int
    timeout_s: int
    family: str
    max_concurrency: int = 2  # SQS event-source maximum concurrency (jobs; 2 is SQS's minimum)
    snowflake: bool = False  # carries the snowflake-connector layer
    description: str = ""


API = FunctionSpec("api", "api", "handler.lambda_handler", 512, 29, "api", description="REST API (Powertools resolver)")
AUTHORIZER = FunctionSpec(
    "authorizer", "api", "authorizer.lambda_handler", 512, 10, "", description="API Gateway TOKEN authorizer (JWT)"
)
MIGRATE = FunctionSpec("migrate", "migrate", "handler.lambda_handler", 512, 300, "migrate", description="Migrations")

# The job functions, one per job name in snowwatch.schedules.JOBS.
JOB_SPECS: dict[str, FunctionSpec] = {
    "sync": FunctionSpec(
        "sync",
        "sync",
        "handler.lambda_handler",
        1024,
        900,
        "jobs",
        max_concurrency=5,
        snowflake=True,
        description="Snowflake cost sync",
    ),
    "budget_check": FunctionSpec(
        "budget_check", "budget_check", "handler.lambda_handler", 512, 300, "jobs", description="Budget thresholds"
    ),
    "notify": FunctionSpec(
        "notify", "notify", "handler.lambda_handler", 256, 60, "notify", description="SQS notifier and outbox relay"
    ),
    "snapshot": FunctionSpec(
        "snapshot", "snapshot", "handler.lambda_handler", 512, 300, "jobs", description="Daily budget snapshots"
    ),
    "security": FunctionSpec(
        "security",
        "security",
        "handler.lambda_handler",
        1024,
        600,
        "jobs",
        max_concurrency=3,
        snowflake=True,
        description="Security rules",
    ),
}

ALL_SPECS: tuple[FunctionSpec, ...] = (API, AUTHORIZER, MIGRATE, *JOB_SPECS.values())

# Job queues (one per job, one shared DLQ): each message is one unit of work (a job for one
# connector, or one org-wide run). A failed run is recorded in job_runs and its message comes back
# after the visibility timeout; after JOB_MAX_RECEIVE_COUNT receives it moves to the DLQ, which alarms.
JOB_MAX_RECEIVE_COUNT = 3
JOB_QUEUE_RETENTION_DAYS = 4
JOB_DLQ_RETENTION_DAYS = 14
JOB_BATCH_SIZE = 1  # one run per invocation: a run may take the function's whole timeout
# Direct asynchronous invokes (`aws lambda invoke --invocation-type Event`): no Lambda retries;
# a failure goes to the DLQ (on-failure destination).
JOB_RETRY_ATTEMPTS = 0
JOB_MAX_EVENT_AGE_S = 3600

# API Gateway
API_STAGE = "v1"
API_THROTTLE_RATE = 50  # requests/second, stage-wide steady state
API_THROTTLE_BURST = 100
JOB_RUN_THROTTLE_RATE = 1  # POST /api/jobs/{job}/run: manual runs are rare and expensive
JOB_RUN_THROTTLE_BURST = 2
AUTHORIZER_CACHE_TTL_S = 60  # keyed on the token; the API checks `exp` itself as well
# Only a well-formed bearer token reaches the authorizer (API Gateway answers 401 to anything else).
AUTHORIZER_IDENTITY_REGEX = r"^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
API_LATENCY_P95_ALARM_MS = 3000

# SQS (notifications)
NOTIFY_MAX_RECEIVE_COUNT = 5
NOTIFY_BATCH_SIZE = 10
NOTIFY_EVENT_SOURCE_MAX_CONCURRENCY = 4
NOTIFY_QUEUE_RETENTION_DAYS = 4
NOTIFY_DLQ_RETENTION_DAYS = 14

# Database
DB_NAME = "snowwatch"
DB_ADMIN_USER = "snowwatch_admin"
DB_PORT = 5432
DB_ALLOCATED_STORAGE_GB = 20
DB_MAX_ALLOCATED_STORAGE_GB = 200
DB_SECRET_ROTATION_DAYS = 30
DB_PROXY_MAX_CONNECTIONS_PERCENT = 90
MIGRATION_TRIGGER_TIMEOUT_S = 600
# The migration function's connect: attempts and the pause between them (the instance may still be
# finishing its first boot when the trigger runs).
MIGRATION_CONNECT_ATTEMPTS = 10
MIGRATION_CONNECT_PAUSE_S = 15

# Network
VPC_MAX_AZS = 2
NAT_INSTANCE_TYPE = "t4g.nano"


@dataclass(frozen=True)
class Profile:
    """What a deployment profile builds (context `profile`). Idle cost: `make synth` (infra/prices.py)."""

    name: str
    nat_gateways: int  # 0: one NAT instance (stable Elastic IP) instead of managed NAT gateways
    interface_endpoints: tuple[str, ...]  # AWS services reached through interface endpoints
    rds_proxy: bool  # RDS Proxy with end-to-end IAM auth; else IAM database auth on the instance
    stage_cache_gb: str | None  # API Gateway stage cache cluster size; None: no cache cluster
    db_instance_class: str
    multi_az: bool
    backup_days: int
    log_retention_days: int
    retain: bool  # data stores and logs survive `cdk destroy`; deletion protection on


PROFILES: dict[str, Profile] = {
    "lean": Profile(
        name="lean",
        nat_gateways=0,
        interface_endpoints=(),
        rds_proxy=False,
        stage_cache_gb=None,
        db_instance_class="t4g.micro",
        multi_az=False,
        backup_days=7,
        log_retention_days=30,
        retain=False,
    ),
    "prod": Profile(
        name="prod",
        nat_gateways=2,
        # What the functions call on every run: secrets (connector keys) and the job/notify queues.
        interface_endpoints=("SecretsManager", "Sqs"),
        rds_proxy=True,
        stage_cache_gb="0.5",
        db_instance_class="t4g.small",
        multi_az=True,
        backup_days=30,
        log_retention_days=365,
        retain=True,
    ),
}

# Scheduler: delivery retries (a failed SendMessage to a job queue), then the DLQ.
SCHEDULE_MAX_RETRY_ATTEMPTS = 2
SCHEDULE_MAX_EVENT_AGE_S = 900

# Context keys and their defaults (cdk.json holds the same defaults; this is the fallback).
CONTEXT_DEFAULTS: dict[str, object] = {
    "stack_name": DEFAULT_STACK_NAME,
    "profile": "lean",
    "timezone": "UTC",
    "ses_sender": "alerts@example.com",
    "ses_create_identity": False,
    "dashboard_origin": "",
    "dashboard_url": "",
    "jwks_url": "https://idp.example.com/.well-known/jwks.json",
    "jwt_audience": "",
    "jwt_issuer": "",
    "jwt_org_claim": "org",
    "jwt_role_claim": "role",
    "jwt_email_claim": "email",
    "vpc_id": "",
    "db_instance_class": "",
    "schedules_enabled": True,
    "alarm_email": "",
    "build_version": "dev",
}
