"""Arrow tables as the CSV :mod:`db.bulk`'s COPY reads: written by pyarrow.csv, column by column, with no Python
object per row. Nulls are written as ``\\N`` and every string is quoted (pyarrow's "needed" style), so an
empty string stays empty and ``\\N`` text stays text.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from uuid import UUID

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from snowwatch.db.bulk import CHUNK_ROWS, NULL

_OPTIONS = pa_csv.WriteOptions(include_header=False, null_string=NULL, quoting_style="needed")


def csv_chunks(data: pa.Table, chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """CSV for COPY ... WITH (FORMAT csv, NULL '\\N'), a chunk at a time."""
    data = _utc_text(data)
    for start in range(0, data.num_rows, chunk_rows):
        sink = io.BytesIO()
        pa_csv.write_csv(data.slice(start, chunk_rows), sink, _OPTIONS)
        yield sink.getvalue()


def with_tenant(data: pa.Table, tenant: tuple[str, UUID]) -> pa.Table:
    """The table with the tenant column (e.g. connector_id) first."""
    return data.add_column(0, tenant[0], pa.array([str(tenant[1])] * data.num_rows, pa.string()))


def _utc_text(data: pa.Table) -> pa.Table:
    """Time-zone-aware timestamp columns as UTC text with an explicit ``+00`` (Postgres reads it whatever the
    session's TimeZone). pyarrow.csv formats such a column through the time-zone database value by value: 390 ms for
    50k values, against 60 ms for this cast (two per QUERY_HISTORY row: most of a window's CSV time)."""
    for i, field in enumerate(data.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            # the cast to a naive timestamp keeps the stored UTC instant (Arrow converts nothing)
            text = pc.binary_join_element_wise(data.column(i).cast(pa.timestamp(field.type.unit)).cast(pa.string()),
                                               pa.scalar("+00"), "")  # fmt: skip
            data = data.set_column(i, field.name, text)
    return data
