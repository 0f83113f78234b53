"""Bulk loading into Postgres: COPY into a temporary table, then one set-based upsert.

``COPY ... FROM STDIN`` is the fastest path pg8000 offers (~320k rows/s measured here, against
~3.4k rows/s for executemany). Rows are de-duplicated on the key in Python (the last row wins,
as a re-read of a late-arriving source row should), so the upsert needs no sort; upserting from
the staging table keeps re-runs idempotent.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from pg8000.exceptions import DatabaseError
from pg8000.native import Connection, identifier

NULL = r"\N"
UNIQUE_VIOLATION = "23505"
CHUNK_ROWS = 5000
_SAMPLE = 200  # rows inspected to decide which columns need more than str()


def _row_converter(sample: Sequence[Sequence[Any]]) -> Callable[[Sequence[Any]], list[Any]]:
    """csv writes str() of each value, which Postgres parses for text, numbers, dates and timestamps.
    Only None (-> \\N), JSON values and booleans need converting; find those columns once."""
    width = len(sample[0]) if sample else 0
    special = {
        i: "json" if isinstance(v, (dict, list)) else "bool"
        for row in sample
        for i, v in enumerate(row)
        if isinstance(v, (dict, list, bool))
    }
    if not special:
        return lambda row: [NULL if v is None else v for v in row]

    def convert(value: Any, kind: str | None) -> Any:
        if value is None:
            return NULL
        if kind == "json" or isinstance(value, (dict, list)):
            return json.dumps(value, default=str)
        if isinstance(value, bool):
            return "t" if value else "f"
        return value

    kinds = [special.get(i) for i in range(width)]
    return lambda row: [convert(v, k) for v, k in zip(row, kinds, strict=True)]


def csv_chunks(rows: Sequence[Sequence[Any]], chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """CSV for COPY ... WITH (FORMAT csv, NULL '\\N'), produced chunk by chunk so that Postgres
    parses one chunk while Python writes the next (two processes, two cores)."""
    convert = _row_converter(rows[:_SAMPLE])
    for start in range(0, len(rows), chunk_rows):
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(map(convert, rows[start : start + chunk_rows]))
        yield text.getvalue().encode()


def to_csv(rows: Iterable[Sequence[Any]]) -> io.BytesIO:
    """The whole CSV in memory (for tools that want a file, e.g. the loader benchmark's psql \\copy)."""
    return io.BytesIO(b"".join(csv_chunks(rows if isinstance(rows, list) else list(rows))))


def latest_by_key(rows: Iterable[Sequence[Any]], key_positions: Sequence[int]) -> list[Sequence[Any]]:
    """One row per key, the last one seen (sources like QUERY_HISTORY can repeat rows)."""
    if len(key_positions) == 1:
        (k,) = key_positions
        return list({row[k]: row for row in rows}.values())
    return list({tuple(row[i] for i in key_positions): row for row in rows}.values())


def _first_load(conn: Connection, target: str, column: str, values: set[Any]) -> bool:
    """True when every row shares one value of the key's leading column (the connector) and the
    table holds no row with it yet."""
    if len(values) != 1:
        return False
    (value,) = values
    found = conn.run(f"SELECT 1 FROM {target} WHERE {identifier(column)} = :v LIMIT 1", v=value)
    return not found


def _range_empty(
    conn: Connection, target: str, tenant: tuple[str, Any], column: str, span: tuple[Any, Any] | None
) -> bool:
    """True when the table holds no row of the tenant whose ``column`` lies within ``span`` (None: a row lacks it)."""
    if span is None:
        return False
    found = conn.run(
        f"""SELECT 1 FROM {target} WHERE {identifier(tenant[0])} = :t
            AND {identifier(column)} BETWEEN :lo AND :hi LIMIT 1""",
        t=tenant[1],
        lo=span[0],
        hi=span[1],
    )
    return not found


def _copy_fresh(conn: Connection, target: str, copy: str, stream: Callable[[], Iterable[bytes]]) -> bool:
    """COPY straight into the table under a savepoint; False (and nothing written) when a key already existed."""
    conn.run("SAVEPOINT fresh_copy")
    try:
        conn.run(f"COPY {target} {copy}", stream=stream())
    except DatabaseError as exc:
        if not (exc.args and isinstance(exc.args[0], dict) and exc.args[0].get("C") == UNIQUE_VIOLATION):
            raise
        conn.run("ROLLBACK TO SAVEPOINT fresh_copy")
        return False
    conn.run("RELEASE SAVEPOINT fresh_copy")
    return True


def upsert(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    key: Sequence[str],
    update: Sequence[str] | None = None,
    fresh_range: str | None = None,
) -> int:
    """COPY rows into a staging copy of ``schema.table`` and upsert them on ``key``.

    Duplicate keys inside one batch keep the last row. Returns the number of distinct rows loaded.
    Call inside :func:`snowwatch.db.transaction` when the load must be atomic with other writes.

    ``fresh_range`` (a time column, e.g. start_time; only inside a transaction): when the tenant has no row in
    the batch's range of that column (a backfill window), the rows are COPied straight into the table, under a
    savepoint that falls back to the upsert if a key existed after all.
    """
    positions = [list(columns).index(k) for k in key]
    unique = latest_by_key(rows, positions)
    if not unique:
        return 0
    span = None
    if fresh_range is not None:
        at = list(columns).index(fresh_range)
        values = [row[at] for row in unique if row[at] is not None]
        span = (min(values), max(values)) if len(values) == len(unique) else None
    return copy_upsert(
        conn, table, columns, key, lambda: csv_chunks(unique), len(unique), {row[positions[0]] for row in unique},
        update=update, fresh_range=fresh_range, span=span,
    )  # fmt: skip


def copy_upsert(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    key: Sequence[str],
    stream: Callable[[], Iterable[bytes]],
    count: int,
    tenants: set[Any],
    *,
    update: Sequence[str] | None = None,
    fresh_range: str | None = None,
    span: tuple[Any, Any] | None = None,
) -> int:
    """:func:`upsert` of ``count`` rows, unique on ``key``, given as CSV chunks (``stream()``, called once per COPY;
    ``tenants``: the key's leading column's values; ``span``: the rows' range of ``fresh_range``)."""
    schema, name = table.split(".")
    target = f"{identifier(schema)}.{identifier(name)}"
    stage = identifier(f"_stage_{name}")
    cols = ", ".join(identifier(c) for c in columns)
    keys = ", ".join(identifier(c) for c in key)
    updates = [c for c in (update if update is not None else columns) if c not in key]
    if not count:
        return 0
    copy = f"({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    if _first_load(conn, target, key[0], tenants):
        # Nothing of this tenant in the table yet (a first backfill): no row can conflict, so the
        # rows go straight in, without the staging pass.
        conn.run(f"COPY {target} {copy}", stream=stream())
        return count
    if (
        fresh_range is not None
        and len(tenants) == 1
        and _range_empty(conn, target, (key[0], next(iter(tenants))), fresh_range, span)
        and _copy_fresh(conn, target, copy, stream)
    ):
        return count
    conn.run(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {target} INCLUDING DEFAULTS)")
    conn.run(f"TRUNCATE {stage}")
    conn.run(f"COPY {stage} {copy}", stream=stream())
    conflict = "DO NOTHING"
    if updates:
        # Rows re-read unchanged (the lookback window of every sync) are left alone: no new tuple,
        # no index churn.
        sets = ", ".join(f"{identifier(c)} = EXCLUDED.{identifier(c)}" for c in updates)
        mine = ", ".join(f"{target}.{identifier(c)}" for c in updates)
        theirs = ", ".join(f"EXCLUDED.{identifier(c)}" for c in updates)
        conflict = f"DO UPDATE SET {sets} WHERE ROW({mine}) IS DISTINCT FROM ROW({theirs})"
    conn.run(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT ({keys}) {conflict}")
    conn.run(f"DROP TABLE IF EXISTS {stage}")
    return count
