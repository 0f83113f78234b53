"""The statement guard: writes must never reach a customer's Snowflake account."""

from __future__ import annotations

from typing import Any

import pytest

from snowwatch.errors import ReadOnlyViolationError
from snowwatch.snowflake import guard
from snowwatch.snowflake.client import SnowflakeSession

READS = [
    "SELECT 1",
    "select * from snowflake.account_usage.query_history where start_time >= %(since)s",
    "SELECT 1;",
    "SELECT 1 ; -- trailing comment",
    "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
    "SHOW WAREHOUSES",
    "SHOW GRANTS TO ROLE SYSADMIN",
    "DESCRIBE TABLE SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY",
    "desc view snowflake.account_usage.users",
    "USE WAREHOUSE SNOWWATCH_WH",
    "ALTER SESSION SET QUERY_TAG = 'snowwatch'",
    "ALTER SESSION UNSET QUERY_TAG",
    "SELECT 'a; DROP TABLE t' AS s",
    "SELECT 'it''s; DELETE FROM t' AS s",
    "SELECT 'back\\'slash; DELETE FROM t' AS s",
    "SELECT $$ ; INSERT INTO t VALUES (1) $$ AS s",
    'SELECT "DELETE" FROM t',
    'SELECT "we ""quote""; drop" FROM t',
    "SELECT QUERY_TYPE FROM QH WHERE QUERY_TYPE IN ('GRANT', 'REVOKE', 'CREATE')",
    "SELECT REPLACE(QUERY_TEXT, 'a', 'b'), GET(v, 'k'), DELETED, CREATED FROM t",
    "/* leading */ SELECT 1",
    "SELECT SYSTEM$CLUSTERING_INFORMATION('t')",
]

WRITES = [
    "INSERT INTO t VALUES (1)",
    "DELETE FROM t",
    "UPDATE t SET a = 1",
    "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE",
    "DROP TABLE t",
    "CREATE TABLE t AS SELECT 1",
    "create or replace temporary stage s",
    "TRUNCATE TABLE t",
    "GRANT ROLE ACCOUNTADMIN TO USER x",
    "REVOKE ROLE x FROM USER y",
    "ALTER WAREHOUSE w SET AUTO_SUSPEND = 60",
    "ALTER WAREHOUSE w SUSPEND",
    "ALTER USER x SET DISABLED = TRUE",
    "ALTER ACCOUNT SET x = 1",
    "ALTER SESSION",
    "COPY INTO @s FROM t",
    "GET @s file:///tmp",
    "PUT file:///tmp/x @s",
    "REMOVE @s",
    "CALL proc()",
    "EXECUTE IMMEDIATE 'DROP TABLE t'",
    "BEGIN DROP TABLE t; END",
    "UNDROP TABLE t",
    "SET x = 1",
    # multi-statements, hidden behind comments and literals
    "SELECT 1; DROP TABLE t",
    "SELECT 1; DROP TABLE t;",
    "SELECT 'x'; DELETE FROM t",
    "SELECT 1 /* ; */ ; DELETE FROM t",
    "SELECT 1 -- comment\n; DELETE FROM t",
    "SELECT 1 // comment\n; UPDATE t SET a = 1",
    "-- SELECT 1\nDELETE FROM t",
    "/* SELECT */ DELETE FROM t",
    "/*/ SELECT */ DELETE FROM t",
    "SHOW WAREHOUSES; ALTER WAREHOUSE w SUSPEND",
    "USE ROLE x; DROP DATABASE d",
    "ALTER SESSION SET QUERY_TAG = 'x'; DROP TABLE t",
    # CTE-wrapped and nested writes
    "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
    "WITH x AS (SELECT 1) DELETE FROM t WHERE a IN (SELECT * FROM x)",
    "with x as (select 1) merge into t using x on true when matched then update set a = 1",
    "WITH x AS (SELECT 1) UPDATE t SET a = 1",
    "with recursive r as (select 1) insert into t select * from r",
    "(INSERT INTO t VALUES (1))",
    "SELECT * FROM t; COMMIT",
    # account-acting functions
    "SELECT SYSTEM$CANCEL_ALL_QUERIES(123)",
    "SELECT SYSTEM$ABORT_SESSION(1)",
    # unterminated tricks
    "SELECT 'unterminated; DROP TABLE t",
    'SELECT "unterminated; DROP TABLE t',
    "SELECT 1 /* unterminated",
    "SELECT $$ unterminated",
    "",
    "   ;  ",
    "-- only a comment",
]


@pytest.mark.parametrize("sql", READS)
def test_reads_pass(sql: str) -> None:
    """Given a read-only statement, when checked, then the guard lets it through."""
    assert guard.check(sql) in {"SELECT", "WITH", "SHOW", "DESCRIBE", "USE", "ALTER"}


@pytest.mark.parametrize("sql", WRITES)
def test_writes_are_refused(sql: str) -> None:
    """Given a statement that writes, runs code or hides a second statement, then it is refused."""
    with pytest.raises(ReadOnlyViolationError):
        guard.check(sql)


class _Spy:
    """A connection that records what reached it."""

    def __init__(self) -> None:
        self.executed: list[str] = []

    def cursor(self, *_: Any) -> Any:
        spy = self

        class Cursor:
            def execute(self, sql: str, params: Any = None) -> None:
                spy.executed.append(sql)

            def fetchall(self) -> list[dict[str, Any]]:
                return [{"a": 1}]

            def close(self) -> None:
                pass

        return Cursor()


def test_session_refuses_before_the_connector_and_counts_statements() -> None:
    """Given a session, when a write is attempted, then the connector never sees it and only reads count."""
    spy = _Spy()
    session = SnowflakeSession(spy)
    assert session.fetch("SELECT 1 AS a") == [{"A": 1}]
    for sql in ("DELETE FROM t", "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "SELECT 1; DROP TABLE t"):
        with pytest.raises(ReadOnlyViolationError):
            session.fetch(sql)
    assert spy.executed == ["SELECT 1 AS a"]
    assert session.statements == 1


def test_show_feed_seam_answers_show_without_the_server() -> None:
    """Given a registered SHOW feed, when show() runs, then the feed answers and nothing is executed."""
    from snowwatch.snowflake.client import register_show_feed

    spy = _Spy()
    session = SnowflakeSession(spy)
    register_show_feed("warehouses", lambda _s: [{"name": "WH", "size": "Small"}])
    try:
        assert session.show("WAREHOUSES") == [{"NAME": "WH", "SIZE": "Small"}]
    finally:
        register_show_feed("WAREHOUSES", None)
    assert spy.executed == []
