"""Cost rollups: the per-local-day rollups the API reads give exactly what aggregating the raw rows gives, for
any range, and follow a timezone change (raw reads until the next sync rebuilds every day)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from snowwatch.models.connectors import Connector
from snowwatch.repositories import cost as repo
from snowwatch.services import connectors as connectors_service
from snowwatch.services import cost
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


def _hash_from_history(conn: Any, connector: Connector, first: date, last: date) -> dict[str, tuple[Any, ...]]:
    sp = cost.span(connector, first, last)
    rows = conn.run(
        """SELECT COALESCE(query_parameterized_hash, ''), count(*), COALESCE(sum(credits_attributed_compute), 0),
                  sum(credits_used_cloud_services), sum(total_elapsed_time), max(query_id)
           FROM enterprise.snowflake_query_history
           WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi GROUP BY 1""",
        c=connector.id,
        lo=sp.lo,
        hi=sp.hi,
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def test_hash_rollup_weeks_and_days_equal_query_history(synced: Connector) -> None:
    """Given the parameterized-hash rollup (whole weeks + edge days), when read over ranges aligned and not
    aligned to weeks, then each hash's count, credits, elapsed time and sample equal the raw query history."""
    conn = pg()
    for first, last in _ranges():
        rows, total = repo.hash_rollup(conn, synced.id, first, last, 500, 0)
        expected = _hash_from_history(conn, synced, first, last)
        assert total == len(expected)
        got = {
            r["key1"]: (r["queries"], r["credits_compute"], r["credits_cloud_services"], r["elapsed_ms"], r["sample"])
            for r in rows
        }
        assert got == expected, (first, last)


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
    assert {r["key1"]: (r["queries"], r["elapsed_ms"]) for r in rows} == {k: (v[0], v[3]) for k, v in expected.items()}
