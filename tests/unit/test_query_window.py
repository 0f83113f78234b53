"""A fresh QUERY_HISTORY window's queries joined with its attribution in Arrow (services/query_arrow.window,
decisions §42): on QUERY_ID and start time, without Acero (the deployed layer has none)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pyarrow as pa

from snowwatch.services import query_arrow
from snowwatch.snowflake import rows

T0 = datetime(2026, 11, 2, 5, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")
CREDITS = pa.decimal128(38, 9)
TENANT = ("connector_id", "c-1")


def _queries(*specs: tuple[str, datetime, timedelta]) -> pa.Table:
    """load_table's columns (the rest null) for (query_id, start, duration)."""
    table = {name: pa.nulls(len(specs)) for name in query_arrow.COLUMNS}
    table["query_id"] = pa.array([s[0] for s in specs], pa.string())
    table["start_time"] = pa.array([s[1] for s in specs], TS)
    table["end_time"] = pa.array([s[1] + s[2] for s in specs], TS)
    return pa.table(table)


def _attribution(*specs: tuple[str, datetime, str]) -> pa.Table:
    """attribution_table's columns (the rest null) for (query_id, start, credits)."""
    table = {name: pa.nulls(len(specs)) for name in rows.QueryAttributionRow._fields}
    table["query_id"] = pa.array([s[0] for s in specs], pa.string())
    table["start_time"] = pa.array([s[1] for s in specs], TS)
    table["credits_attributed_compute"] = pa.array([Decimal(s[2]) for s in specs], CREDITS)
    table["credits_used_query_acceleration"] = pa.array([Decimal(0)] * len(specs), CREDITS)
    return pa.table(table)


def test_queries_take_the_attribution_of_their_id_and_start() -> None:
    """Given two batches of a window's queries and its attribution rows: q1 and q3 attributed, q2 not, a row for q4
    (not in the window) and one for q5 whose QUERY_ID is in the window under another start time
    When the window is joined
    Then q1 and q3 are COPY rows with the tenant, their credits and 'attribution', in source order; q2 and q5 are
    left to the hourly share, the
    rows of q4 and of q5's other start are left over, and the window's first and last start and its longest query
    (1.0005 s: 1,001 ms, rounded up) are known."""
    queries = [
        _queries(("q1", T0, timedelta(seconds=1)), ("q2", T0 + timedelta(minutes=1), timedelta(milliseconds=1000.5))),
        _queries(
            ("q3", T0 + timedelta(minutes=2), timedelta(0)),
            ("q5", T0 + timedelta(minutes=3), timedelta(microseconds=1)),
        ),
    ]
    attribution = [
        _attribution(("q3", T0 + timedelta(minutes=2), "0.25"), ("q4", T0, "9")),
        _attribution(("q1", T0, "0.5"), ("q5", T0 + timedelta(minutes=4), "7")),
    ]

    window = query_arrow.window(TENANT, queries, attribution)

    assert window is not None
    assert window.copy_columns == ["connector_id", *query_arrow.COLUMNS, *rows.ATTRIBUTION_CREDITS, "cost_method"]
    copied = list(csv.reader(io.StringIO(b"".join(window.copy_csv).decode())))
    at = {name: window.copy_columns.index(name) for name in ("connector_id", "query_id", "cost_method")}
    assert [(r[at["connector_id"]], r[at["query_id"]], r[-3], r[at["cost_method"]]) for r in copied] == [
        ("c-1", "q1", "0.500000000", "attribution"),
        ("c-1", "q3", "0.250000000", "attribution"),
    ]
    assert window.attributed == 2
    assert window.unattributed.column_names == list(query_arrow.COLUMNS)
    assert window.unattributed.column("query_id").to_pylist() == ["q2", "q5"]
    assert window.leftover is not None
    assert window.leftover.select(["query_id", "start_time"]).to_pylist() == [
        {"query_id": "q4", "start_time": T0},
        {"query_id": "q5", "start_time": T0 + timedelta(minutes=4)},
    ]
    assert (window.first, window.last, window.longest_ms) == (T0, T0 + timedelta(minutes=3), 1001)


def test_a_window_without_attribution_or_queries() -> None:
    """Given a window whose attribution was not read, and one with no query
    When each is joined
    Then every query of the first is left to the hourly share with nothing left over; the second is no window."""
    queries = [_queries(("q1", T0, timedelta(0)))]

    window = query_arrow.window(TENANT, queries, None)

    assert window is not None and window.attributed == 0 and window.copy_csv == [] and window.leftover is None
    assert window.unattributed.column("query_id").to_pylist() == ["q1"]
    assert window.longest_ms is None
    assert query_arrow.window(TENANT, [], [_attribution(("q1", T0, "1"))]) is None
