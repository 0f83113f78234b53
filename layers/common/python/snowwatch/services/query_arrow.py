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

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

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


# The converter of each query view read as Arrow (services/sync.py).
CONVERTERS = {"QUERY_HISTORY": load_table, "QUERY_ATTRIBUTION_HISTORY": attribution_table}
