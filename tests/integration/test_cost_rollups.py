"""Cost rollups: the per-local-day rollups the API reads give exactly what aggregating the raw rows gives, for
any range, and follow a timezone change (raw reads until the next sync rebuilds every day)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from snowwatch.models.connectors import Connector
from snowwatch.repositories import cost as repo
from snowwatch.repositories import rollups
from snowwatch.services import connectors as connectors_service
from snowwatch.services import cost, cost_queries
from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector, pg

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def synced(stack: LocalStack) -> Connector:
    cid = new_connector(stack, "cost-rollups", timezone="America/New_York")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    return connectors_service.load(pg(), cid)


def _ranges() -> list[tuple[date, date]]:
    """Ranges aligned and not aligned to weeks, shorter than a week, one day, and the whole synthetic month+."""
    end = datetime.now(UTC).date()
    return [
        (end - timedelta(days=29), end),
        (end - timedelta(days=6), end),
        (end - timedelta(days=2), end - timedelta(days=1)),
        (end - timedelta(days=10), end - timedelta(days=10)),
        (end - timedelta(days=40), end - timedelta(days=13)),
        (end - timedelta(days=60), end),
    ]


def test_spend_rollups_equal_raw_aggregation(synced: Connector) -> None:
    """Given a synced connector in a non-UTC timezone, when daily, per-service and per-warehouse spend and the
    warehouse load are read from the rollups and from the raw tables over many ranges, then they are equal."""
    conn = pg()
    assert cost.rolled(conn, synced)
    for first, last in _ranges():
        sp = cost.span(synced, first, last)
        for group_by in ("service_type", "warehouse", "total"):
            assert repo.daily(conn, synced.id, sp, group_by, True) == repo.daily(conn, synced.id, sp, group_by, False)
        for fn in (repo.spend_by_service, repo.spend_by_warehouse):
            rolled = sorted(fn(conn, synced.id, sp, True), key=lambda r: str(r["key"]))
            raw = sorted(fn(conn, synced.id, sp, False), key=lambda r: str(r["key"]))
            assert rolled == raw
        rolled_load = {r["warehouse_name"]: r for r in repo.warehouse_load(conn, synced.id, sp, True)}
        raw_load = {r["warehouse_name"]: r for r in repo.warehouse_load(conn, synced.id, sp, False)}
        assert rolled_load.keys() == raw_load.keys()
        for name, r in raw_load.items():
            assert rolled_load[name]["intervals"] == r["intervals"]
            assert rolled_load[name]["avg_running"] == pytest.approx(r["avg_running"], rel=1e-12)
            assert rolled_load[name]["avg_queued_load"] == pytest.approx(r["avg_queued_load"], rel=1e-12)


def test_overview_one_pass_equals_two_windows(synced: Connector) -> None:
    """Given the overview's one pass over the rollup (current and previous period with FILTER), then it equals
    the per-window raw aggregation."""
    conn = pg()
    end = datetime.now(UTC).date()
    for days in (7, 30, 90):
        cur = cost.span(synced, end - timedelta(days=days - 1), end)
        prev = cost.span(synced, end - timedelta(days=2 * days - 1), end - timedelta(days=days))
        by_service, previous = repo.credits_by_period(conn, synced.id, cur, prev)
        raw = repo.spend_by_service(conn, synced.id, cur, False)
        assert {r["key"]: r["credits"] for r in by_service} == {r["key"]: r["credits"] for r in raw}
        raw_prev = [r["credits"] for r in repo.spend_by_service(conn, synced.id, prev, False)]
        assert (previous or 0) == sum(raw_prev)


# Billed cloud services per query, written out here (not the repository's fragment): raw x the billed fraction of
# the query's UTC day, max(0, used + adjustment) / used (15 decimals) on that day's WAREHOUSE_METERING row, else 1.
BILLED = """round(q.credits_used_cloud_services * COALESCE(
    (SELECT round(GREATEST(d.credits_used_cloud_services + d.credits_adjustment_cloud_services, 0)
                  / NULLIF(d.credits_used_cloud_services, 0), 15)
     FROM enterprise.snowflake_daily_costs d
     WHERE d.connector_id = q.connector_id AND d.service_type = 'WAREHOUSE_METERING'
       AND d.usage_date = (q.start_time AT TIME ZONE 'UTC')::date), 1), 9)"""


def _hash_from_history(conn: Any, connector: Connector, first: date, last: date) -> dict[str, tuple[Any, ...]]:
    sp = cost.span(connector, first, last)
    rows = conn.run(
        f"""SELECT COALESCE(query_parameterized_hash, ''), count(*), COALESCE(sum(credits_attributed_compute), 0),
                   sum({BILLED}), sum(credits_used_cloud_services), sum(total_elapsed_time), max(query_id),
                   CAST((SELECT min(s.start_time) FROM enterprise.snowflake_query_history s
                         WHERE s.connector_id = :c AND s.query_id = max(q.query_id)) AS text)
            FROM enterprise.snowflake_query_history q
            WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi GROUP BY 1""",
        c=connector.id,
        lo=sp.lo,
        hi=sp.hi,
    )
    # the sample: the greatest QUERY_ID, with its start_time (the raw table's key finds its text, 0508)
    return {r[0]: (*r[1:6], [r[6], r[7]]) for r in rows}


def _users_from_history(conn: Any, connector: Connector, first: date, last: date) -> dict[str, tuple[Any, ...]]:
    sp = cost.span(connector, first, last)
    rows = conn.run(
        f"""SELECT COALESCE(user_name, ''), count(*), sum({BILLED}), sum(credits_used_cloud_services)
            FROM enterprise.snowflake_query_history q
            WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi GROUP BY 1""",
        c=connector.id,
        lo=sp.lo,
        hi=sp.hi,
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def _users_from_rollup(conn: Any, connector: Connector, first: date, last: date) -> dict[str, tuple[Any, ...]]:
    rows, _ = repo.rollup(conn, connector.id, "user", first, last, "key1", 500, 0)
    return {r["key1"]: (r["queries"], r["credits_cloud_services"], r["credits_cloud_services_used"]) for r in rows}


def test_hash_rollup_weeks_and_days_equal_query_history(synced: Connector) -> None:
    """Given the parameterized-hash rollup (whole weeks + edge days), when read over ranges aligned and not
    aligned to weeks, then each hash's count, credits, elapsed time and sample (its query id and start time) equal the
    raw query history."""
    conn = pg()
    for first, last in _ranges():
        rows, total = repo.hash_rollup(conn, synced.id, first, last, 500, 0)
        expected = _hash_from_history(conn, synced, first, last)
        assert total == len(expected)
        got = {
            r["key1"]: (
                r["queries"],
                r["credits_compute"],
                r["credits_cloud_services"],
                r["credits_cloud_services_used"],
                r["elapsed_ms"],
                r["sample"],
            )
            for r in rows
        }
        assert got == expected, (first, last)
        assert _users_from_rollup(conn, synced, first, last) == _users_from_history(conn, synced, first, last)


def test_timezone_change_reads_raw_until_the_sync_rebuilds_every_day(stack: LocalStack) -> None:
    """Given a synced connector whose timezone then changes, then spend is read from the raw tables (rollups
    were built in the old timezone), and the next sync rebuilds every rollup day in the new timezone."""
    conn = pg()
    cid = new_connector(stack, "cost-rollups-tz", timezone="UTC")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    conn.run("UPDATE enterprise.connectors SET timezone = 'Asia/Tokyo' WHERE id = :c", c=cid)
    connector = connectors_service.load(conn, cid)
    assert not cost.rolled(conn, connector)
    assert repo.rollup_timezone(conn, cid, "query") == "UTC"

    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    assert cost.rolled(conn, connector) and repo.rollup_timezone(conn, cid, "query") == "Asia/Tokyo"
    # Every day, the oldest included: a rebuild of the recent days only would leave UTC days behind.
    end = datetime.now(UTC).date() + timedelta(days=1)
    oldest = conn.run(
        """SELECT min((start_time AT TIME ZONE 'Asia/Tokyo')::date) FROM enterprise.snowflake_warehouse_metering
           WHERE connector_id = :c""",
        c=cid,
    )[0][0]
    sp = cost.span(connector, oldest, end)
    for group_by in ("warehouse", "service_type"):
        assert repo.daily(conn, cid, sp, group_by, True) == repo.daily(conn, cid, sp, group_by, False)
    rows, _ = repo.hash_rollup(conn, cid, oldest, end, 500, 0)
    expected = _hash_from_history(conn, connector, oldest, end)
    assert {r["key1"]: (r["queries"], r["elapsed_ms"]) for r in rows} == {k: (v[0], v[4]) for k, v in expected.items()}


def _set_fraction(conn: Any, cid: Any, day: date, billed_zero: bool) -> None:
    """A (late) METERING_DAILY_HISTORY figure for the day: the adjustment cancels all cloud services, or none."""
    conn.run(
        f"""UPDATE enterprise.snowflake_daily_costs
            SET credits_adjustment_cloud_services = {"-credits_used_cloud_services" if billed_zero else "0"}
            WHERE connector_id = :c AND usage_date = :d AND service_type = 'WAREHOUSE_METERING'""",
        c=cid,
        d=day,
    )


def test_late_daily_cost_update_rebuilds_that_days_query_rollups(stack: LocalStack) -> None:
    """Given a synced connector (New York days, UTC billing days) whose daily costs of a UTC day older than every
    re-read window then change (a late METERING_DAILY_HISTORY update), when the next sync runs, then the query
    rollups of the local days that UTC day touches carry the new billed fraction (equal to the raw aggregation)."""
    conn = pg()
    cid = new_connector(stack, "cost-cs-late", timezone="America/New_York")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    connector = connectors_service.load(conn, cid)
    day = datetime.now(UTC).date() - timedelta(days=20)
    first, last = day - timedelta(days=1), day + timedelta(days=1)  # the local days the UTC day spans
    assert _users_from_rollup(conn, connector, first, last) == _users_from_history(conn, connector, first, last)
    fraction = conn.run(
        """SELECT cs_fraction_applied FROM enterprise.snowflake_daily_costs
           WHERE connector_id = :c AND usage_date = :d AND service_type = 'WAREHOUSE_METERING'""",
        c=cid,
        d=day,
    )[0][0]
    _set_fraction(conn, cid, day, billed_zero=fraction != 0)
    stale = _users_from_rollup(conn, connector, first, last)
    assert stale != _users_from_history(conn, connector, first, last)  # the figure did change

    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    assert _users_from_rollup(conn, connector, first, last) == _users_from_history(conn, connector, first, last)
    rows, _ = repo.hash_rollup(conn, cid, first, last, 500, 0)
    expected = _hash_from_history(conn, connector, first, last)
    assert {r["key1"]: r["credits_cloud_services"] for r in rows} == {k: v[2] for k, v in expected.items()}
    assert not repo.cloud_services_changed(conn, cid)


def test_day_without_daily_costs_row_bills_raw_cloud_services(stack: LocalStack) -> None:
    """Given a UTC day METERING_DAILY_HISTORY has no row for yet, then its queries' billed cloud services fall back
    to the raw figure (fraction 1), in the top queries and in the rollups."""
    from snowwatch.db import transaction

    conn = pg()
    cid = new_connector(stack, "cost-cs-missing")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    connector = connectors_service.load(conn, cid)
    day = datetime.now(UTC).date() - timedelta(days=12)
    conn.run("DELETE FROM enterprise.snowflake_daily_costs WHERE connector_id = :c AND usage_date = :d", c=cid, d=day)
    with transaction(conn):
        rollups.rebuild_rollups(conn, cid, "UTC", None)
    top = cost_queries.queries(conn, connector, day, day, "query", 500, 0).page.items
    users = cost_queries.users(conn, connector, day, day, "user", 500, 0).page.items
    hashes = cost_queries.queries(conn, connector, day, day, "parameterized_hash", 500, 0).page.items
    assert top and any(i.credits_cloud_services_used > 0 for i in top)
    for items in (top, users, hashes):
        assert all(i.credits_cloud_services == i.credits_cloud_services_used for i in items)
    assert _users_from_rollup(conn, connector, day, day) == _users_from_history(conn, connector, day, day)
