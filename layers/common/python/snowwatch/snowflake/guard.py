"""The statement guard: one read of Snowflake's usage schemas reaches a customer's account, nothing else.

snowwatch promises never to change an account it watches. **The real guarantee is the role it logs in
with**: that role holds only SNOWFLAKE database roles (read-only views) and USAGE on its own warehouse
(docs/snowflake-setup.md), so even a statement that slipped past this guard could not write. The guard is
the second line, and it keeps snowwatch's own code honest: every statement the client executes passes
:func:`check` first, and a refusal raises :class:`snowwatch.errors.ReadOnlyViolationError` before the
connector sees the text.

It is an **allow-list over a real parse** (sqlglot, Snowflake dialect, which lexes as Snowflake does:
``--`` and ``//`` comments end at LF *or* CR, ``/* */`` does not nest, ``''`` and backslash escapes,
``$$`` strings, ``"quoted"`` identifiers). A statement passes only when all of this holds:

1. Text: no control, format or Unicode space characters other than space, tab, CR and LF (lexers may
   disagree on them); outside string literals, quoted identifiers and comments, ASCII only.
2. Exactly ONE statement (one trailing ``;`` at most; no ``->>`` flow operator, no ``/*`` inside a
   block comment) that sqlglot parses (anything it cannot parse is refused: fail closed): a SELECT
   (with WITH, set operations, subqueries), ``SHOW WAREHOUSES`` or ``DESCRIBE TABLE|VIEW``. No USE,
   ALTER SESSION, SET, CALL, EXECUTE, DML, DDL, PUT/GET/COPY, GRANT.
3. Every clause is a read clause (no INTO, FOR UPDATE, RETURNING, or a DML/DDL nested in a CTE).
4. Every object read is in ``SNOWFLAKE.ACCOUNT_USAGE``, ``SNOWFLAKE.ORGANIZATION_USAGE`` or an
   ``INFORMATION_SCHEMA`` (compared as Snowflake resolves names: unquoted upper-cased, quoted exact, so
   ``"snowflake".account_usage`` is someone else's database), or is a CTE in scope (of an enclosing
   WITH; inside a CTE, only itself and the ones before it). No stage (``@…``), no ``IDENTIFIER(…)`` (a
   name chosen at run time cannot be checked).
5. Functions: no ``SYSTEM$…`` however cased, quoted, qualified or wrapped (there is no read-only
   exception: the code uses none), no ``NEXTVAL``; a qualified function must live in an allowed schema;
   ``TABLE(…)`` and ``LATERAL`` take only FLATTEN, GENERATOR, SPLIT_TO_TABLE or a table function of an
   allowed schema (a procedure can return a table through ``TABLE()``); ``WITH … AS PROCEDURE`` never
   parses and PROCEDURE is a refused word.

Session settings are never changed by a statement: the client sets QUERY_TAG, TIMEZONE and
MULTI_STATEMENT_COUNT = 1 at connect (session parameters), so Snowflake itself also refuses a second
statement in one call.

Parameters are bound pyformat-style by the connector (``%(name)s``, ``%%``): the guard reads each
``%(name)s`` as a placeholder and ``%%`` as ``%``, and refuses a placeholder inside a literal or a
comment (the connector would splice the value there as raw text).
"""

from __future__ import annotations

import re
import unicodedata

from sqlglot import exp
from sqlglot.dialects.snowflake import Snowflake
from sqlglot.tokens import Token, TokenType

from snowwatch.errors import ReadOnlyViolationError

# (database, schema) pairs whose objects may be read; any database's INFORMATION_SCHEMA too.
ALLOWED_SCHEMAS = frozenset({("SNOWFLAKE", "ACCOUNT_USAGE"), ("SNOWFLAKE", "ORGANIZATION_USAGE")})
INFORMATION_SCHEMA = "INFORMATION_SCHEMA"
SHOW_KINDS = frozenset({"WAREHOUSES"})  # what the code shows (client.show); grows only with a need
DESCRIBE_KINDS = frozenset({"TABLE", "VIEW"})
# Unqualified table functions that only compute: FLATTEN, GENERATOR, SPLIT_TO_TABLE. RESULT_SCAN is
# not needed and reads other statements' results, so it is refused like any other name.
TABLE_FUNCTIONS = (exp.Explode, exp.Generator, exp.SplitToTable)
DENIED_PREFIX = "SYSTEM$"
DENIED_WORDS = frozenset({"NEXTVAL", "IDENTIFIER", "PROCEDURE"})

# Every node that is not an expression (functions, columns, literals, operators are checked by name)
# must be one of these read clauses.
READ_CLAUSES: tuple[type[exp.Expr], ...] = (
    exp.Select,
    exp.SetOperation,
    exp.Subquery,
    exp.With,
    exp.CTE,
    exp.From,
    exp.Join,
    exp.Where,
    exp.Group,
    exp.GroupingSets,
    exp.Cube,
    exp.Rollup,
    exp.Having,
    exp.Qualify,
    exp.Order,
    exp.Ordered,
    exp.Limit,
    exp.Offset,
    exp.Fetch,
    exp.Distinct,
    exp.Alias,
    exp.Aliases,
    exp.Table,
    exp.TableAlias,
    exp.Identifier,
    exp.Star,
    exp.Var,
    exp.Tuple,
    exp.Values,
    exp.Lateral,
    exp.TableFromRows,
    exp.Pivot,
    exp.UnpivotColumns,
    exp.TableSample,
    exp.HistoricalData,
    exp.Changes,
    exp.WindowSpec,
    exp.WithinGroup,
    exp.IgnoreNulls,
    exp.RespectNulls,
    exp.Filter,
    exp.Lambda,
    exp.Slice,
    exp.Interval,
    exp.AtTimeZone,
    exp.JSONPath,
    exp.JSONPathPart,
    exp.DataType,
    exp.DataTypeParam,
    exp.MatchRecognize,
    exp.MatchRecognizeMeasure,
    exp.Connect,
    exp.Prior,
)
_ALLOWED_NODES: tuple[type[exp.Expr], ...] = (exp.Condition, *READ_CLAUSES)

_LITERALS = frozenset(t for t in TokenType if t.name.endswith("_STRING") or t is TokenType.STRING)
_PYFORMAT = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)s|%%")
_ALLOWED_SPACE = frozenset(" \t\r\n")
_DIALECT = Snowflake()


def _refuse(reason: str) -> ReadOnlyViolationError:
    return ReadOnlyViolationError(f"refused Snowflake statement: {reason}")


def _bind_placeholders(sql: str) -> tuple[str, int]:
    """``%(name)s`` -> ``?`` and ``%%`` -> ``%``, as pyformat binding does; the number of placeholders."""
    count = 0

    def one(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) == "%%":
            return "%"
        count += 1
        return "?"

    return _PYFORMAT.sub(one, sql), count


def _check_characters(sql: str) -> None:
    for char in sql:
        if char not in _ALLOWED_SPACE and (
            unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp") or char == "\x85"
        ):
            raise _refuse(f"character U+{ord(char):04X} is not allowed")


def _check_tokens(tokens: list[Token], placeholders: int) -> list[Token]:
    """One statement; denied words and SYSTEM$ names outside literals; no stages; ASCII outside literals.

    Returns the statement's tokens without its trailing ``;`` (whose comments are inert).
    """
    body = tokens[:-1] if tokens and tokens[-1].token_type is TokenType.SEMICOLON else tokens
    if not body:
        raise _refuse("empty statement")
    if any(t.token_type is TokenType.SEMICOLON for t in body):
        raise _refuse("only one statement per call is allowed")
    if sum(t.token_type is TokenType.PLACEHOLDER for t in body) != placeholders:
        raise _refuse("a parameter placeholder sits inside a literal or a comment (or a ? was written)")
    for token in body:
        if token.token_type is TokenType.DARROW:
            raise _refuse("the ->> flow operator chains statements")
        if any("/*" in comment for comment in token.comments):
            raise _refuse("nested /* comments */ are not allowed (lexers disagree on them)")
        if token.token_type in _LITERALS:
            continue
        word = token.text.upper()
        if DENIED_PREFIX in word:
            raise _refuse("SYSTEM$ functions are not allowed")
        if word in DENIED_WORDS:
            raise _refuse(f"{word} is not allowed")
        if token.token_type is TokenType.IDENTIFIER:  # quoted: any character Snowflake accepts
            continue
        if token.token_type is TokenType.PARAMETER and token.text == "@":
            raise _refuse("stage references (@...) are not allowed")
        if not token.text.isascii():
            raise _refuse("non-ASCII text outside literals and quoted identifiers")
    return body


def _name(identifier: exp.Expr | None) -> str | None:
    """An identifier as Snowflake resolves it: unquoted upper-cased, quoted exact."""
    if identifier is None:
        return None
    if not isinstance(identifier, exp.Identifier):
        raise _refuse("object names must be plain identifiers")
    return identifier.this if identifier.quoted else identifier.this.upper()


def _allowed_schema(database: str | None, schema: str | None) -> bool:
    return schema == INFORMATION_SCHEMA or (database, schema) in ALLOWED_SCHEMAS


def _qualifier(node: exp.Expr) -> tuple[str | None, str | None]:
    """(database, schema) of ``DB.SCHEMA`` or ``SCHEMA`` in front of a qualified function."""
    if isinstance(node, exp.Identifier):
        return None, _name(node)
    if isinstance(node, exp.Dot) and isinstance(node.this, exp.Identifier):
        return _name(node.this), _name(node.expression)
    raise _refuse("a function may be qualified by DATABASE.SCHEMA at most")


def _check_table_function(node: exp.Expr | None) -> None:
    """What TABLE(...) or LATERAL may call: a computing built-in, or a table function of an allowed schema."""
    if isinstance(node, TABLE_FUNCTIONS):
        return
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func) and _allowed_schema(*_qualifier(node.this)):
        return
    raise _refuse("only FLATTEN, GENERATOR, SPLIT_TO_TABLE or a table function of an allowed schema may be a table")


def _is_cte(table: exp.Table, name: str | None) -> bool:
    """Whether an unqualified ``name`` is a CTE in scope: one of an enclosing query's WITH, and, from
    inside a CTE's own body, only that CTE or the ones defined before it."""
    child: exp.Expr = table
    node, through = table.parent, None
    while node is not None:
        with_ = node.args.get("with_")
        if isinstance(with_, exp.With):
            visible = list(with_.expressions)
            if child is with_ and through is not None:
                visible = visible[: next(i for i, cte in enumerate(visible) if cte is through) + 1]
            if any(_name(cte.args["alias"].this) == name for cte in visible):
                return True
        if isinstance(node, exp.CTE):
            through = node
        child, node = node, node.parent
    return False


def _check_table(table: exp.Table) -> None:
    if not isinstance(table.this, exp.Identifier):
        _check_table_function(table.this)  # FROM f(...) without TABLE()
        return
    database, schema, name = _name(table.args.get("catalog")), _name(table.args.get("db")), _name(table.this)
    if database is None and schema is None and _is_cte(table, name):
        return
    if not _allowed_schema(database, schema):
        raise _refuse(
            "objects outside SNOWFLAKE.ACCOUNT_USAGE, SNOWFLAKE.ORGANIZATION_USAGE and INFORMATION_SCHEMA "
            "are not allowed"
        )


def _check_node(node: exp.Expr) -> None:
    if isinstance(node, exp.DynamicIdentifier | exp.NextValueFor):
        raise _refuse(f"{type(node).__name__} is not allowed")
    if isinstance(node, exp.Table):
        _check_table(node)
    elif isinstance(node, exp.TableFromRows | exp.Lateral) and not isinstance(node.this, exp.Subquery):
        _check_table_function(node.this)
    elif (
        isinstance(node, exp.Dot)
        and isinstance(node.expression, exp.Func)
        and not _allowed_schema(*_qualifier(node.this))
    ):
        raise _refuse("functions outside the allowed schemas are not allowed")
    if not isinstance(node, _ALLOWED_NODES):
        raise _refuse(f"{type(node).__name__} is not allowed in a read")


def _kind(statement: exp.Expr) -> str:
    """The statement kind, when the top of the tree is one the allow-list admits."""
    if isinstance(statement, exp.Select | exp.SetOperation | exp.Subquery):
        return "SELECT"
    if isinstance(statement, exp.Show):
        if statement.name.upper() in SHOW_KINDS and statement.args.get("scope") is None:
            return "SHOW"
        raise _refuse(f"only SHOW {', '.join(sorted(SHOW_KINDS))} is allowed")
    if isinstance(statement, exp.Describe):
        kind = str(statement.args.get("kind") or "").upper()
        if kind in DESCRIBE_KINDS and isinstance(statement.this, exp.Table):
            return "DESCRIBE"
        raise _refuse("only DESCRIBE TABLE or VIEW is allowed")
    name = str(statement.this) if isinstance(statement, exp.Command) else type(statement).__name__
    raise _refuse(f"{name.upper()} statements are not allowed (read-only)")


def _check(sql: str) -> str:
    _check_characters(sql)
    text, placeholders = _bind_placeholders(sql)
    body = _check_tokens(_DIALECT.tokenize(text), placeholders)
    statements = [s for s in _DIALECT.parser().parse(body, text) if s is not None]
    if len(statements) != 1:
        raise _refuse("exactly one statement per call is allowed")
    statement = statements[0]
    kind = _kind(statement)
    for node in statement.walk():
        if node is not statement:
            _check_node(node)
    return kind


def check(sql: str) -> str:
    """Return the statement kind (SELECT, SHOW or DESCRIBE) if ``sql`` is one allowed read; else raise."""
    try:
        return _check(sql)
    except ReadOnlyViolationError:
        raise
    except Exception as exc:  # whatever the parser raised on text it cannot read: refused (fail closed)
        raise _refuse("the statement could not be parsed as Snowflake SQL") from exc


class StatementGuard:
    """One per Snowflake session: checks every statement and counts the ones it let through."""

    def __init__(self) -> None:
        self.statements = 0
        self.by_kind: dict[str, int] = {}

    def check(self, sql: str) -> str:
        kind = check(sql)
        self.statements += 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        return kind
