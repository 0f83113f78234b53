"""The statement guard: nothing but one read of the allowed schemas ever reaches a customer's account."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from snowwatch.errors import ReadOnlyViolationError
from snowwatch.snowflake import guard, queries
from snowwatch.snowflake.client import SnowflakeSession

READS = [
    "SELECT 1",
    "select * from snowflake.account_usage.query_history where start_time >= %(since)s",
    "SELECT 1;",
    "SELECT 1 ; -- trailing comment",
    "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
    "WITH x AS (SELECT 1 AS a), y AS (SELECT a FROM x) SELECT * FROM (SELECT a FROM y) q",
    "SELECT * FROM (WITH x AS (SELECT 1 AS a) SELECT a FROM x) q",
    "SELECT TRANSFORM([1, 2], x -> x + 1)",
    "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r",
    "SELECT 1 UNION ALL SELECT 2",
    "(SELECT NAME FROM SNOWFLAKE.ACCOUNT_USAGE.USERS) EXCEPT (SELECT NAME FROM SNOWFLAKE.ACCOUNT_USAGE.USERS)",
    "SHOW WAREHOUSES",
    "SHOW WAREHOUSES LIKE 'SNOW%' IN ACCOUNT",
    "DESCRIBE TABLE SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY",
    "desc view snowflake.account_usage.users",
    "SELECT 'a; DROP TABLE t' AS s",
    "SELECT 'it''s; DELETE FROM t' AS s",
    "SELECT 'back\\'slash; DELETE FROM t' AS s",
    "SELECT $$ ; INSERT INTO t VALUES (1) $$ AS s",
    'SELECT "DELETE" FROM SNOWFLAKE.ACCOUNT_USAGE.USERS',
    'SELECT "we ""quote""; drop" FROM SNOWFLAKE.ACCOUNT_USAGE.USERS',
    "SELECT QUERY_TYPE FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY WHERE QUERY_TYPE IN ('GRANT', 'REVOKE', 'CREATE')",
    "SELECT REPLACE(QUERY_TEXT, 'a', 'b'), GET(v, 'k'), DELETED, CREATED FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY",
    "/* leading */ SELECT 1",
    "SELECT QUERY_TEXT FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY WHERE QUERY_TEXT ILIKE '%%SYSTEM$CANCEL%%'",
    "SELECT USAGE_DATE FROM SNOWFLAKE.ORGANIZATION_USAGE.USAGE_IN_CURRENCY_DAILY WHERE USAGE_DATE >= %(since)s",
    'SELECT * FROM "SNOWFLAKE"."ACCOUNT_USAGE"."USERS"',
    "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES",
    "SELECT TABLE_NAME FROM SNOWFLAKE.INFORMATION_SCHEMA.VIEWS",
    "SELECT * FROM TABLE(SNOWFLAKE.INFORMATION_SCHEMA.WAREHOUSE_METERING_HISTORY(DATEADD('day', -1, CURRENT_DATE())))",
    "SELECT f.value FROM SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY, LATERAL FLATTEN(input => BASE_OBJECTS_ACCESSED) f",
    "SELECT f.value FROM SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY a, TABLE(FLATTEN(input => a.OBJECTS_MODIFIED)) f",
    "SELECT SEQ4() AS n FROM TABLE(GENERATOR(ROWCOUNT => 10))",
    "SELECT s.value FROM TABLE(SPLIT_TO_TABLE('a,b', ',')) s",
    "SELECT NAME FROM SNOWFLAKE.ACCOUNT_USAGE.USERS WHERE NAME = 'José Müller' -- Grüße",
    'SELECT "Größe" FROM SNOWFLAKE.ACCOUNT_USAGE.USERS',
    "SELECT QUERY_ID -- a comment ended by a bare CR\r FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY",
    "SELECT QUERY_ID FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY AT(OFFSET => -60)",
]

# Everything today's token scanner already refused stays refused.
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

# Today's guard let each of these through (issue 11, item 10) or crashed on it.
BYPASSES = [
    'SELECT "SYSTEM$CANCEL_ALL_QUERIES"(1)',
    "SELECT IDENTIFIER('SYSTEM$CANCEL_ALL_QUERIES')(1)",
    "SELECT * FROM TABLE(some_procedure())",
    "WITH p AS PROCEDURE () RETURNS VARCHAR LANGUAGE SQL AS $$ BEGIN DROP TABLE t; RETURN 'x'; END $$ SELECT 1",
    "SELECT 1 -- a comment ended by a bare CR\r; DROP TABLE t",
    "USE ROLE ACCOUNTADMIN",
    "USE SECONDARY ROLES ALL",
    "ALTER SESSION SET MULTI_STATEMENT_COUNT = 0",
    "SELECT seq.NEXTVAL",
    "SELECT é FROM SNOWFLAKE.ACCOUNT_USAGE.USERS",
]

# Reads that touch something other than the allowed schemas, and the allow-list's other edges.
OUTSIDE_THE_ALLOW_LIST = [
    # session changes the old guard allowed: the QUERY_TAG is set at connect instead
    "USE WAREHOUSE SNOWWATCH_WH",
    "USE DATABASE SNOWFLAKE",
    "ALTER SESSION SET QUERY_TAG = 'snowwatch'",
    "ALTER SESSION UNSET QUERY_TAG",
    "alter session set multi_statement_count=0",
    # objects outside SNOWFLAKE.ACCOUNT_USAGE / ORGANIZATION_USAGE / INFORMATION_SCHEMA
    "SELECT * FROM t",
    "SELECT * FROM mydb.public.t",
    "SELECT * FROM ACCOUNT_USAGE.USERS",
    'SELECT * FROM "snowflake"."account_usage"."users"',
    'SELECT * FROM mydb."information_schema".tables',
    "SELECT * FROM SNOWFLAKE.CORE.SOME_VIEW",
    "SELECT NAME FROM SNOWFLAKE.ACCOUNT_USAGE.USERS u JOIN mydb.s.t x ON u.NAME = x.NAME",
    "SELECT (SELECT MAX(a) FROM mydb.s.t) FROM SNOWFLAKE.ACCOUNT_USAGE.USERS",
    "SELECT * FROM @mystage",
    "SELECT $1 FROM @mystage/file.csv",
    "SELECT GET_PRESIGNED_URL(@st, 'f.csv')",
    "SELECT SNOWFLAKE.CORTEX.COMPLETE('model', 'prompt')",
    "SELECT mydb.s.my_udf(1)",
    "SELECT * FROM IDENTIFIER('SNOWFLAKE.ACCOUNT_USAGE.USERS')",
    "SELECT * FROM IDENTIFIER($t)",
    "SHOW GRANTS TO ROLE SYSADMIN",
    "SHOW TABLES",
    "SHOW USERS",
    "SHOW TABLES IN SCHEMA mydb.public",
    "DESCRIBE USER x",
    "DESC WAREHOUSE w",
    "DESCRIBE TABLE mydb.public.t",
    "DESCRIBE PROCEDURE SNOWFLAKE.ACCOUNT_USAGE.p()",
    # SYSTEM$ however spelled, quoted, qualified or built at run time; no read-only exceptions
    "SELECT SYSTEM$CLUSTERING_INFORMATION('t')",
    "SELECT system$cancel_all_queries(1)",
    'SELECT "system$abort_session"(1)',
    'SELECT SNOWFLAKE.ACCOUNT_USAGE."SYSTEM$X"(1)',
    "SELECT NAME FROM SNOWFLAKE.ACCOUNT_USAGE.USERS WHERE SYSTEM$ABORT_SESSION(1) = 1",
    "SELECT identifier('system$cancel_all_queries')(1)",
    # sequences and procedures
    "SELECT my_db.my_schema.seq.nextval",
    'SELECT seq."NEXTVAL"',
    "SELECT NEXTVAL(seq)",
    "SELECT * FROM TABLE(mydb.s.some_procedure())",
    "SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))",
    "SELECT * FROM some_procedure()",
    "SELECT a FROM SNOWFLAKE.ACCOUNT_USAGE.USERS, LATERAL some_procedure(a)",
    "WITH p AS PROCEDURE () RETURNS INT LANGUAGE SQL AS $$ BEGIN RETURN 1; END $$ CALL p()",
    "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
    "SELECT * INTO t FROM SNOWFLAKE.ACCOUNT_USAGE.USERS",
    "EXECUTE IMMEDIATE $$ SELECT 1 $$",
    # multi-statement and lexing tricks
    "SELECT 1 /* /* */ ; DROP TABLE t /* */",
    "SELECT 1\x00; DROP TABLE t",
    "SELECT 1 -- x\u2028; DROP TABLE t",
    "SELECT 1 -- x\x0b; DROP TABLE t",
    "SELECT 1;;",
    "SHOW WAREHOUSES ->> SELECT * FROM $1",
    "SELECT 1 FROM SNOWFLAKE.ACCOUNT_USAGE.USERS ->> DELETE FROM SNOWFLAKE.ACCOUNT_USAGE.USERS",
    "SELECT 1 /* a /* b */",
    "SELECT * FROM (WITH x AS (SELECT 1 AS a) SELECT a FROM x) q, x",
    "WITH x AS (SELECT * FROM y), y AS (SELECT 1) SELECT * FROM x",
    "SELECT 1 WHERE 'a' = '%(since)s'",
    "SELECT 1 -- %(since)s",
    "ＳＥＬＥＣＴ 1",
    "SELECT 1 ＋ 1",
    "SELECT\u00a01",
    "SELECT " + "(" * 5000 + "1" + ")" * 5000,
]


@pytest.mark.parametrize("sql", READS)
def test_reads_pass(sql: str) -> None:
    """Given one read of the allowed schemas, when checked, then the guard lets it through and names its kind."""
    assert guard.check(sql) in {"SELECT", "SHOW", "DESCRIBE"}


@pytest.mark.parametrize("sql", WRITES + BYPASSES + OUTSIDE_THE_ALLOW_LIST)
def test_everything_else_is_refused(sql: str) -> None:
    """Given a statement that writes, changes the session, calls code, reads outside the allowed schemas or
    hides a second statement, when checked, then it is refused with ReadOnlyViolationError (never a crash)."""
    with pytest.raises(ReadOnlyViolationError):
        guard.check(sql)


def _query_constants() -> list[tuple[str, str, str]]:
    """(module, name, value) of every public string constant under snowwatch.snowflake.queries."""
    found = []
    for info in pkgutil.iter_modules(queries.__path__):
        module = importlib.import_module(f"{queries.__name__}.{info.name}")
        found += [(info.name, k, v) for k, v in vars(module).items() if not k.startswith("_") and isinstance(v, str)]
    return found


def _views_the_code_reads() -> set[str]:
    return {value for _, _, value in _query_constants() if re.fullmatch(r"\w+\.\w+\.\w+", value)}


def _statements_the_code_issues() -> list[tuple[str, str]]:
    """Every SQL text under snowwatch.snowflake.queries, plus the client's show() and exists() statements.

    A constant holding whitespace is a statement; one shaped DB.SCHEMA.VIEW is a view the client probes
    with ``exists()``; ``SHOW_KIND`` is what ``show()`` runs. Anything else (column names) is no SQL.
    """
    found: list[tuple[str, str]] = []
    for module, name, value in _query_constants():
        where = f"{module}.{name}"
        if re.search(r"\s", value.strip()):
            found.append((where, value))
        elif value in _views_the_code_reads():
            found.append((f"exists({where})", f"SELECT 1 AS ok FROM {value} LIMIT 1"))
        elif name == "SHOW_KIND":
            found.append((f"show({where})", f"SHOW {value}"))
    return found


def test_every_statement_the_code_issues_passes() -> None:
    """Given every SQL constant of snowwatch.snowflake.queries (and the client's show/exists statements),
    when checked, then each passes: the allow-list admits exactly what snowwatch reads."""
    statements = _statements_the_code_issues()
    assert len(statements) >= 10  # the walk found the queries (a test that cannot fail is a defect)
    refused = []
    for where, sql in statements:
        try:
            guard.check(sql)
        except ReadOnlyViolationError as exc:
            refused.append(f"{where}: {exc.message}")
    assert refused == []


def test_the_setup_doc_names_every_view_the_code_reads() -> None:
    """Given every view under snowwatch.snowflake.queries, when docs/snowflake-setup.md is read, then each
    view is listed there (with the database role that grants it): the least-privilege setup stays whole."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "snowflake-setup.md").read_text()
    views = _views_the_code_reads()
    assert len(views) >= 10
    missing = sorted(v for v in views if f"`{v.split('.')[-1]}`" not in doc and f"`{v}`" not in doc)
    assert missing == []
    assert "SHOW WAREHOUSES" in doc


def test_refusals_say_why_without_crashing_on_odd_text() -> None:
    """Given text the parser cannot read, when checked, then the refusal is a ReadOnlyViolationError that
    says the statement could not be parsed (fail closed)."""
    with pytest.raises(ReadOnlyViolationError, match="parse"):
        guard.check("SELECT FROM WHERE (")
    with pytest.raises(ReadOnlyViolationError, match="one statement"):
        guard.check("SELECT 1; SELECT 2")
    with pytest.raises(ReadOnlyViolationError, match="SYSTEM"):
        guard.check('SELECT "SYSTEM$CANCEL_ALL_QUERIES"(1)')


def test_the_api_function_never_loads_the_parser() -> None:
    """Given the API function's handler (its layers carry no sqlglot and no connector), when imported in a
    fresh interpreter, then neither sqlglot nor the guard is loaded; the Snowflake client, imported after,
    does load them (the probe can see a load)."""
    root = Path(__file__).resolve().parents[2]
    probe = (
        "import sys, handler; seen = lambda: sorted({'sqlglot', 'snowwatch.snowflake.guard'} & set(sys.modules)); "
        "before = seen(); import snowwatch.snowflake.client; print(before, seen())"
    )
    path = os.pathsep.join([str(root / "layers/common/python"), str(root / "functions/api")])
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run([sys.executable, "-c", probe], check=False, cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[] ['snowwatch.snowflake.guard', 'sqlglot']"


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
    for sql in (
        "DELETE FROM t",
        "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
        "SELECT 1; DROP TABLE t",
        "USE ROLE ACCOUNTADMIN",
    ):
        with pytest.raises(ReadOnlyViolationError):
            session.fetch(sql)
    assert spy.executed == ["SELECT 1 AS a"]
    assert session.statements == 1
    assert session.guard.by_kind == {"SELECT": 1}


def test_show_feed_seam_answers_show_without_the_server() -> None:
    """Given a registered SHOW feed, when show() runs, then the feed answers and nothing is executed."""
    from snowwatch.snowflake import client

    spy = _Spy()
    session = SnowflakeSession(spy)
    previous = client._SHOW_FEEDS.get("WAREHOUSES")  # the local stack's feed, if this process started one
    client.register_show_feed("warehouses", lambda _s: [{"name": "WH", "size": "Small"}])
    try:
        assert session.show("WAREHOUSES") == [{"NAME": "WH", "SIZE": "Small"}]
    finally:
        client.register_show_feed("WAREHOUSES", previous)
    assert spy.executed == []
