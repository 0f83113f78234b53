"""The whole local system on embedded defaults: services, schema, seed data and settings.

Used by `make demo` (the CLI), by the integration and e2e tests (as a fixture) and by `make bench`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from snowwatch_local import services, synthetic

# How long a stopping local stack lets running jobs finish (the README and the CLI say 60 s).
STOP_GRACE_SECONDS = 60.0
DEMO_ORG = "demo"
OTHER_ORG = "other-org"
ADMIN = {"subject": "demo-admin", "email": "admin@demo.snowwatch.local", "org": DEMO_ORG, "role": "admin"}
MEMBER = {"subject": "demo-member", "email": "member@demo.snowwatch.local", "org": DEMO_ORG, "role": "member"}
OTHER_ADMIN = {
    "subject": "other-admin",
    "email": "admin@other.snowwatch.local",
    "org": OTHER_ORG,
    "role": "admin",
}


def new_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass
class LocalStack:
    database: str = "snowwatch"
    fresh_database: bool = False
    size: synthetic.Size = "demo"
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    dispatch_mode: str = "thread"
    database_url: str = ""
    moto: services.Moto | None = None
    fakesnow: services.Fakesnow | None = None
    seed_counts: dict[str, int] = field(default_factory=dict)
    connector_id: UUID | None = None
    other_connector_id: UUID | None = None
    _saved_env: dict[str, str | None] = field(default_factory=dict)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        services.STATE_DIR.mkdir(exist_ok=True)
        self.database_url = services.ensure_database(self.database, fresh=self.fresh_database)
        self.moto = services.start_moto()
        self.fakesnow = services.start_fakesnow()
        self._set_env(self.env())
        self._clear_settings_cache()
        # imported once the stack has set the environment (settings and Powertools read it)
        from snowwatch.db import migrate
        from snowwatch.settings import CommonSettings, get_settings

        migrate.apply(get_settings(CommonSettings))
        with contextlib.closing(services.snowflake_connection(self.fakesnow)) as sf:
            self.seed_counts = synthetic.seed(sf.cursor(), self.size)
        self.seed_tenants()
        self.register_local_handlers()
        return self

    def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """Stop within ``grace_seconds`` (plus the services' own shutdown): see :meth:`stop_jobs`."""
        # imported once the stack has set the environment (settings and Powertools read it)
        from snowwatch.db.connection import close_connection

        self.stop_jobs(grace_seconds)
        close_connection()
        if self.fakesnow:
            self.fakesnow.stop()
        if self.moto:
            self.moto.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._clear_settings_cache()

    @staticmethod
    def stop_jobs(grace_seconds: float = STOP_GRACE_SECONDS) -> int:
        """Let running local jobs finish for at most ``grace_seconds`` in all, then mark what is still active
        ``interrupted`` (the runner never writes over it when a job ends later); return how many."""
        # imported once the stack has set the environment (settings and Powertools read it)
        from snowwatch.db import get_connection
        from snowwatch.repositories import jobs as jobs_repo
        from snowwatch.services.dispatch import wait_local
        from snowwatch.settings import RunnerSettings, get_settings

        if wait_local(timeout=grace_seconds):
            return 0
        conn = get_connection(get_settings(RunnerSettings))
        return jobs_repo.interrupt_active(conn, f"local stack stopped after a {grace_seconds:g} s grace period")

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ configuration
    def env(self) -> dict[str, str]:
        assert self.moto and self.fakesnow
        return {
            **services.aws_env(self.moto.url),
            "SNOWWATCH_ENV": "local",
            "DATABASE_URL": self.database_url,
            "JWT_ALGORITHM": "HS256",
            "JWT_SECRET": self.jwt_secret,
            "DISPATCH_MODE": self.dispatch_mode,
            "JOB_QUEUES": json.dumps(self.moto.job_queue_urls),
            "NOTIFY_QUEUE_URL": self.moto.notify_queue_url,
            "NOTIFY_DLQ_URL": self.moto.notify_dlq_url,
            "SES_SENDER": self.moto.ses_sender,
            "DASHBOARD_URL": "http://localhost:3001",
            "SNOWFLAKE_HOST": "127.0.0.1",
            "SNOWFLAKE_PORT": str(self.fakesnow.port),
            "SNOWFLAKE_PROTOCOL": "http",
            "POWERTOOLS_METRICS_NAMESPACE": "Snowwatch",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
            "POWERTOOLS_DEV": os.environ.get("POWERTOOLS_DEV", "false"),
            "BUILD_VERSION": os.environ.get("BUILD_VERSION", "local"),
        }

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    @staticmethod
    def _clear_settings_cache() -> None:
        # imported once the stack has set the environment (settings and Powertools read it)
        from snowwatch.db.connection import close_connection
        from snowwatch.settings import get_settings

        get_settings.cache_clear()
        close_connection()

    def write_state(self) -> None:
        """So `snowwatch jobs run` and `snowwatch token` can find the running stack."""
        state = {"env": self.env(), "connector_id": str(self.connector_id)}
        (services.STATE_DIR / "stack.json").write_text(json.dumps(state, indent=2))

    # ------------------------------------------------------------ data
    def seed_tenants(self) -> None:
        """The demo org (admin, member, one connector) and a second org to prove isolation."""
        # imported once the stack has set the environment (settings and Powertools read it)
        from snowwatch.db import get_connection
        from snowwatch.models.users import Claims
        from snowwatch.repositories import users
        from snowwatch.services import connectors as connectors_service
        from snowwatch.settings import JobSettings, get_settings

        settings = get_settings(JobSettings)
        conn = get_connection(settings)
        ids = {}
        for who in (ADMIN, MEMBER, OTHER_ADMIN):
            ids[who["subject"]] = users.upsert_from_claims(conn, Claims(**who))
        for org_row, name, attr in (
            (ids["demo-admin"], "Demo account", "connector_id"),
            (ids["other-admin"], "Other org account", "other_connector_id"),
        ):
            existing = conn.run(
                "SELECT id FROM enterprise.connectors WHERE org_id = :o AND name = :n",
                o=org_row["org_id"],
                n=name,
            )
            if existing:
                setattr(self, attr, existing[0][0])
                continue
            connector_id = uuid4()
            ref = connectors_service.put_secret(
                settings, org_row["org_id"], connector_id, {"private_key": new_private_key_pem()}
            )
            conn.run(
                """INSERT INTO enterprise.connectors (id, org_id, name, account_identifier, username, role_name,
                       warehouse, secret_ref, credit_price, timezone)
                   VALUES (:id, :org, :name, 'fakesnow', 'SNOWWATCH', 'SNOWWATCH_READER', 'SNOWWATCH_WH', :ref,
                       3.00, 'UTC')""",
                id=connector_id,
                org=org_row["org_id"],
                name=name,
                ref=ref,
            )
            setattr(self, attr, connector_id)

    def seed_demo_budgets(self) -> list[str]:
        """Two budgets on the demo connector (after its first sync: warehouses are validated against it):
        the whole account, alerting the org's admins, and one warehouse with its own recipient."""
        # imported once the stack has set the environment (settings and Powertools read it)
        from snowwatch.db import get_connection
        from snowwatch.errors import ConflictError
        from snowwatch.models.budgets import BudgetIn
        from snowwatch.services import budgets
        from snowwatch.services import connectors as connectors_service
        from snowwatch.settings import JobSettings, get_settings

        settings = get_settings(JobSettings)
        conn = get_connection(settings)
        assert self.connector_id is not None
        connector = connectors_service.load(conn, self.connector_id)
        created = []
        for body in (
            BudgetIn(name="Account, monthly", period="monthly", amount=20000,
                     thresholds=[{"value": 50}, {"value": 80}, {"value": 100, "basis": "forecast"}]),
            BudgetIn(name="Ad-hoc warehouse, monthly", scope_type="warehouses", warehouses=["ADHOC_WH"],
                     period="monthly", amount=1500, thresholds=[{"value": 50}, {"value": 100}],
                     alert_emails=["adhoc-owner@example.com"]),
        ):  # fmt: skip
            try:
                created.append(budgets.create(conn, connector, body, settings).name)
            except ConflictError:
                continue
        return created

    def token(self, who: dict[str, str] | None = None, ttl_seconds: int = 86400 * 7) -> str:
        # imported once the stack has set the environment (settings and Powertools read it)
        from snowwatch.models.users import Claims
        from snowwatch.services.auth import issue_dev_token
        from snowwatch.settings import AuthSettings, get_settings

        return issue_dev_token(get_settings(AuthSettings), Claims(**(who or ADMIN)), ttl_seconds)

    def register_local_handlers(self) -> None:
        """Locally, each job's Lambda function is its real handler, run in-process."""
        # imported once the stack has set the environment (settings and Powertools read it)
        from snowwatch.schedules import JOBS
        from snowwatch.services.dispatch import register_local

        for job in JOBS:
            register_local(job, self.local_function(job))

    @staticmethod
    def local_function(job: str) -> Any:
        """What plays the job's Lambda function: its real handler with a fake context."""
        # imported once the stack has set the environment (settings and Powertools read it)
        from snowwatch_local.handlers import load

        handler = load(job).lambda_handler
        return lambda event, _context=None: handler(event, FakeLambdaContext(job))

    def pump_jobs(self, jobs: tuple[str, ...] | None = None) -> int:
        """The job queues' event source mappings, once: deliver what is queued to each job's handler
        (dispatch mode `sqs`, as in AWS) until the queues look empty; how many messages were handled."""
        # imported once the stack has set the environment (settings and Powertools read it)
        from snowwatch.schedules import JOBS
        from snowwatch_local.sqs import pump_once

        assert self.moto is not None
        handled = 0
        for _ in range(10):  # a run may queue more work (fan-out, continuations)
            round_ = sum(
                pump_once(self.moto.job_queue_urls[job], self.local_function(job), batch_size=1)
                for job in (jobs or JOBS)
            )
            handled += round_
            if not round_:
                break
        return handled

    def run_job(self, job: str, **payload: Any) -> Any:
        """Run a job through its real handler, synchronously."""
        # imported once the stack has set the environment (settings and Powertools read it)
        from snowwatch_local.handlers import load

        return load(job).lambda_handler(json.loads(json.dumps(payload, default=str)), FakeLambdaContext(job))


class FakeLambdaContext:
    """The parts of a Lambda context that Powertools reads."""

    def __init__(self, name: str) -> None:
        self.function_name = f"snowwatch-{name}"
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:snowwatch-{name}"
        self.aws_request_id = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000
