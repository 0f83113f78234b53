"""The query steps walked behind QUERY_HISTORY's windows (decisions §44): while later windows load, a trail on a
connection of its own prices the days whose hours are settled and builds their rollups; the run's own post-load steps
walk on from where it got to, and the stored costs and rollups are those of a sync without it, exactly."""

from __future__ import annotations

import contextlib
import itertools
import threading
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest

from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector, pg

pytestmark = pytest.mark.integration

TRAIL = "post-load-trail"  # the trail's thread


def _stored(cid: UUID) -> dict[str, list[tuple[Any, ...]]]:
    """What the query steps wrote for the connector: every query's cost, every query rollup row (all columns but the
    connector's id) and the large tables' last reads."""
    conn = pg()
    queries = conn.run(
        """SELECT query_id, start_time, credits_attributed_compute, credits_used_query_acceleration, cost_method
           FROM enterprise.snowflake_query_history WHERE connector_id = :c ORDER BY query_id, start_time""",
        c=cid,
    )
    out = {"queries": [tuple(r) for r in queries]}
    for table, order in (
        ("snowflake_query_rollup", "dim, usage_date, key1, key2"),
        ("snowflake_query_hash_daily", "days, usage_date, query_parameterized_hash"),
    ):
        rows = conn.run(f"SELECT to_jsonb(r) - 'connector_id' FROM enterprise.{table} r WHERE connector_id = :c "
                        f"ORDER BY {order}", c=cid)  # fmt: skip
        out[table] = [tuple(sorted(r[0].items())) for r in rows]
    reads = conn.run(
        """SELECT table_id, last_read_at FROM enterprise.snowflake_table_storage WHERE connector_id = :c
           ORDER BY table_id""",
        c=cid,
    )
    out["last_reads"] = [tuple(r) for r in reads]
    return out


def _calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple[str, Any, Any]]]:
    """Each hourly share and query rollup statement's window, with the thread that ran it."""
    from snowwatch.repositories import query_share, rollups

    calls: dict[str, list[tuple[str, Any, Any]]] = {"share": [], "rollups": []}
    real_share, real_rollups = query_share.apply_hourly_share, rollups.rebuild_query_days

    def share(conn: Any, cid: Any, since: datetime, until: datetime) -> int:
        calls["share"].append((threading.current_thread().name, since, until))
        return int(real_share(conn, cid, since, until))

    def rebuild(conn: Any, cid: Any, tz: str, first: Any, end: Any) -> int:
        calls["rollups"].append((threading.current_thread().name, first, end))
        return int(real_rollups(conn, cid, tz, first, end))

    monkeypatch.setattr(query_share, "apply_hourly_share", share)
    monkeypatch.setattr(rollups, "rebuild_query_days", rebuild)
    return calls


@pytest.fixture(scope="module")
def reference(stack: LocalStack) -> UUID:
    """A connector whose first sync, read as a large account, walked the query steps after the extraction only."""
    from snowwatch.services import extraction, sync

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(extraction, "ONE_WINDOW_ROWS", 0)  # read as a large account: planned day windows
        mp.setattr(sync, "_trail", lambda *args: contextlib.nullcontext(), raising=False)  # (none before §44)
        cid = new_connector(stack, "trail-none", timezone="America/New_York")
        assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    return cid


@pytest.fixture(scope="module")
def without_trail(reference: UUID) -> dict[str, list[tuple[Any, ...]]]:
    """What that sync wrote."""
    return _stored(reference)


def test_the_share_and_rollups_walk_behind_the_query_windows(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, reference: UUID, without_trail: dict[str, list[tuple[Any, ...]]]
) -> None:
    """Given a new connector read as a large account is (ONE_WINDOW_ROWS 0: 35 days in planned day windows), when
    its first sync runs, then the trail prices days and builds their rollups while QUERY_HISTORY's later windows load,
    the run's own steps walk on from where it got to (the windows of both follow one another without a gap or an
    overlap), the run counts what both wrote, nothing stays owed, every cost and rollup row equals a sync's without
    the trail, and that other connector's rows (same account, synced before) are untouched."""
    from snowwatch.services import extraction

    monkeypatch.setattr(extraction, "ONE_WINDOW_ROWS", 0)
    calls = _calls(monkeypatch)
    cid = new_connector(stack, "trail-walks", timezone="America/New_York")
    run = stack.run_job("sync", connector_id=cid)
    assert run["status"] == "succeeded"
    for step in ("share", "rollups"):
        threads = [c[0] for c in calls[step]]
        trailed = threads.count(TRAIL)
        assert trailed >= 5 and threads == [TRAIL] * trailed + [threading.main_thread().name] * (len(threads) - trailed)
        assert all(b[1] == a[2] for a, b in itertools.pairwise(calls[step])), calls[step]
    assert run["rows"]["query_rollups"] > 0
    owed = pg().run(
        "SELECT count(*) FROM enterprise.sync_state WHERE connector_id = :c AND view_name LIKE 'pending:%'", c=cid
    )
    assert owed[0][0] == 0
    assert _stored(cid) == without_trail
    assert _stored(reference) == without_trail


def test_a_trail_that_fails_leaves_its_days_to_the_run(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, without_trail: dict[str, list[tuple[Any, ...]]]
) -> None:
    """Given a new connector read as a large account is, whose trail fails after pricing a few days (its connection
    drops), when its first sync runs, then the run succeeds, its own steps walk every day the trail did not, and every
    cost and rollup row equals a sync's without the trail."""
    from snowwatch.repositories import query_share
    from snowwatch.services import extraction

    monkeypatch.setattr(extraction, "ONE_WINDOW_ROWS", 0)
    calls = _calls(monkeypatch)
    priced = query_share.apply_hourly_share

    def failing(conn: Any, cid: Any, since: datetime, until: datetime) -> int:
        if threading.current_thread().name == TRAIL and sum(c[0] == TRAIL for c in calls["share"]) >= 2:
            raise ConnectionResetError("the trail's connection dropped")
        return int(priced(conn, cid, since, until))

    monkeypatch.setattr(query_share, "apply_hourly_share", failing)
    cid = new_connector(stack, "trail-fails", timezone="America/New_York")
    run = stack.run_job("sync", connector_id=cid)
    assert run["status"] == "succeeded"
    assert [c[0] for c in calls["share"]].count(TRAIL) == 2
    assert all(b[1] == a[2] for a, b in itertools.pairwise(calls["share"])), calls["share"]
    assert _stored(cid) == without_trail
