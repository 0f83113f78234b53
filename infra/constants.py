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

# Connector credentials written by the API and read by sync/security (settings: CONNECTOR_SECRET_PREFIX).
CONNECTOR_SECRET_PREFIX = "snowwatch/connectors/"  # noqa: S105 - a name prefix, not a secret
# Slack credentials (bot token or webhook URL) per budget: written by the API, read by notify
# (settings: SLACK_SECRET_PREFIX).
SLACK_SECRET_PREFIX = "snowwatch/slack/"  # noqa: S105 - a name prefix, not a secret


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: where its code is, what it carries, and how big and long it may run.

    Reserved concurrency protects the database: the sum over all functions bounds the number of
    client connections the RDS Proxy ever sees (the proxy then multiplexes them).
    """

    name: str
    asset: str  # folder under functions/
    handler: str
    memory_mb: int
    timeout_s: int
    reserved_concurrency: int | None
    snowflake: bool = False  # carries the snowflake-connector layer
    description: str = ""


API = FunctionSpec("api", "api", "handler.lambda_handler", 512, 29, 40, description="REST API (Powertools resolver)")
AUTHORIZER = FunctionSpec(
    "authorizer", "api", "authorizer.lambda_handler", 256, 10, None, description="API Gateway TOKEN authorizer (JWT)"
)
MIGRATE = FunctionSpec("migrate", "migrate", "handler.lambda_handler", 512, 300, 1, description="Applies migrations")

# The job functions, one per job name in snowwatch.schedules.JOBS.
JOB_SPECS: dict[str, FunctionSpec] = {
    "sync": FunctionSpec(
        "sync", "sync", "handler.lambda_handler", 1024, 900, 10, snowflake=True, description="Snowflake cost sync"
    ),
    "budget_check": FunctionSpec(
        "budget_check", "budget_check", "handler.lambda_handler", 512, 300, 2, description="Budget thresholds"
    ),
    "notify": FunctionSpec(
        "notify", "notify", "handler.lambda_handler", 256, 60, 6, description="SQS notifier and outbox relay"
    ),
    "snapshot": FunctionSpec(
        "snapshot", "snapshot", "handler.lambda_handler", 512, 300, 2, description="Daily budget snapshots"
    ),
    "security": FunctionSpec(
        "security", "security", "handler.lambda_handler", 1024, 600, 5, snowflake=True, description="Security rules"
    ),
}

ALL_SPECS: tuple[FunctionSpec, ...] = (API, AUTHORIZER, MIGRATE, *JOB_SPECS.values())

# Async invocations (schedules, fan-out, manual runs) are not retried by Lambda: a job run is
# recorded in job_runs and the next schedule picks up from the watermark.
JOB_RETRY_ATTEMPTS = 0
JOB_MAX_EVENT_AGE_S = 3600

# Logs
LOG_RETENTION_DAYS = 30
LOG_RETENTION_DAYS_PROD = 365

# API Gateway
API_STAGE = "v1"
API_CACHE_CLUSTER_SIZE = "0.5"  # GB
API_THROTTLE_RATE = 50  # requests/second, stage-wide steady state
API_THROTTLE_BURST = 100
JOB_RUN_THROTTLE_RATE = 1  # POST /api/jobs/{job}/run: manual runs are rare and expensive
JOB_RUN_THROTTLE_BURST = 2
AUTHORIZER_CACHE_TTL_S = 300  # keyed on the Authorization header (the token)
API_LATENCY_P95_ALARM_MS = 3000

# SQS (notifications)
NOTIFY_MAX_RECEIVE_COUNT = 5
NOTIFY_BATCH_SIZE = 10
NOTIFY_EVENT_SOURCE_MAX_CONCURRENCY = 4  # below notify's reserved concurrency: the relay still runs
NOTIFY_QUEUE_RETENTION_DAYS = 4
NOTIFY_DLQ_RETENTION_DAYS = 14

# Database
DB_NAME = "snowwatch"
DB_ADMIN_USER = "snowwatch_admin"
DB_PORT = 5432
DB_DEFAULT_INSTANCE_CLASS = "t4g.small"
DB_ALLOCATED_STORAGE_GB = 20
DB_MAX_ALLOCATED_STORAGE_GB = 200
DB_BACKUP_RETENTION_DAYS = 7
DB_BACKUP_RETENTION_DAYS_PROD = 30
DB_SECRET_ROTATION_DAYS = 30
DB_PROXY_MAX_CONNECTIONS_PERCENT = 90
MIGRATION_TRIGGER_TIMEOUT_S = 600

# Network
VPC_MAX_AZS = 2
VPC_NAT_GATEWAYS = 1
VPC_NAT_GATEWAYS_PROD = 2

# Scheduler: delivery retries (throttled invoke), not job retries.
SCHEDULE_MAX_RETRY_ATTEMPTS = 2
SCHEDULE_MAX_EVENT_AGE_S = 900

# Context keys and their defaults (cdk.json holds the same defaults; this is the fallback).
CONTEXT_DEFAULTS: dict[str, object] = {
    "stack_name": DEFAULT_STACK_NAME,
    "prod": False,
    "timezone": "UTC",
    "ses_sender": "alerts@example.com",
    "dashboard_origin": "http://localhost:3001",
    "dashboard_url": "",
    "jwks_url": "https://idp.example.com/.well-known/jwks.json",
    "jwt_audience": "",
    "jwt_issuer": "",
    "jwt_org_claim": "org",
    "jwt_role_claim": "role",
    "jwt_email_claim": "email",
    "vpc_id": "",
    "vpc_endpoints": True,
    "db_instance_class": DB_DEFAULT_INSTANCE_CLASS,
    "reserved_concurrency": True,
    "schedules_enabled": True,
    "alarm_email": "",
    "build_version": "dev",
}
