"""The statement guard: nothing but reads ever reaches a customer's Snowflake account.

Every statement the client executes passes :meth:`StatementGuard.check` first. The guard
tokenises the text the way Snowflake does (``--``, ``//`` and ``/* */`` comments, single-quoted
strings with ``''`` and backslash escapes, ``$$`` strings, double-quoted identifiers) and refuses:

- anything whose first keyword is not SELECT, WITH, SHOW, DESCRIBE/DESC, USE or ALTER SESSION;
- more than one statement in one string (``SELECT 1; DROP TABLE t``);
- a write keyword anywhere outside literals and quoted identifiers (``WITH x AS (...) INSERT ...``,
  ``SELECT ... ; DELETE``), and SYSTEM$ functions that act on the account.

A refusal raises :class:`snowwatch.errors.ReadOnlyViolationError` before the connector sees the
text. The guard also counts the statements it let through (one guard per session).
"""

from __future__ import annotations

import re

from snowwatch.errors import ReadOnlyViolationError

ALLOWED_FIRST = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "USE", "ALTER"})
# Keywords that write, run code or move data. Found outside literals => refused, whatever came first.
WRITE_KEYWORDS = frozenset(
    {
        "INSERT",
        "UPDATE",
        "DELETE",
        "MERGE",
        "TRUNCATE",
        "CREATE",
        "DROP",
        "UNDROP",
        "COPY",
        "PUT",
        "GRANT",
        "REVOKE",
        "CALL",
        "EXECUTE",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "DECLARE",
        "SET",
        "UNSET",
        "ALTER",
    }
)
# Statement-only commands (GET, REMOVE, LIST, ...) need no entry: they are refused as a first
# keyword, and a second statement is refused outright. Names that are also read functions
# (REPLACE, GET) stay usable in SELECTs.
# SYSTEM$ functions that only read.
READ_ONLY_SYSTEM_FUNCTIONS = frozenset(
    {
        "SYSTEM$CLUSTERING_INFORMATION",
        "SYSTEM$CLUSTERING_DEPTH",
        "SYSTEM$TYPEOF",
        "SYSTEM$WHITELIST",
        "SYSTEM$ALLOWLIST",
        "SYSTEM$GET_TAG",
    }
)

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def _end_of_string(sql: str, i: int) -> int:
    """Index just past the single-quoted literal opening at ``i`` ('' and backslash escapes)."""
    n = len(sql)
    i += 1
    while i < n:
        if sql[i] == "\\" or sql[i : i + 2] == "''":
            i += 2
        elif sql[i] == "'":
            return i + 1
        else:
            i += 1
    raise ReadOnlyViolationError("unterminated string literal in a Snowflake statement")


def _end_of_identifier(sql: str, i: int) -> int:
    """Index just past the double-quoted identifier opening at ``i`` ("" escapes)."""
    end = i + 1
    while True:
        end = sql.find('"', end)
        if end < 0:
            raise ReadOnlyViolationError("unterminated quoted identifier in a Snowflake statement")
        if sql[end + 1 : end + 2] == '"':
            end += 2
            continue
        return end + 1


def _end_of(sql: str, i: int, closer: str, what: str) -> int:
    end = sql.find(closer, i + 2)
    if end < 0:
        raise ReadOnlyViolationError(f"unterminated {what} in a Snowflake statement")
    return end + len(closer)


def _tokens(sql: str) -> list[str]:
    """Upper-cased words and ';' separators, outside comments, string literals and quoted identifiers.

    Literals become a ' token, quoted identifiers a " token. Unterminated comments, strings or
    identifiers are refused: the text could hide anything.
    """
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c, two = sql[i], sql[i : i + 2]
        if two in ("--", "//"):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif two == "/*":
            i = _end_of(sql, i, "*/", "comment")
        elif two == "$$":
            i = _end_of(sql, i, "$$", "$$ string")
            out.append("'")
        elif c == "'":
            i = _end_of_string(sql, i)
            out.append("'")
        elif c == '"':
            i = _end_of_identifier(sql, i)
            out.append('"')
        elif c == ";":
            out.append(";")
            i += 1
        elif c.isalpha() or c == "_":
            m = _WORD.match(sql, i)
            assert m is not None
            out.append(m.group(0).upper())
            i = m.end()
        else:
            i += 1
    return out


def check(sql: str) -> str:
    """Return the statement kind (first keyword) if ``sql`` is a single read-only statement; else raise."""
    tokens = _tokens(sql)
    # One statement: trailing ';' allowed, nothing after it.
    while tokens and tokens[-1] == ";":
        tokens.pop()
    if not tokens:
        raise ReadOnlyViolationError("empty Snowflake statement")
    if ";" in tokens:
        raise ReadOnlyViolationError("only one statement per call is allowed")
    first = tokens[0]
    if first not in ALLOWED_FIRST:
        raise ReadOnlyViolationError(f"statement kind {first} is not allowed (read-only)")
    rest = tokens[1:]
    if first == "ALTER":
        if len(rest) < 2 or rest[0] != "SESSION" or rest[1] not in ("SET", "UNSET"):
            raise ReadOnlyViolationError("only ALTER SESSION SET/UNSET is allowed")
        rest = rest[2:]
    elif first == "USE" and not rest:
        raise ReadOnlyViolationError("USE needs an object")
    for token in rest:
        if token in WRITE_KEYWORDS:
            raise ReadOnlyViolationError(f"{token} is not allowed in a read-only statement")
        if token.startswith("SYSTEM$") and token not in READ_ONLY_SYSTEM_FUNCTIONS:
            raise ReadOnlyViolationError(f"{token} is not allowed (it can act on the account)")
    return "DESCRIBE" if first == "DESC" else first


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
