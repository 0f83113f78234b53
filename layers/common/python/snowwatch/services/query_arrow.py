"""The query views' Arrow result batches as load-ready Arrow tables: no Python object per row.

QUERY_ATTRIBUTION_HISTORY (``attribution_table``): its columns renamed and selected in ``rows.QueryAttributionRow``'s
order, timestamps as UTC microseconds, rows without a start time dropped (as the dict rows are: the same stored
values). QUERY_HISTORY (``load_table``):

The same row the dict path builds (``sync._query_row``: ``rows.QueryRow`` from the source row and
``attribution.enrich``), column by column:

- columns renamed to the load columns (``rows.QueryRow``'s fields, lower case) and selected in that order;
- timestamps as UTC microseconds; rows without a start time (or fakesnow's NULL-as-epoch) are dropped, as
  the window loop drops them;
- QUERY_TEXT cut to 10,000 characters (the statement cuts it already; a second cut costs nothing);
- ``tag_key`` computed once per distinct QUERY_TAG (the dictionary of the column) with
  ``attribution.tag_key``; ``dbt_model`` with ``attribution.dbt_model`` only on the rows that can have one
  (a ``{`` in the tag, a DBT_COMMENT, or ``/*`` in the text; every other row's model is None by the parser's
  own rules), so the parsing is the dict path's, to the character.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from snowwatch.db import arrow_copy
from snowwatch.services import attribution
from snowwatch.snowflake import rows

MAX_TEXT = 10_000
COLUMNS: tuple[str, ...] = rows.QueryRow._fields
DERIVED = ("tag_key", "dbt_model")
TIMESTAMP = pa.timestamp("us", tz="UTC")
EPOCH = pa.scalar(datetime(1970, 1, 1, tzinfo=UTC), TIMESTAMP)


def _utc(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A timestamp column as UTC microseconds (naive values are UTC: the session's TIMEZONE)."""
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        return column.cast(pa.timestamp("us", tz=column.type.tz)).cast(TIMESTAMP)
    return column.cast(TIMESTAMP)


def _tag_keys(tags: pa.ChunkedArray) -> pa.Array:
    encoded = pc.dictionary_encode(tags.combine_chunks())
    keys = pa.array([attribution.tag_key(t) for t in encoded.dictionary.to_pylist()], pa.string())
    return pc.take(keys, encoded.indices)


def _dbt_models(tags: pa.ChunkedArray, comments: pa.ChunkedArray, texts: pa.ChunkedArray) -> pa.Array:
    maybe = pc.or_kleene(
        pc.or_kleene(pc.match_substring(tags, "{"), pc.greater(pc.utf8_length(comments), 0)),
        pc.match_substring(texts, "/*"),
    )
    candidates = pc.indices_nonzero(pc.fill_null(maybe, False)).to_pylist()
    models: list[str | None] = [None] * len(tags)
    if candidates:
        picked = [pc.take(c, candidates).to_pylist() for c in (tags, comments, texts)]
        for i, tag, comment, text in zip(candidates, *picked, strict=True):
            models[i] = attribution.dbt_model(tag, comment, text)
    return pa.array(models, pa.string())


def _source(batch: pa.Table) -> pa.Table:
    """A result batch with upper-case names, START_TIME as UTC and the rows without one dropped (fakesnow's
    NULL-as-epoch included: rows that cannot be placed in a window)."""
    source = batch.rename_columns([name.upper() for name in batch.column_names])
    start = _utc(source.column("START_TIME"))
    keep = pc.fill_null(pc.not_equal(start, EPOCH), False)
    return source.set_column(source.schema.get_field_index("START_TIME"), "START_TIME", start).filter(keep)


def _column(source: pa.Table, name: str) -> pa.ChunkedArray:
    """The source column of load column ``name``; timestamps and dates as UTC microseconds."""
    column = source.column(name.upper())
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        return _utc(column)
    return column


def attribution_table(batch: pa.Table) -> pa.Table:
    """The load-ready table (``rows.QueryAttributionRow``'s fields in order) of one QUERY_ATTRIBUTION_HISTORY
    result batch."""
    source = _source(batch)
    return pa.table({name: _column(source, name) for name in rows.QueryAttributionRow._fields})


def load_table(batch: pa.Table) -> pa.Table:
    """The load-ready table (``COLUMNS`` in order) of one QUERY_HISTORY result batch (upper-case source names)."""
    source = _source(batch)
    texts = pc.utf8_slice_codeunits(source.column("QUERY_TEXT").cast(pa.string()), 0, MAX_TEXT)
    tags = source.column("QUERY_TAG").cast(pa.string())
    comments = source.column("DBT_COMMENT").cast(pa.string())
    out: dict[str, pa.Array | pa.ChunkedArray] = {}
    for name in COLUMNS:
        if name not in DERIVED:
            out[name] = texts if name == "query_text" else _column(source, name)
    out["tag_key"] = _tag_keys(tags) if source.num_rows else pa.array([], pa.string())
    out["dbt_model"] = _dbt_models(tags, comments, texts) if source.num_rows else pa.array([], pa.string())
    return pa.table(out)


@dataclass(frozen=True)
class Window:
    """A QUERY_HISTORY window read whole, its queries joined with its QUERY_ATTRIBUTION_HISTORY rows on (query_id,
    start_time), as a fresh window loads (repositories/cost_sync.py ``load_fresh``, decisions §42). Built where the
    window is read (the read-ahead thread: :func:`prepare`), so the join and the COPY text are not the loading thread's
    work."""

    batches: list[pa.Table]  # the window's tables as read: what the staged load takes when the window is not fresh
    copy_columns: list[str]  # the attributed queries as COPY takes them: the tenant, COLUMNS, credits, cost_method
    copy_csv: list[bytes]
    attributed: int  # how many queries the attribution covers
    unattributed: pa.Table  # COLUMNS: the queries priced by the hourly share as they load
    leftover: pa.Table | None  # the attribution rows whose query is not in the window (attribution_table's columns)
    first: datetime  # the window's earliest and latest query start
    last: datetime
    longest_ms: int | None  # its longest query (end - start, whole milliseconds up), None when none ran


def prepare(tenant: tuple[str, Any], queries: list[Any], attribution: list[Any] | None) -> list[Any]:
    """A planned window's batches as its load takes them (services/extraction.py ``prepare``): one :class:`Window`
    when they are Arrow tables holding a query, otherwise as they are."""
    tables = [*queries, *(attribution or [])]
    if not all(isinstance(t, pa.Table) for t in tables):
        return queries
    joined = window(tenant, queries, attribution)
    return queries if joined is None else [joined]


def window(
    tenant: tuple[str, Any], queries: Sequence[pa.Table], attribution: Sequence[pa.Table] | None
) -> Window | None:
    """``queries`` (``load_table``'s, a window's) joined with ``attribution`` (``attribution_table``'s, the same
    window's; None: not read), the attributed ones as COPY text with ``tenant`` (column, value) first; None when the
    window holds no query. Both sides keep the source's order."""
    if not queries or not sum(t.num_rows for t in queries):
        return None
    q = pa.concat_tables(queries, promote_options="default")
    a = pa.concat_tables(attribution, promote_options="default") if attribution else None
    if a is None or not a.num_rows:
        attributed, unattributed, leftover = None, q, None
    else:
        hit = _matches(q, a)  # per query: its attribution row's position (null: none)
        found = pc.is_valid(hit)
        attributed = q.filter(found)
        for name in rows.ATTRIBUTION_CREDITS:
            attributed = attributed.append_column(name, a.column(name).take(hit.filter(found)))
        attributed = attributed.append_column("cost_method", pa.repeat("attribution", attributed.num_rows))
        attributed = arrow_copy.with_tenant(attributed, tenant)
        unattributed = q.filter(pc.invert(found))
        leftover = a.filter(pc.is_null(_matches(a, q)))
    starts = pc.min_max(q.column("start_time"))
    ran = pc.subtract(q.column("end_time").cast(pa.int64()), q.column("start_time").cast(pa.int64()))  # µs
    longest = pc.max(pc.filter(ran, pc.fill_null(pc.greater(ran, 0), False))).as_py()
    return Window(
        list(queries),
        [] if attributed is None else attributed.column_names,
        [] if attributed is None else list(arrow_copy.csv_chunks(attributed)),
        0 if attributed is None else attributed.num_rows,
        unattributed,
        leftover,
        starts["min"].as_py(),
        starts["max"].as_py(),
        None if longest is None else -(-longest // 1000),
    )


def _matches(left: pa.Table, right: pa.Table) -> pa.Array:
    """For each row of ``left``, the position of the row of ``right`` with its query_id and start_time (null: none). A
    window's QUERY_IDs are unique on each side (its statements keep one row per QUERY_ID): found by QUERY_ID, then
    kept where the start times agree. (Compute functions: the deployed layer carries no Acero, decisions §28.)"""
    at = pc.index_in(left.column("query_id"), value_set=right.column("query_id").combine_chunks())
    same = pc.equal(left.column("start_time"), right.column("start_time").take(at))
    return pc.if_else(pc.fill_null(same, False), at, pa.scalar(None, at.type)).combine_chunks()


# The converter of each query view read as Arrow (services/sync.py).
CONVERTERS = {"QUERY_HISTORY": load_table, "QUERY_ATTRIBUTION_HISTORY": attribution_table}
