"""Bulk loading of Arrow tables: the CSV written by pyarrow.csv, column by column, into :mod:`db.bulk`'s COPY.

Same statements as :func:`snowwatch.db.bulk.upsert` (straight COPY for a first load or a fresh backfill range,
else the temp-table upsert); only the CSV comes from Arrow instead of Python rows. Nulls are written as ``\\N``
and every string is quoted (pyarrow's "needed" style), so an empty string stays empty and ``\\N`` text stays text.
The caller gives rows unique on the key (the statements it reads deduplicate).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from uuid import UUID

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from snowwatch.db import Connection
from snowwatch.db.bulk import CHUNK_ROWS, NULL, copy_upsert

_OPTIONS = pa_csv.WriteOptions(include_header=False, null_string=NULL, quoting_style="needed")


def csv_chunks(data: pa.Table, chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """CSV for COPY ... WITH (FORMAT csv, NULL '\\N'), a chunk at a time."""
    for start in range(0, data.num_rows, chunk_rows):
        sink = io.BytesIO()
        pa_csv.write_csv(data.slice(start, chunk_rows), sink, _OPTIONS)
        yield sink.getvalue()


def upsert_table(
    conn: Connection,
    table: str,
    tenant: tuple[str, UUID],
    data: pa.Table,
    key: Sequence[str],
    fresh_range: str | None = None,
) -> int:
    """:func:`snowwatch.db.bulk.upsert` of an Arrow table (its columns, in order) with the tenant column first."""
    if not data.num_rows:
        return 0
    data = data.add_column(0, tenant[0], pa.array([str(tenant[1])] * data.num_rows, pa.string()))
    span = None
    if fresh_range is not None and data.column(fresh_range).null_count == 0:
        bounds = pc.min_max(data.column(fresh_range))
        span = (bounds["min"].as_py(), bounds["max"].as_py())
    return copy_upsert(
        conn, table, data.column_names, key, lambda: csv_chunks(data), data.num_rows, {tenant[1]},
        fresh_range=fresh_range, span=span,
    )  # fmt: skip
