"""A QUERY_HISTORY window with nothing stored in its time range is a plain INSERT; one that overlaps stored rows is
the upsert (decisions §40). Real Postgres; the loader as the sync calls it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector, pg

pytestmark = pytest.mark.integration

DAY1 = datetime(2004, 3, 9, tzinfo=UTC)  # no synthetic row is this old
QUERY_INSERT = "INSERT INTO enterprise.snowflake_query_history AS t"


def _query(query_id: str, start: datetime, text: str = "SELECT 1") -> Any:
    from snowwatch.snowflake import rows

    return rows.QueryRow(
        query_id, text, "SELECT", "U", "R", 1, "WH_1", "Small", None, "SUCCESS", None, start,
        start + timedelta(minutes=30), 1_800_000, 1_800_000, 0, 0, 0, 0, 0, 0, 0.0, 0, 0, 0, 0, 0, Decimal(0), "qh",
        "ph", None, None, None,
    )  # fmt: skip


@pytest.fixture
def connector(stack: LocalStack) -> Iterator[UUID]:
    from snowwatch.repositories import query_partitions

    cid = new_connector(stack, "loader-fresh")
    query_partitions.ensure_query_partitions(pg(), DAY1, DAY1 + timedelta(days=2))
    conn = pg()
    for day in (DAY1, DAY1 + timedelta(days=1)):  # 2 credits each 05:00 hour
        conn.run(
            """INSERT INTO enterprise.snowflake_warehouse_metering (connector_id, warehouse_id, warehouse_name,
                   start_time, end_time, credits_used, credits_used_compute, credits_used_cloud_services)
               VALUES (:c, 1, 'WH_1', :t, CAST(:t AS timestamptz) + interval '1 hour', 2, 2, 0)""",
            c=cid,
            t=day + timedelta(hours=5),
        )
    yield cid
    conn.run("DELETE FROM enterprise.connectors WHERE id = :c", c=cid)
    for i in range(2):
        query_partitions.drop_query_partition(conn, (DAY1 + timedelta(days=i)).date())


def _load(cid: UUID, queries: list[Any]) -> list[str]:
    """Load one window as the sync does; returns the loader's statements into the query table."""
    from snowwatch.db import transaction
    from snowwatch.repositories import cost_sync

    conn = pg()
    seen: list[str] = []
    run = conn.run

    def recording(sql: str, *args: Any, **kwargs: Any) -> Any:
        if QUERY_INSERT in sql:
            seen.append(sql)
        return run(sql, *args, **kwargs)

    conn.run = recording
    try:
        with transaction(conn):
            cost_sync.load(conn, cid, "QUERY_HISTORY", queries)
    finally:
        del conn.run  # pg() shares one connection
    return seen


def _stored(cid: UUID) -> dict[str, tuple[str, Decimal, str, str]]:
    rows = pg().run(
        """SELECT query_id, query_text, credits_attributed_compute, cost_method, xmin::text
           FROM enterprise.snowflake_query_history WHERE connector_id = :c""",
        c=cid,
    )
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def test_a_window_with_nothing_stored_in_its_range_is_a_plain_insert(connector: UUID) -> None:
    """Given a connector with nothing stored on DAY1
    When a window of two half-hour queries in DAY1's 05:00 hour (2 credits) loads
    Then its insert carries no ON CONFLICT, and both queries are stored with half the hour each."""
    statements = _load(
        connector, [_query("f-1", DAY1 + timedelta(hours=5)), _query("f-2", DAY1 + timedelta(hours=5, minutes=10))]
    )

    assert len(statements) == 1
    assert "ON CONFLICT" not in statements[0]
    stored = _stored(connector)
    assert {q: (v[1], v[2]) for q, v in stored.items()} == {
        "f-1": (Decimal("1.000000000"), "hourly_share"),
        "f-2": (Decimal("1.000000000"), "hourly_share"),
    }


def test_a_window_over_stored_rows_is_the_upsert(connector: UUID) -> None:
    """Given DAY1's two queries stored, and DAY2's 05:00 query
    When DAY1's window is read again with one query's text changed, and a window of DAY2's query plus a query at
    DAY1's last stored start loads
    Then both loads are the upsert: the changed row takes its new text, the unchanged row keeps its tuple (same
    xmin), and no key is stored twice."""
    day1 = [_query("u-1", DAY1 + timedelta(hours=5)), _query("u-2", DAY1 + timedelta(hours=5, minutes=10))]
    _load(connector, day1)
    before = _stored(connector)

    reread = _load(connector, [day1[0], _query("u-2", DAY1 + timedelta(hours=5, minutes=10), "SELECT 2")])
    edge = _load(connector, [day1[1], _query("u-3", DAY1 + timedelta(days=1, hours=5))])

    assert len(reread) == len(edge) == 1
    assert "ON CONFLICT" in reread[0] and "ON CONFLICT" in edge[0]
    after = _stored(connector)
    assert after["u-1"] == before["u-1"]
    assert after["u-2"][0] == "SELECT 1"  # the edge window brought the first text back
    assert after["u-3"][1:3] == (Decimal("2.000000000"), "hourly_share")
    assert len(after) == 3


def test_another_connectors_rows_neither_make_an_upsert_nor_change(stack: LocalStack, connector: UUID) -> None:
    """Given another connector (the raw table's tenant key: another org's connector is no different here) with a
    query stored in DAY1's 05:00 hour, under the same QUERY_ID
    When this connector's window of that hour (the same QUERY_ID and start, another text) loads
    Then it is a plain INSERT (only this connector's stored rows make a window an upsert), both rows are stored,
    and the other connector's row keeps its tuple and text; a third connector's prepared window of the same query is
    copied straight in beside them (§42), neither of theirs changing."""
    other = new_connector(stack, "loader-fresh-other")
    try:
        _load(other, [_query("same-id", DAY1 + timedelta(hours=5), "SELECT 'theirs'")])
        theirs = _stored(other)

        statements = _load(connector, [_query("same-id", DAY1 + timedelta(hours=5), "SELECT 'ours'")])

        assert len(statements) == 1 and "ON CONFLICT" not in statements[0]
        assert _stored(other) == theirs
        assert _stored(connector)["same-id"][0] == "SELECT 'ours'"

        # the same through the straight COPY of a prepared window (§42): a third connector's attributed query with
        # that QUERY_ID and start is copied in beside both, neither of their rows changing
        from snowwatch.db import transaction
        from snowwatch.repositories import cost_sync
        from snowwatch.services import query_arrow
        from snowwatch.snowflake import rows

        third = new_connector(stack, "loader-fresh-third")
        hour = DAY1 + timedelta(hours=5)
        queries = [_arrow([_query("same-id", hour, "SELECT 'third'")])]
        attribution = [
            _arrow(
                [
                    rows.QueryAttributionRow(
                        "same-id",
                        1,
                        "WH_1",
                        "qh",
                        "ph",
                        None,
                        "U",
                        hour,
                        hour + timedelta(minutes=30),
                        Decimal("0.3"),
                        Decimal(0),
                    )
                ]
            )
        ]
        ours = _stored(connector)
        conn = pg()
        with transaction(conn):
            (prepared,) = query_arrow.prepare(("connector_id", third), queries, attribution)
            assert cost_sync.load_fresh(conn, third, prepared) == 1
        assert _stored(other) == theirs and _stored(connector) == ours
        assert _stored(third)["same-id"][:3] == ("SELECT 'third'", Decimal("0.300000000"), "attribution")
    finally:
        pg().run("DELETE FROM enterprise.connectors WHERE id = :c", c=other)
        pg().run("DELETE FROM enterprise.connectors WHERE name = 'loader-fresh-third'")


def test_a_job_session_analyzes_a_staging_table_from_a_small_sample(stack: LocalStack) -> None:
    """Given a job's session (its statement bounds set) and a staged window of 20,000 distinct query ids
    When the loader ANALYZEs it
    Then the statistics come from a 3,000-row sample (statistics target 10: at most 11 histogram bounds), not the
    30,000 rows the server default samples (most of a window, decisions §40)."""
    from snowwatch.repositories import jobs as jobs_repo

    conn = pg()
    jobs_repo.bound_statements(conn, 60)
    try:
        conn.run("CREATE TEMP TABLE _stage_probe AS SELECT 'q' || i AS query_id FROM generate_series(1, 20000) i")
        conn.run("ANALYZE _stage_probe (query_id)")
        bounds = conn.run(
            """SELECT array_length(histogram_bounds, 1) FROM pg_stats
               WHERE tablename = '_stage_probe' AND attname = 'query_id'"""
        )[0][0]
        assert bounds <= 11
    finally:
        conn.run("DROP TABLE IF EXISTS _stage_probe")
        conn.run("RESET ALL")


def _arrow(rows_: list[Any]) -> Any:
    """Named rows as the Arrow table their view's converter gives (services/query_arrow.py)."""
    import pyarrow as pa

    return pa.table({f: [getattr(r, f) for r in rows_] for f in type(rows_[0])._fields})


def test_a_fresh_window_read_whole_copies_its_attributed_queries_straight_in(connector: UUID) -> None:
    """Given a window read whole as Arrow (as a planned window is) of two half-hour queries in DAY1's 05:00 hour (2
    credits), one attributed 0.7 credits, and an attribution row of a query not in the window
    When it loads as the sync loads a window, then the same window loads again
    Then the first load copies the attributed query straight into the raw table (a COPY, not an INSERT from a stage),
    inserts the other priced by the hourly share counting both (1 credit), and stores the left-over attribution; the
    second finds its range stored, goes the staged way (the upsert) and rewrites nothing."""
    from snowwatch.db import transaction
    from snowwatch.services import query_arrow, sync
    from snowwatch.snowflake import rows

    hour = DAY1 + timedelta(hours=5)
    queries = [_arrow([_query("fa-1", hour), _query("fu-1", hour + timedelta(minutes=10))])]
    attribution = [
        _arrow([rows.QueryAttributionRow("fa-1", 1, "WH_1", "qh", "ph", None, "U", hour, hour + timedelta(minutes=30),
                                         Decimal("0.7"), Decimal(0)),
                rows.QueryAttributionRow("fx-9", 1, "WH_1", "qh", "ph", None, "U", hour + timedelta(hours=1),
                                         hour + timedelta(hours=1, minutes=1), Decimal("0.1"), Decimal(0))])
    ]  # fmt: skip
    conn = pg()
    seen: list[str] = []
    first: list[str] = []
    stored: dict[str, Any] = {}
    run = conn.run

    def recording(sql: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(sql)
        return run(sql, *args, **kwargs)

    conn.run = recording
    try:
        for _ in range(2):  # prepared as the read-ahead thread prepares a planned window
            with transaction(conn):
                prepared = query_arrow.prepare(("connector_id", connector), queries, attribution)
                assert sync._load(connector, "QUERY_HISTORY", conn, prepared, attribution) == 2
            if not stored:
                first, seen[:], stored = list(seen), [], _stored(connector)
    finally:
        del conn.run  # pg() shares one connection

    assert any(s.startswith('COPY "enterprise"."snowflake_query_history"') for s in first)
    inserts = [s for s in first if QUERY_INSERT in s]
    assert len(inserts) == 1 and "ON CONFLICT" not in inserts[0] and "_stage_query_attribution" not in inserts[0]
    assert {q: (v[1], v[2]) for q, v in stored.items()} == {
        "fa-1": (Decimal("0.700000000"), "attribution"),
        "fu-1": (Decimal("1.000000000"), "hourly_share"),
        "fx-9": (Decimal("0.100000000"), "attribution"),
    }
    assert any(QUERY_INSERT in s and "ON CONFLICT" in s for s in seen)
    assert _stored(connector) == stored
