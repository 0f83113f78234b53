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

from pg8000.native import Connection, identifier

NULL = r"\N"
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


def upsert(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    key: Sequence[str],
    update: Sequence[str] | None = None,
) -> int:
    """COPY rows into a staging copy of ``schema.table`` and upsert them on ``key``.

    Duplicate keys inside one batch keep the last row. Returns the number of distinct rows loaded.
    Call inside :func:`snowwatch.db.transaction` when the load must be atomic with other writes.
    """
    positions = [list(columns).index(k) for k in key]
    unique = latest_by_key(rows, positions)
    if not unique:
        return 0
    target = qualified(table)
    cols = ", ".join(identifier(c) for c in columns)
    keys = ", ".join(identifier(c) for c in key)
    updates = [c for c in (update if update is not None else columns) if c not in key]
    if _first_load(conn, target, key[0], {row[positions[0]] for row in unique}):
        # Nothing of this tenant in the table yet (a first backfill): no row can conflict, so the
        # rows go straight in, without the staging pass.
        copy_rows(conn, target, columns, csv_chunks(unique))
        return len(unique)
    stage = stage_rows(conn, table, columns, csv_chunks(unique))
    conflict = "DO NOTHING"
    if updates:
        # Rows re-read unchanged (the lookback window of every sync) are left alone: no new tuple,
        # no index churn.
        sets = ", ".join(f"{identifier(c)} = EXCLUDED.{identifier(c)}" for c in updates)
        mine = ", ".join(f"{target}.{identifier(c)}" for c in updates)
        theirs = ", ".join(f"EXCLUDED.{identifier(c)}" for c in updates)
        conflict = f"DO UPDATE SET {sets} WHERE ROW({mine}) IS DISTINCT FROM ROW({theirs})"
    conn.run(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT ({keys}) {conflict}")
    conn.run(f"DROP TABLE {stage}")
    return len(unique)


def qualified(table: str) -> str:
    """``schema.table`` quoted."""
    schema, name = table.split(".")
    return f"{identifier(schema)}.{identifier(name)}"


def _copy(columns: Sequence[str]) -> str:
    cols = ", ".join(identifier(c) for c in columns)
    return f"({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"


def copy_rows(conn: Connection, target: str, columns: Sequence[str], chunks: Iterable[bytes]) -> None:
    """COPY the CSV chunks (:func:`csv_chunks`, or db/arrow_copy.py's) into ``columns`` of ``target`` (quoted: a
    :func:`qualified` table or a staging table's name)."""
    conn.run(f"COPY {target} {_copy(columns)}", stream=chunks)


def stage_rows(
    conn: Connection, table: str, columns: Sequence[str], chunks: Iterable[bytes], name: str | None = None
) -> str:
    """COPY the CSV chunks into this session's (emptied) temporary copy of ``schema.table`` (named ``_stage_<name>``,
    by default the table's name); returns its name (the caller drops it when done)."""
    stage = identifier(f"_stage_{name or table.split('.')[1]}")
    # only the loaded columns (a copy of the whole row would fill every other column's default on each staged row)
    cols = ", ".join(identifier(c) for c in columns)
    conn.run(f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {cols} FROM {qualified(table)} WITH NO DATA")
    conn.run(f"TRUNCATE {stage}")
    copy_rows(conn, stage, columns, chunks)
    return stage
