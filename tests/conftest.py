"""Shared fixtures.

`stack` is the whole local system (real Postgres in a throwaway database, a moto server, a
fakesnow server with the synthetic account), started once per test session. `api` calls the API
through the local API Gateway emulation (authorizer, proxy event, stage cache).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from snowwatch_local.gateway import Answer, Gateway
from snowwatch_local.stack import ADMIN, MEMBER, OTHER_ADMIN, LocalStack


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    name = f"snowwatch_test_{os.getpid()}"
    local = LocalStack(database=name, fresh_database=True, size="tiny", dispatch_mode="inline")
    local.start()
    try:
        yield local
    finally:
        local.stop()
        from snowwatch_local.services import drop_database

        drop_database(name)


class Api:
    """The API as a client sees it (through the gateway emulation), with a token per persona."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.gateway = Gateway()
        self.tokens = {
            "admin": stack.token(ADMIN),
            "member": stack.token(MEMBER),
            "other": stack.token(OTHER_ADMIN),
        }

    def call(
        self,
        method: str,
        path: str,
        *,
        as_: str | None = "admin",
        query: dict[str, Any] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        import json

        hdrs = dict(headers or {})
        if as_ is not None:
            hdrs["Authorization"] = f"Bearer {self.tokens[as_]}"
        q = {k: (v if isinstance(v, list) else [str(v)]) for k, v in (query or {}).items()}
        body = None if json_body is None else json.dumps(json_body)
        if body is not None and not any(k.lower() == "content-type" for k in hdrs):
            hdrs["Content-Type"] = "application/json"
        return self.gateway.handle(method, path, hdrs, q, body)

    def get(self, path: str, **kw: Any) -> Answer:
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Answer:
        return self.call("POST", path, **kw)


@pytest.fixture(scope="session")
def api(stack: LocalStack) -> Api:
    return Api(stack)


@pytest.fixture(scope="session")
def server(stack: LocalStack) -> Iterator[str]:
    """The local API (and dashboard) over real HTTP on a free port; yields its base URL."""
    from snowwatch_local.server import LocalServer

    local = LocalServer(port=0).start()
    try:
        yield local.url
    finally:
        local.stop()


COUNTS: dict[str, int] = {}


def count(name: str, n: int = 1) -> None:
    """Tally cases of generated suites (authorization matrix, schemathesis); printed at the end."""
    COUNTS[name] = COUNTS.get(name, 0) + n


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for name, n in sorted(COUNTS.items()):
        terminalreporter.write_line(f"{name}: {n} cases")


@pytest.fixture(scope="session")
def connector_id(stack: LocalStack) -> str:
    return str(stack.connector_id)


@pytest.fixture(scope="session")
def other_connector_id(stack: LocalStack) -> str:
    return str(stack.other_connector_id)


# ---------------------------------------------------------------- shared by integration and e2e tests
class _LiveConnection:
    """The real Postgres connection the functions use (thread-local, autocommit), looked up on every use: a
    test that kills or discards the connection leaves the next one a fresh connection, as in a function."""

    def __getattr__(self, name: str) -> Any:
        from snowwatch.db import get_connection
        from snowwatch.settings import DatabaseSettings, get_settings

        return getattr(get_connection(get_settings(DatabaseSettings)), name)


@pytest.fixture(scope="session")
def db(stack: LocalStack) -> Any:
    return _LiveConnection()


@pytest.fixture
def job_settings(stack: LocalStack) -> Any:
    """Job settings without a notify queue: tests read the outbox rows (the e2e tests cover publishing)."""
    from snowwatch.settings import JobSettings, get_settings

    return get_settings(JobSettings).model_copy(update={"notify_queue_url": None})


@contextlib.contextmanager
def env_override(values: dict[str, str]) -> Iterator[None]:
    """Environment variables for the block, with every settings cache rebuilt on the way in and out."""
    from snowwatch.settings import get_settings

    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()


def role_url(stack: LocalStack, role: str) -> str:
    """The stack's database as one function family's Postgres role (migration 0320; trust auth locally)."""
    from urllib.parse import urlparse, urlunparse

    parsed = urlparse(stack.database_url)
    return urlunparse(parsed._replace(netloc=f"{role}@{parsed.hostname or '127.0.0.1'}:{parsed.port or 5432}"))


@pytest.fixture
def lone_connector(stack: LocalStack, db: Any) -> Iterator[Any]:
    """A connector of the demo org with no Snowflake behind it, for hand-made table contents."""
    from snowwatch.db import query_one
    from snowwatch.models.connectors import Connector

    cid = uuid.UUID(int=secrets.randbits(128))
    db.run(
        """INSERT INTO enterprise.connectors (id, org_id, name, account_identifier, username, warehouse, secret_ref)
           SELECT :id, org_id, :name, 'lone', 'U', 'W', 'arn:none' FROM enterprise.connectors WHERE id = :demo""",
        id=cid, name=f"lone-{cid.hex[:8]}", demo=stack.connector_id,
    )  # fmt: skip
    try:
        yield Connector.model_validate(query_one(db, "SELECT * FROM enterprise.connectors WHERE id = :c", c=cid))
    finally:
        db.run("DELETE FROM enterprise.connectors WHERE id = :c", c=cid)
