"""Every Postgres statement of a sync job is bounded by a window (issue 14): the spend rollups a local month per
statement, the hourly share a day, the query rollups and the last-read refresh a connector-local day, each window
committed with its owed mark moved past it; a run out of time stops after at least one window and its post-load-only
continuation walks on; the result equals a one-shot rebuild."""

from __future__ import annotations

import itertools
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector, pg

pytestmark = pytest.mark.integration

TABLES = {  # every rollup table, its rows in a stable order
    "snowflake_query_rollup": "dim, usage_date, key1, key2",
    "snowflake_query_hash_daily": "days, usage_date, query_parameterized_hash",
    "snowflake_spend_daily": "dim, usage_date, key",
    "snowflake_warehouse_load_daily": "usage_date, warehouse_name",
}


def _contents(cid: UUID) -> dict[str, list[tuple[Any, ...]]]:
    """Every row (every column) of the connector's rollup tables; floats (warehouse load sums, whose last digits
    depend on the order they are summed in) to 9 significant digits."""
    conn = pg()
    return {
        table: [
            tuple(_f(v) for v in r)
            for r in conn.run(f"SELECT * FROM enterprise.{table} WHERE connector_id = :c ORDER BY {o}", c=cid)
        ]
        for table, o in TABLES.items()
    }


def _f(v: Any) -> Any:
    return float(f"{v:.9g}") if isinstance(v, float) else v


def _runs(cid: UUID) -> list[tuple[Any, ...]]:
    return pg().run(
        "SELECT id, status, rows, continues FROM enterprise.job_runs WHERE connector_id = :c ORDER BY created_at",
        c=cid,
    )


def _owed(cid: UUID) -> int:
    rows = pg().run(
        "SELECT count(*) FROM enterprise.sync_state WHERE connector_id = :c AND view_name LIKE 'pending:%'", c=cid
    )
    return int(rows[0][0])


def _one_window_per_run(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple[date, date]]]:
    """Runs with time for one window of each post-load walk (the extraction is never cut), walking as for a large
    account (ONE_WINDOW_ROWS 0: a day at a time, never the whole owed range at once); records the local days each
    rollup builder was called with."""
    from snowwatch.repositories import rollups
    from snowwatch.services import extraction

    def exhausted(self: extraction.Budget) -> bool:
        return sys._getframe(1).f_code.co_name == "walk"

    monkeypatch.setattr(extraction.Budget, "exhausted", exhausted)
    monkeypatch.setattr(extraction, "ONE_WINDOW_ROWS", 0)
    calls: dict[str, list[tuple[date, date]]] = {"query": [], "spend": []}
    for name, builder in (("query", "rebuild_query_days"), ("spend", "rebuild_spend_days")):
        real = getattr(rollups, builder)

        def spy(conn: Any, cid: Any, tz: str, first: date, end: date, _r: Any = real, _n: str = name) -> int:
            calls[_n].append((first, end))
            return int(_r(conn, cid, tz, first, end))

        monkeypatch.setattr(rollups, builder, spy)
    return calls


@pytest.fixture(scope="module")
def walked(stack: LocalStack) -> dict[str, Any]:
    """Given a synced connector (New York days) whose spend rollups are owed from 70 days back and query rollups
    from 12 days back (a backfill), every rollup row of those days deleted, when syncs run that each have time for
    one window of each post-load step."""
    from snowwatch.repositories import sync_state

    cid = new_connector(stack, "post-load-walk", timezone="America/New_York")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    conn = pg()
    now = datetime.now(UTC)
    sync_state.owe(conn, cid, "spend", now - timedelta(days=70))
    sync_state.owe(conn, cid, "queries", now - timedelta(days=12))
    for table, days in zip(TABLES, (12, 12, 70, 70), strict=True):
        conn.run(
            f"DELETE FROM enterprise.{table} WHERE connector_id = :c AND usage_date >= :d",
            c=cid,
            d=now.date() - timedelta(days=days),
        )
    before = len(_runs(cid))
    with pytest.MonkeyPatch.context() as mp:
        calls = _one_window_per_run(mp)
        first = stack.run_job("sync", connector_id=cid)
    return {"cid": cid, "first": first, "runs": _runs(cid)[before:], "calls": calls, "walked": _contents(cid)}


def test_runs_out_of_time_stop_inside_the_rollups_and_continue(walked: dict[str, Any]) -> None:
    """Then the first run stops after one month of spend rollups, continuations walk on a window each (a run that
    stopped inside the query rollups among them), the last one finishes every step, and nothing stays owed."""
    runs = walked["runs"]
    assert walked["first"]["status"] == "succeeded" and walked["first"]["continuation"]
    assert all(r[1] == "succeeded" for r in runs)
    assert all(run[3] == previous[0] for previous, run in itertools.pairwise(runs))
    stopped_in_queries = [r for r in runs[:-1] if "query_rollups" in r[2]]
    assert len(stopped_in_queries) >= 10  # 12 days back: one local day per run
    assert "query_rollups" in runs[-1][2] and "retention_days" in runs[-1][2]
    assert all("retention_days" not in r[2] for r in runs[:-1])
    assert _owed(walked["cid"]) == 0


def test_every_rollup_statement_covers_one_window(walked: dict[str, Any]) -> None:
    """Then each query rollup call covers one local day, each spend rollup call at most a local month (the first
    from its owed day to the end of that month), and the calls follow one another without a gap or an overlap."""
    query, spend = walked["calls"]["query"], walked["calls"]["spend"]
    assert len(query) >= 12 and all(end - first == timedelta(days=1) for first, end in query)
    assert len(spend) >= 3
    for first, end in spend:
        assert end.day == 1 and (first.day == 1 or first == spend[0][0]) and end - first <= timedelta(days=31)
    for calls in (query, spend):
        assert all(b[0] == a[1] for a, b in itertools.pairwise(calls))


def test_walked_rollups_equal_a_one_shot_rebuild(walked: dict[str, Any]) -> None:
    """Then every rollup table holds exactly what one rebuild of every day in one statement writes."""
    from snowwatch.db import transaction
    from snowwatch.repositories import rollups

    cid, conn = walked["cid"], pg()
    with transaction(conn):
        rollups.rebuild_spend_rollups(conn, cid, "America/New_York", None)
        rollups.rebuild_rollups(conn, cid, "America/New_York", None)
    one_shot = _contents(cid)
    assert all(one_shot[t] for t in TABLES)
    for t in TABLES:
        a, b = walked["walked"][t], one_shot[t]
        diff = [(x, y) for x, y in zip(a, b, strict=False) if x != y]
        assert len(a) == len(b) and not diff, (t, len(a), len(b), diff[:3])


def test_a_timezone_change_is_rebuilt_across_continuations(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a synced connector whose timezone changes, when syncs with time for one window per walk run, then
    while the rebuild is under way spend is read from the raw rows (not rolled), continuations go on from the owed
    day instead of starting over, and in the end the rollups are built in the new timezone and equal a one-shot
    rebuild."""
    from snowwatch.db import transaction
    from snowwatch.repositories import cost as cost_repo
    from snowwatch.repositories import rollups
    from snowwatch.services import connectors as connectors_service
    from snowwatch.services import cost

    conn = pg()
    cid = new_connector(stack, "post-load-tz", timezone="UTC")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    conn.run("UPDATE enterprise.connectors SET timezone = 'Asia/Tokyo' WHERE id = :c", c=cid)
    connector = connectors_service.load(conn, cid)
    states: list[tuple[Any, ...]] = []
    calls = _one_window_per_run(monkeypatch)
    real = rollups.rebuild_query_days

    def seen(c: Any, i: Any, tz: str, first: date, end: date) -> int:
        states.append((cost.rolled(conn, connector), cost_repo.rollup_timezone(conn, cid, "query")))
        return int(real(c, i, tz, first, end))

    monkeypatch.setattr(rollups, "rebuild_query_days", seen)
    spend = rollups.rebuild_spend_days

    def seen_spend(c: Any, i: Any, tz: str, first: date, end: date) -> int:
        states.append((cost.rolled(conn, connector), cost_repo.rollup_timezone(conn, cid, "spend")))
        return int(spend(c, i, tz, first, end))

    monkeypatch.setattr(rollups, "rebuild_spend_days", seen_spend)
    before = len(_runs(cid))
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    assert len(_runs(cid)) - before >= 30  # every day of the raw rows (35), a day per run
    # spend (walked first) is read raw until every month is rebuilt; then the query rollups are under way
    spend_states = [s for s in states if s[1] == "~Asia/Tokyo" and not s[0]]
    assert len(spend_states) >= 2 and states[len(spend_states) :] == [(True, "~Asia/Tokyo")] * (
        len(states) - len(spend_states)
    )
    days = [first for first, _ in calls["query"]]
    assert days == sorted(set(days))  # each day once: never started over
    assert cost.rolled(conn, connector) and cost_repo.rollup_timezone(conn, cid, "query") == "Asia/Tokyo"
    walked = _contents(cid)
    with transaction(conn):
        rollups.rebuild_spend_rollups(conn, cid, "Asia/Tokyo", None)
        rollups.rebuild_rollups(conn, cid, "Asia/Tokyo", None)
    assert walked == _contents(cid)
