"""Settings, composed per concern and validated once per cold start.

Each concern is one small class (database, secrets, dispatch, Snowflake, egress, auth, notify); each
function composes exactly the concerns it uses, so it validates nothing it never reads:

| function | settings |
|---|---|
| api | :class:`ApiSettings` (database, dispatch, secrets, egress) |
| authorizer | :class:`AuthSettings` |
| sync, security | :class:`JobSettings` (database, dispatch, secrets, Snowflake) |
| budget_check, snapshot | :class:`RunnerSettings` (database, dispatch) |
| notify | :class:`NotifySettings` (database, dispatch, secrets, egress, delivery) |
| migrate | :class:`MigrateSettings` (database, connect patience) |

:func:`get_settings` caches the validated instance for the life of the execution environment. Values
come from the environment (Lambda configuration in AWS, the local stack's defaults locally).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal, TypeVar

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class RuntimeSettings(BaseSettings):
    """Who and where we are: every function has these."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, env_prefix="")

    service_name: str = Field(default="snowwatch", alias="POWERTOOLS_SERVICE_NAME")
    environment: Literal["local", "test", "aws"] = Field(default="local", alias="SNOWWATCH_ENV")
    build_version: str = Field(default="dev", alias="BUILD_VERSION")
    aws_region: str = Field(default="us-east-1", alias="AWS_REGION")


class DatabaseSettings(RuntimeSettings):
    """Where Postgres is. Locally: a URL. In AWS: the family's role with an IAM token (DB_IAM_AUTH,
    DB_USER, DB_HOST = the RDS Proxy or the instance), or, for migrate only, the RDS master secret."""

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    db_secret_arn: str | None = Field(default=None, alias="DB_SECRET_ARN")
    db_host: str | None = Field(default=None, alias="DB_HOST")
    db_port: int = Field(default=5432, alias="DB_PORT")
    db_name: str = Field(default="snowwatch", alias="DB_NAME")
    db_user: str | None = Field(default=None, alias="DB_USER")
    db_iam_auth: bool = Field(default=False, alias="DB_IAM_AUTH")
    db_ssl: bool = Field(default=False, alias="DB_SSL")
    # Extra CA certificates for TLS to an RDS instance (its certificate is signed by the RDS CA).
    db_ca_bundle_url: str | None = Field(default=None, alias="DB_CA_BUNDLE_URL")

    @property
    def socket_timeout_seconds(self) -> float:
        """How long the client waits on the socket (job settings wait longer than their statement timeout)."""
        return 30.0

    @model_validator(mode="after")
    def _database_reachable_somehow(self) -> DatabaseSettings:
        if self.db_iam_auth and not (self.db_user and self.db_host):
            raise ValueError("DB_IAM_AUTH needs DB_USER and DB_HOST")
        if not self.database_url and not self.db_secret_arn and not self.db_iam_auth:
            raise ValueError("set DATABASE_URL (local), DB_IAM_AUTH with DB_USER (AWS) or DB_SECRET_ARN (migrate)")
        return self


# The name the first wave used for "what every function needs"; kept for its callers.
CommonSettings = DatabaseSettings


class MigrateSettings(DatabaseSettings):
    """The migration function: how patiently it waits for the database on deploy."""

    connect_attempts: int = Field(default=1, ge=1, le=60, alias="MIGRATE_CONNECT_ATTEMPTS")
    connect_pause_seconds: float = Field(default=0, ge=0, le=120, alias="MIGRATE_CONNECT_PAUSE_SECONDS")


class SecretsSettings(RuntimeSettings):
    """Credentials snowwatch keeps in Secrets Manager, all under one namespace per stack:
    ``<namespace>/<org id>/connectors/<connector id>`` and ``<namespace>/<org id>/slack/<budget id>``."""

    secret_namespace: str = Field(
        default="snowwatch-local", alias="SECRET_NAMESPACE", pattern=r"^[A-Za-z0-9][A-Za-z0-9_+=.@-]{0,63}$"
    )


class DispatchSettings(RuntimeSettings):
    """How work reaches other functions: job functions (fan-out, manual runs) and the notify queue."""

    # job name -> SQS queue URL (one queue per job function); locally, jobs may also run in-process.
    job_queues: dict[str, str] = Field(default_factory=dict, alias="JOB_QUEUES")
    dispatch_mode: Literal["sqs", "inline", "thread"] = Field(default="inline", alias="DISPATCH_MODE")
    notify_queue_url: str | None = Field(default=None, alias="NOTIFY_QUEUE_URL")


class SnowflakeSettings(RuntimeSettings):
    """The read-only Snowflake client and the sync's defaults."""

    sync_backfill_days_default: int = Field(default=90, ge=1, le=365, alias="SYNC_BACKFILL_DAYS")
    snowflake_query_tag: str = Field(default="snowwatch", alias="SNOWFLAKE_QUERY_TAG")
    # Raw query rows are kept this many days (+1 UTC day, covering every connector timezone); older days are answered
    # from the rollups. The full sync drops at most ``QUERY_RETENTION_DAYS_PER_RUN`` older UTC-day partitions per run,
    # a day per transaction (services/query_retention.py).
    query_retention_days: int = Field(default=35, ge=1, le=400, alias="QUERY_RETENTION_DAYS")
    query_retention_days_per_run: int = Field(default=7, ge=1, le=90, alias="QUERY_RETENTION_DAYS_PER_RUN")
    # The daily rollups (query, per-hash, spend, warehouse load) are kept for the local months from this many months
    # before the current one; the full sync deletes older months, a month per transaction.
    rollup_retention_months: int = Field(default=13, ge=1, le=120, alias="ROLLUP_RETENTION_MONTHS")
    # Memory (docs/scale.md, "Memory"): a query-view window reads at most about this many rows (its first window is
    # sized from the range's density, later ones from what the previous read), since the connector holds a window's
    # result while it loads; and the connector downloads at most this many result chunks ahead of the one read.
    sync_window_rows: int = Field(default=100_000, ge=1_000, le=1_000_000, alias="SYNC_WINDOW_ROWS")
    snowflake_prefetch_threads: int = Field(default=2, ge=1, le=8, alias="SNOWFLAKE_PREFETCH_THREADS")
    # Endpoint override (the local stack's fakesnow server); unset in AWS, where the account
    # identifier decides the host.
    snowflake_host: str | None = Field(default=None, alias="SNOWFLAKE_HOST")
    snowflake_port: int | None = Field(default=None, alias="SNOWFLAKE_PORT")
    snowflake_protocol: Literal["https", "http"] = Field(default="https", alias="SNOWFLAKE_PROTOCOL")


HostList = Annotated[tuple[str, ...], NoDecode]


class EgressSettings(RuntimeSettings):
    """Where snowwatch may call out to (see :mod:`snowwatch.egress`).

    ``SLACK_ALLOWED_HOSTS``: hosts a Slack webhook or the Slack API may live on (https only).
    ``EGRESS_EXEMPT_HOSTS``: ``host:port`` pairs allowed over plain http and on private addresses — the
    local Slack stub only; empty in AWS.
    """

    slack_allowed_hosts: HostList = Field(default=("hooks.slack.com", "slack.com"), alias="SLACK_ALLOWED_HOSTS")
    egress_exempt_hosts: HostList = Field(default=(), alias="EGRESS_EXEMPT_HOSTS")

    @field_validator("slack_allowed_hosts", "egress_exempt_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(h.strip().lower() for h in value.split(",") if h.strip())
        return value


class RunnerSettings(DatabaseSettings, DispatchSettings):
    """What the shared job runner needs (budget_check and snapshot need nothing more).

    Every job statement is bounded server-side by ``JOB_STATEMENT_TIMEOUT_SECONDS`` (the client socket
    waits 30 s longer, so the server's error arrives first and the statement does not run on abandoned).
    ``JOB_TIME_BUDGET_SECONDS`` caps a run's time below the function's own (simulated Lambda limit,
    locally and in benchmarks); a run stops starting windows ``JOB_STOP_MARGIN_SECONDS`` before either.
    """

    job_statement_timeout_seconds: float = Field(default=300, gt=0, le=840, alias="JOB_STATEMENT_TIMEOUT_SECONDS")
    job_time_budget_seconds: float | None = Field(default=None, gt=0, alias="JOB_TIME_BUDGET_SECONDS")
    job_stop_margin_seconds: float = Field(default=120, ge=0, le=600, alias="JOB_STOP_MARGIN_SECONDS")

    @property
    def socket_timeout_seconds(self) -> float:
        return self.job_statement_timeout_seconds + 30


class JobSettings(RunnerSettings, SecretsSettings, SnowflakeSettings):
    """The jobs that read Snowflake: sync and security."""


class ApiSettings(RunnerSettings, SecretsSettings, EgressSettings):
    """The API: reads Postgres, writes credentials, validates outbound URLs, starts jobs."""


class AuthSettings(BaseSettings):
    """The TOKEN authorizer: HS256 with a shared secret locally, RS256 through the IdP's JWKS in AWS."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    jwt_algorithm: Literal["HS256", "RS256"] = Field(default="HS256", alias="JWT_ALGORITHM")
    jwt_secret: str | None = Field(default=None, alias="JWT_SECRET", repr=False)
    jwks_url: str | None = Field(default=None, alias="JWKS_URL")
    jwt_audience: str | None = Field(default=None, alias="JWT_AUDIENCE")
    jwt_issuer: str | None = Field(default=None, alias="JWT_ISSUER")
    # Claim names: IdPs differ (Cognito custom attributes, Auth0 namespaced claims, ...).
    org_claim: str = Field(default="org", alias="JWT_ORG_CLAIM")
    role_claim: str = Field(default="role", alias="JWT_ROLE_CLAIM")
    email_claim: str = Field(default="email", alias="JWT_EMAIL_CLAIM")

    @model_validator(mode="after")
    def _key_source(self) -> AuthSettings:
        if self.jwt_algorithm == "HS256" and not self.jwt_secret:
            raise ValueError("JWT_SECRET is required with HS256")
        if self.jwt_algorithm == "RS256" and not self.jwks_url:
            raise ValueError("JWKS_URL is required with RS256")
        return self


class NotifySettings(RunnerSettings, SecretsSettings, EgressSettings):
    """The notifier and the outbox relay."""

    ses_sender: str = Field(default="alerts@snowwatch.local", alias="SES_SENDER")
    dashboard_url: str = Field(default="http://localhost:3001", alias="DASHBOARD_URL")
    slack_base_url: str | None = Field(default=None, alias="SLACK_BASE_URL")
    max_attempts: int = Field(default=5, ge=1, le=20, alias="NOTIFY_MAX_ATTEMPTS")
    relay_after_seconds: int = Field(default=120, ge=0, alias="NOTIFY_RELAY_AFTER_SECONDS")
    # A failed send returns to the queue after base x 2^(attempts-1) seconds (capped at 15 min).
    backoff_base_seconds: int = Field(default=30, ge=0, le=900, alias="NOTIFY_BACKOFF_BASE_SECONDS")
    # How long a claimed ('sending') row stays reserved for the notifier that claimed it.
    lease_seconds: int = Field(default=300, ge=1, le=3600, alias="NOTIFY_LEASE_SECONDS")
    send_timeout_seconds: float = Field(default=10.0, gt=0, le=60, alias="NOTIFY_SEND_TIMEOUT_SECONDS")
    # slack-sdk's in-call retries (connection errors, 429, 5xx): exponential backoff factor in seconds.
    slack_retry_backoff_seconds: float = Field(default=0.5, ge=0, le=10, alias="NOTIFY_SLACK_RETRY_BACKOFF_SECONDS")


S = TypeVar("S", bound=BaseSettings)


@cache
def get_settings(cls: type[S]) -> S:
    """The validated settings of one class, built once per process (cold start)."""
    return cls()
