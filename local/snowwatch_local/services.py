"""The local services, on embedded defaults: Postgres, a moto server and a fakesnow server.

Postgres: DATABASE_URL if set; else 127.0.0.1:5432 if it answers; else a throwaway cluster
started with pgserver under .local/ (a bundled PostgreSQL; no system install needed).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pg8000.native

from snowwatch.schedules import JOBS

ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = ROOT / ".local"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _answers(host, port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing answered on {host}:{port} within {timeout}s")


def _with_database(url: str, database: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{database}"))


_pgserver: Any = None


def postgres_server_url() -> str:
    """A URL to a Postgres server we may create databases on (path: its maintenance database)."""
    global _pgserver  # noqa: PLW0603
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if _answers("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres"
    if _pgserver is None:
        # optional: only when no Postgres answers
        import pgserver

        (STATE_DIR / "pg").mkdir(parents=True, exist_ok=True)
        _pgserver = pgserver.get_server(str(STATE_DIR / "pg"), cleanup_mode="stop")
    uri: str = _pgserver.get_uri()
    return uri.replace("postgresql+psycopg://", "postgresql://")


def _admin(url: str) -> pg8000.native.Connection:
    # after the stack has set the environment (snowwatch.db loads the Powertools logger, which reads it)
    from snowwatch.db.connection import _params_from_url

    return pg8000.native.Connection(**_params_from_url(_with_database(url, "postgres")))


def ensure_database(name: str, *, fresh: bool = False) -> str:
    """A database named ``name`` on the local server (dropped first when ``fresh``); its URL.

    With DATABASE_URL set, its own database is used as it is (unless ``fresh`` asks for a
    separate throwaway one beside it).
    """
    server = postgres_server_url()
    if os.environ.get("DATABASE_URL") and not fresh:
        return server
    admin = _admin(server)
    try:
        if fresh:
            admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = admin.run("SELECT 1 FROM pg_database WHERE datname = :n", n=name)
        if not exists:
            admin.run(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()
    return _with_database(server, name)


def drop_database(name: str) -> None:
    admin = _admin(postgres_server_url())
    try:
        admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


# ---------------------------------------------------------------- moto


@dataclass
class Moto:
    server: Any
    url: str
    notify_queue_url: str
    notify_dlq_url: str
    ses_sender: str
    job_queue_urls: dict[str, str]
    jobs_dlq_url: str

    def stop(self) -> None:
        self.server.stop()


def aws_env(url: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }


JOB_MAX_RECEIVE_COUNT = 3  # as infra/constants.py


def start_moto(port: int | None = None, ses_sender: str = "alerts@snowwatch.local") -> Moto:
    """A moto server with the notify queue (and its DLQ), one queue per job (and the jobs DLQ, as
    the CDK builds them) and a verified SES sender."""
    # moto and boto3 only when the local AWS is started
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log is noise here
    port = port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    os.environ.update(aws_env(url))
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=url)
    dlq = sqs.create_queue(QueueName="snowwatch-notify-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName="snowwatch-notify",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
        },
    )["QueueUrl"]
    jobs_dlq = sqs.create_queue(QueueName="snowwatch-jobs-dlq")["QueueUrl"]
    jobs_dlq_arn = sqs.get_queue_attributes(QueueUrl=jobs_dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": jobs_dlq_arn, "maxReceiveCount": str(JOB_MAX_RECEIVE_COUNT)})
    job_queues: dict[str, str] = {
        job: sqs.create_queue(
            QueueName=f"snowwatch-job-{job}", Attributes={"VisibilityTimeout": "30", "RedrivePolicy": redrive}
        )["QueueUrl"]
        for job in JOBS
    }
    boto3.client("ses", region_name=REGION, endpoint_url=url).verify_email_identity(EmailAddress=ses_sender)
    return Moto(server, url, queue, dlq, ses_sender, job_queues, jobs_dlq)


# ---------------------------------------------------------------- fakesnow


@dataclass
class Fakesnow:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def connect_args(self) -> dict[str, Any]:
        """What snowflake.connector.connect needs to reach this server."""
        return {"host": "127.0.0.1", "port": self.port, "protocol": "http", "account": "fakesnow"}

    def stop(self) -> None:
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        if self.process.poll() is None:
            self.process.kill()


def start_fakesnow(port: int | None = None) -> Fakesnow:
    """A fakesnow server (in-memory) that the real snowflake-connector-python logs in to."""
    port = port or free_port()
    exe = Path(sys.executable).with_name("fakesnow")
    log = (STATE_DIR / "fakesnow.log").open("ab") if STATE_DIR.exists() else subprocess.DEVNULL
    process = subprocess.Popen(
        [str(exe), "-s", "-p", str(port), "--host", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port, timeout=60)
    except TimeoutError:
        process.kill()
        raise
    return Fakesnow(process, port)


def snowflake_connection(fs: Fakesnow, **kwargs: Any) -> Any:
    """A direct connection to the fakesnow server (to seed the synthetic account)."""
    # the connector only to seed the fake account
    import snowflake.connector

    return snowflake.connector.connect(**fs.connect_args, user="seed", password="seed", **kwargs)  # noqa: S106
