"""The real client against the fakesnow server: session settings travel with the login, never as statements."""

from __future__ import annotations

from typing import Any

import pytest

from snowwatch.snowflake import guard
from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector

pytestmark = pytest.mark.integration


def test_session_is_set_at_connect_and_every_statement_is_one_allowed_read(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the connector library wrapped to record the login and every statement, when a full sync runs,
    then QUERY_TAG, TIMEZONE and MULTI_STATEMENT_COUNT = 1 are login session parameters (fakesnow accepts
    them), and every statement sent is one allowed read: none changes the session."""
    import snowflake.connector

    logins: list[dict[str, Any]] = []
    statements: list[str] = []
    real_connect = snowflake.connector.connect

    class Cursor:
        def __init__(self, cursor: Any) -> None:
            self._cursor = cursor

        def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
            statements.append(sql)
            return self._cursor.execute(sql, *args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._cursor, name)

    class Connection:
        def __init__(self, connection: Any) -> None:
            self._connection = connection

        def cursor(self, *args: Any, **kwargs: Any) -> Cursor:
            return Cursor(self._connection.cursor(*args, **kwargs))

        def __getattr__(self, name: str) -> Any:
            return getattr(self._connection, name)

    def connect(**kwargs: Any) -> Connection:
        logins.append(dict(kwargs["session_parameters"]))  # a copy: the connector adds its own later
        return Connection(real_connect(**kwargs))

    monkeypatch.setattr(snowflake.connector, "connect", connect)
    out = stack.run_job("sync", connector_id=new_connector(stack, "guard-session"))
    assert out["status"] == "succeeded", out
    assert len(logins) == 1
    assert logins[0] == {"QUERY_TAG": "snowwatch", "TIMEZONE": "UTC", "MULTI_STATEMENT_COUNT": 1}
    assert len(statements) == out["rows"]["statements"] > 0
    assert {guard.check(sql) for sql in statements} <= {"SELECT", "SHOW"}
