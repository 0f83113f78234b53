"""Property tests of the statement guard (hypothesis): generated writes are refused, generated reads pass.

Writes are hidden the ways a scanner gets wrong: after a read behind every kind of separator and comment,
inside a CTE, as a function call in a read (SYSTEM$ however cased or quoted, IDENTIFIER, NEXTVAL, a
procedure behind TABLE()), with random keyword case. Reads carry write text where it is inert: string
literals, $$ strings, quoted identifiers and comments.
"""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snowwatch.errors import ReadOnlyViolationError
from snowwatch.snowflake import guard

PROPERTY = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

VIEWS = [
    "SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY",
    "SNOWFLAKE.ACCOUNT_USAGE.WAREHOUSE_METERING_HISTORY",
    "SNOWFLAKE.ACCOUNT_USAGE.LOGIN_HISTORY",
    "SNOWFLAKE.ACCOUNT_USAGE.USERS",
    "snowflake.account_usage.grants_to_roles",
    '"SNOWFLAKE"."ACCOUNT_USAGE"."ACCESS_HISTORY"',
    "SNOWFLAKE.ORGANIZATION_USAGE.USAGE_IN_CURRENCY_DAILY",
    "INFORMATION_SCHEMA.TABLES",
    "SNOWFLAKE.INFORMATION_SCHEMA.VIEWS",
]
COLUMNS = ["QUERY_ID", "USER_NAME", "START_TIME", "credits_used", "NAME", '"DELETE"', '"DROP TABLE t; --"']

WRITES = [
    "INSERT INTO t VALUES (1)",
    "INSERT OVERWRITE INTO t SELECT 1",
    "UPDATE t SET a = 1",
    "DELETE FROM t",
    "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE",
    "TRUNCATE TABLE t",
    "CREATE TABLE t (a INT)",
    "CREATE OR REPLACE TEMPORARY STAGE s",
    "CREATE USER u PASSWORD = 'x'",
    "DROP DATABASE d",
    "UNDROP TABLE t",
    "ALTER WAREHOUSE w SUSPEND",
    "ALTER WAREHOUSE w SET WAREHOUSE_SIZE = 'X6LARGE'",
    "ALTER USER u SET DISABLED = TRUE",
    "ALTER ACCOUNT SET NETWORK_POLICY = p",
    "GRANT ROLE ACCOUNTADMIN TO USER u",
    "REVOKE ROLE r FROM USER u",
    "CALL p()",
    "CALL SYSTEM$WAIT(1)",
    "PUT file:///tmp/x @s",
    "GET @s file:///tmp",
    "COPY INTO @s FROM t",
    "COPY INTO t FROM @s",
    "REMOVE @s",
    "EXECUTE IMMEDIATE 'DROP TABLE t'",
    "EXECUTE TASK tk",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "USE ROLE ACCOUNTADMIN",
    "USE SECONDARY ROLES ALL",
    "USE WAREHOUSE w",
    "USE DATABASE d",
    "ALTER SESSION SET MULTI_STATEMENT_COUNT = 0",
    "ALTER SESSION SET QUERY_TAG = 'x'",
    "ALTER SESSION UNSET QUERY_TAG",
    "SET x = 1",
    "UNSET x",
    "WITH p AS PROCEDURE () RETURNS INT LANGUAGE SQL AS $$ BEGIN RETURN 1; END $$ CALL p()",
]
# Expressions that act on the account or run code when a read evaluates them.
ACTIONS = [
    "{sys}CANCEL_ALL_QUERIES(1)",
    "{sys}ABORT_SESSION(1)",
    "{sys}CANCEL_QUERY('01a')",
    "{sys}WAIT(10)",
    "{sys}CLUSTERING_INFORMATION('t')",
    "seq.{nextval}",
    "db.s.seq.{nextval}",
]
TABLE_TRICKS = [
    "TABLE(some_procedure())",
    "TABLE(db.s.some_procedure(1))",
    "TABLE(RESULT_SCAN(LAST_QUERY_ID()))",
    "IDENTIFIER('db.s.t')",
    "@stage",
    "db.s.t",
    "t",
    '"snowflake"."account_usage"."users"',
]
# Between a read and a second statement: every way to end a statement or a comment.
SEPARATORS = [";", " ; ", ";\n", "\n;", "; -- c\n", " -- c\r;", " // c\r\n;", " /* c */ ;", "/* ; */;", "\t;\t"]


def _cased(word: str) -> st.SearchStrategy[str]:
    """``word`` with each letter upper- or lower-cased at random."""
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda flips: "".join(c.upper() if up else c.lower() for c, up in zip(word, flips, strict=True))
    )


def _quoted_or_not(word: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(word, word.map(lambda w: f'"{w}"'))


# Any text but control, format and Unicode space characters (the guard refuses those anywhere).
_visible = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zs", "Zl", "Zp"))
inert_text = st.one_of(st.sampled_from(WRITES), st.text(st.one_of(_visible, st.just(" ")), min_size=1, max_size=30))


# Each container escapes its own quote, and every ``%`` as ``%%`` (the connector binds pyformat-style).
def _literal(text: str) -> str:
    return "'" + text.replace("%", "%%").replace("\\", "\\\\").replace("'", "''") + "'"


def _dollar_literal(text: str) -> str:
    return "$$" + text.replace("%", "%%").replace("$", "") + "$$"


def _quoted_identifier(text: str) -> str:
    return '"' + text.replace("%", "%%").replace('"', '""') + '"'


def _line_comment(text: str) -> str:
    return "-- " + text.replace("%", "%%").replace("\r", " ").replace("\n", " ") + "\n"


def _block_comment(text: str) -> str:
    return "/* " + text.replace("%", "%%").replace("*/", "* /") + " */"


def _nameable(text: str) -> bool:
    """Quoted names that spell a refused function stay refused, however quoted (by design)."""
    return not any(word in text.upper() for word in ("SYSTEM$", "NEXTVAL", "IDENTIFIER", "PROCEDURE"))


@st.composite
def read_bodies(draw: st.DrawFn) -> str:
    """One SELECT over the allowed schemas, with write text inside literals, quoted aliases and comments."""
    select = draw(_cased("select"))
    columns = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=3))
    literal = draw(st.sampled_from([_literal, _dollar_literal]))(draw(inert_text))
    alias = _quoted_identifier(draw(inert_text.filter(_nameable)))
    comment = draw(st.sampled_from([_line_comment, _block_comment]))(draw(inert_text))
    view = draw(st.sampled_from(VIEWS))
    condition = f" WHERE {columns[0]} = {_literal(draw(inert_text))}"
    where = draw(st.sampled_from(["", condition, " WHERE START_TIME >= %(since)s"]))
    sql = f"{select} {', '.join(columns)}, {literal} AS {alias} {comment} FROM {view}{where}"
    shape = draw(st.sampled_from(["plain", "cte", "union", "subquery"]))
    if shape == "cte":
        sql = f"WITH x AS ({sql}) SELECT * FROM x"
    elif shape == "union":
        sql = f"{sql} UNION ALL SELECT 1, 2 FROM {view}"
    elif shape == "subquery":
        sql = f"SELECT * FROM ({sql}) q"
    return sql


def reads() -> st.SearchStrategy[str]:
    endings = st.sampled_from(["", ";", " ;\n", " -- done\n", " /* done */", "; -- done"])
    return st.tuples(read_bodies(), endings).map("".join)


@st.composite
def writes(draw: st.DrawFn) -> str:
    """A statement that writes, changes the session, runs code, reads elsewhere or hides a second statement."""
    read = draw(read_bodies())
    write = draw(st.sampled_from(WRITES).flatmap(lambda w: st.one_of(st.just(w), _cased(w))))
    shape = draw(st.sampled_from(["alone", "after a read", "in a cte", "action", "table trick"]))
    if shape == "alone":
        return draw(st.sampled_from(["", "/* c */ ", "-- c\n"])) + write
    if shape == "after a read":
        return read + draw(st.sampled_from(SEPARATORS)) + write
    if shape == "in a cte":
        return f"WITH x AS (SELECT 1 AS a FROM {draw(st.sampled_from(VIEWS))}) {write}"
    view = draw(st.sampled_from(VIEWS))
    if shape == "action":
        template = draw(st.sampled_from(ACTIONS))
        action = template.format(sys=draw(_cased("system$")), nextval=draw(_quoted_or_not(_cased("nextval"))))
        if template.startswith("{sys}"):
            name, args = action.split("(", 1)
            action = draw(st.sampled_from([action, f'"{name}"({args}', f"IDENTIFIER('{name}')({args}"]))
        where = draw(st.sampled_from(["SELECT {a} FROM {v}", "SELECT NAME FROM {v} WHERE {a} IS NOT NULL"]))
        return where.format(a=action, v=view)
    trick = draw(st.sampled_from(TABLE_TRICKS))
    return draw(st.sampled_from([f"SELECT * FROM {trick}", f"SELECT 1 FROM {view} JOIN {trick} ON TRUE"]))


@PROPERTY
@given(reads())
def test_generated_reads_pass(sql: str) -> None:
    """Given a read of the allowed schemas with write text only in literals, quoted names and comments,
    when checked, then it passes as a SELECT."""
    assert guard.check(sql) == "SELECT"


@PROPERTY
@given(writes())
def test_generated_writes_are_refused(sql: str) -> None:
    """Given a generated statement containing a live write, session change, SYSTEM$ call, NEXTVAL,
    procedure, foreign object or second statement, when checked, then it is refused."""
    try:
        guard.check(sql)
    except ReadOnlyViolationError:
        return
    raise AssertionError(f"let through: {sql!r}")


@PROPERTY
@given(st.text(max_size=200))
def test_any_text_is_refused_or_allowed_never_crashes(sql: str) -> None:
    """Given arbitrary text (any Unicode), when checked, then the guard answers or raises
    ReadOnlyViolationError, never anything else."""
    with contextlib.suppress(ReadOnlyViolationError):
        guard.check(sql)
