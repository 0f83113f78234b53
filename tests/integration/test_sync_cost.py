"""The cost sync against the synthetic account: exact, idempotent, resumable, a fixed statement count."""

from __future__ import annotations

from typing import Any

import pytest

from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector, pg, source_counts, table_counts

pytestmark = pytest.mark.integration


def _watermarks(connector_id: Any) -> dict[str, Any]:
    rows = pg().run("SELECT view_name, watermark FROM enterprise.sync_state WHERE connector_id = :c", c=connector_id)
    return {r[0]: r[1] for r in rows}


def test_sync_loads_exactly_the_source_and_rerun_changes_nothing(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a new connector read as a large account is (ONE_WINDOW_ROWS 0: no range is small enough to read at once),
    when sync runs twice, then each table holds exactly the source's rows both times, job_runs records per-view counts
    and progress, the first run reads the history in day windows (a statement each) and the incremental run issues a
    fixed number of statements (each view's LOOKBACK again, in day windows)."""
    from snowwatch.services import extraction

    monkeypatch.setattr(extraction, "ONE_WINDOW_ROWS", 0)
    cid = new_connector(stack, "sync-exact")
    first = stack.run_job("sync", connector_id=cid)
    assert first["status"] == "succeeded"
    expected = source_counts(stack)
    assert table_counts(cid) == expected
    second = stack.run_job("sync", connector_id=cid)
    assert table_counts(cid) == expected
    # each view's LOOKBACK re-read in day windows (decisions §36), a statement a window: the 7 one-window views,
    # QUERY_HISTORY's day and a bit in 2, QUERY_ATTRIBUTION_HISTORY's own 7 days and a bit in 8, or in 7 when the
    # account's first hour after its watermark falls on the next UTC day (the read then starts at that day's
    # midnight: `extract` skips the empty stretch), which depends on the clock; besides them, QUERY_HISTORY's 2
    # windows' attribution (its companion, decisions §38), the two views' hourly counts, the attribution view's
    # existence check, SHOW WAREHOUSES and the currency view's check
    windows = pg().run("SELECT progress FROM enterprise.job_runs WHERE id = :i", i=second["run_id"])[0][0]
    assert 16 <= windows["windows_done"] <= 17
    assert second["rows"]["statements"] == windows["windows_done"] + 7
    assert first["rows"]["statements"] > 35  # the 35 days of history, a day per QUERY_HISTORY statement
    recorded, progress = pg().run("SELECT rows, progress FROM enterprise.job_runs WHERE id = :i", i=first["run_id"])[0]
    assert recorded["QUERY_HISTORY"] == expected["QUERY_HISTORY"]
    assert recorded["statements"] == first["rows"]["statements"]
    assert progress["windows_left"] == 0 and progress["windows_done"] >= 35 and progress["rows"] > 0


def test_a_small_accounts_sync_reads_each_view_and_walks_each_step_at_once(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a new connector on the tiny account (1,750 queries over 35 days: far below ONE_WINDOW_ROWS), when sync
    runs twice, then the first run reads each view in ONE window (a statement each, not one a day: 90 statements
    before; QUERY_ATTRIBUTION_HISTORY's with QUERY_HISTORY's, not again on its own), the hourly share and the query
    rollups each walk their 36 owed days in one window, every table holds exactly the source's rows both times, and
    the incremental run re-reads each view's lookback in one window too."""
    from snowwatch.repositories import query_share, rollups

    calls = {"share": 0, "rollups": 0}
    real_share, real_rollups = query_share.apply_hourly_share, rollups.rebuild_query_days

    def share(*args: Any) -> int:
        calls["share"] += 1
        return real_share(*args)

    def rebuild(*args: Any) -> int:
        calls["rollups"] += 1
        return real_rollups(*args)

    monkeypatch.setattr(query_share, "apply_hourly_share", share)
    monkeypatch.setattr(rollups, "rebuild_query_days", rebuild)
    cid = new_connector(stack, "sync-small")
    first = stack.run_job("sync", connector_id=cid)
    assert first["status"] == "succeeded"
    expected = source_counts(stack)
    assert table_counts(cid) == expected
    progress = pg().run("SELECT progress FROM enterprise.job_runs WHERE id = :i", i=first["run_id"])[0][0]
    # eight cost views, one window each; QUERY_ATTRIBUTION_HISTORY was read with QUERY_HISTORY's window (its
    # companion, decisions §38) and not again: this run read everything its own read would (§42)
    assert progress["windows_done"] == 8 and progress["windows_left"] == 0
    assert first["rows"]["QUERY_ATTRIBUTION_HISTORY"] == 0
    # four views' first statement finds where the history starts and counts it; eight windows; three others; the
    # attribution with QUERY_HISTORY's window
    assert first["rows"]["statements"] == 16
    assert calls == {"share": 1, "rollups": 1}
    second = stack.run_job("sync", connector_id=cid)
    assert table_counts(cid) == expected
    # 12 + the two query views' count over their lookback + QUERY_HISTORY's window's attribution
    assert second["rows"]["statements"] == 15
    # its 7-day lookback was re-read, up to where QUERY_HISTORY's lookback read it with its own window
    assert second["rows"]["QUERY_ATTRIBUTION_HISTORY"] > 0


def test_metering_mode_reads_only_metering_views(stack: LocalStack) -> None:
    """Given a connector, when the hourly metering sync runs (twice), then only the three metering views are read,
    the incremental run with one statement each."""
    cid = new_connector(stack, "sync-metering")
    stack.run_job("sync", connector_id=cid, mode="metering")
    out = stack.run_job("sync", connector_id=cid, mode="metering")
    rows = out["rows"]
    assert set(rows) == {"WAREHOUSE_METERING_HISTORY", "METERING_HISTORY", "METERING_DAILY_HISTORY", "statements"}
    assert rows["statements"] == 3
    assert table_counts(cid)["QUERY_HISTORY"] == 0


def test_sync_cut_off_midway_then_rerun_ends_exact(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a sync that fails while loading QUERY_HISTORY, then the views before it are committed with
    watermarks, later views have none, and a re-run ends with exactly the source's rows."""
    from snowwatch.repositories import cost_sync

    cid = new_connector(stack, "sync-cut")
    real_load = cost_sync.load_window

    def failing(conn: Any, connector_id: Any, view: str, batches: Any, attribution: Any = None) -> int:
        if view == "QUERY_HISTORY":
            raise RuntimeError("injected failure")
        return real_load(conn, connector_id, view, batches, attribution)

    monkeypatch.setattr(cost_sync, "load_window", failing)
    with pytest.raises(RuntimeError):
        stack.run_job("sync", connector_id=cid)
    marks = _watermarks(cid)
    assert "WAREHOUSE_METERING_HISTORY" in marks and "WAREHOUSE_LOAD_HISTORY" in marks
    assert "QUERY_HISTORY" not in marks and "QUERY_ATTRIBUTION_HISTORY" not in marks
    partial = table_counts(cid)
    assert partial["QUERY_HISTORY"] == 0 and partial["WAREHOUSE_METERING_HISTORY"] > 0
    run = pg().run(
        "SELECT status, rows FROM enterprise.job_runs WHERE connector_id = :c ORDER BY created_at DESC LIMIT 1",
        c=cid,
    )[0]
    assert run[0] == "failed" and run[1]["WAREHOUSE_METERING_HISTORY"] > 0

    monkeypatch.setattr(cost_sync, "load_window", real_load)
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    assert table_counts(cid) == source_counts(stack)


def test_missing_attribution_view_is_skipped_cleanly(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given an account without QUERY_ATTRIBUTION_HISTORY, when sync runs, then it succeeds, says the view is
    unavailable and every query gets its cost from the hourly-share method."""
    from snowwatch.snowflake.client import SnowflakeSession

    real_exists = SnowflakeSession.exists

    def exists(self: SnowflakeSession, view: str) -> bool:
        return False if view.endswith("QUERY_ATTRIBUTION_HISTORY") else real_exists(self, view)

    monkeypatch.setattr(SnowflakeSession, "exists", exists)
    cid = new_connector(stack, "sync-noqah")
    out = stack.run_job("sync", connector_id=cid)
    assert out["rows"]["QUERY_ATTRIBUTION_HISTORY"] == "unavailable"
    methods = pg().run(
        "SELECT DISTINCT cost_method FROM enterprise.snowflake_query_history WHERE connector_id = :c", c=cid
    )
    assert [m[0] for m in methods] == ["hourly_share"]


def test_currency_falls_back_to_configured_price(stack: LocalStack) -> None:
    """Given no readable ORGANIZATION_USAGE, when sync runs, then the connector says configured_price."""
    cid = new_connector(stack, "sync-currency")
    stack.run_job("sync", connector_id=cid)
    source = pg().run("SELECT currency_source FROM enterprise.connectors WHERE id = :c", c=cid)[0][0]
    assert source == "configured_price"


@pytest.mark.parametrize("batch_rows", [20_000, 7])
def test_query_rows_are_priced_as_they_load_and_written_once(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    """Given a new connector read in day windows (ONE_WINDOW_ROWS 0, as a large account is: windows have edges), when
    its first sync loads the query history (a window in one batch, or in many small ones in no particular order),
    then the loader prices each query as it inserts it: the post-load hourly share rewrites only the few rows whose
    hours straddle a window's edge (it used to UPDATE every row again, one dead tuple and one more entry in each index
    per row), and recomputing the share over the whole history afterwards changes nothing: the stored costs are the
    hourly share's, exactly."""
    from datetime import UTC, datetime, timedelta

    from snowwatch.db import transaction
    from snowwatch.repositories import query_share
    from snowwatch.services import extraction

    monkeypatch.setattr(extraction, "BATCH_ROWS", batch_rows)
    monkeypatch.setattr(extraction, "ONE_WINDOW_ROWS", 0)
    cid = new_connector(stack, f"sync-priced-once-{batch_rows}")
    run = stack.run_job("sync", connector_id=cid)
    assert run["status"] == "succeeded"
    conn = pg()
    stored = conn.run(
        """SELECT count(*), count(*) FILTER (WHERE cost_method = 'hourly_share'),
                  count(*) FILTER (WHERE credits_attributed_compute > 0)
           FROM enterprise.snowflake_query_history WHERE connector_id = :c""",
        c=cid,
    )[0]
    assert stored[0] > 1000 and stored[2] > 0.5 * stored[0], stored  # a real history, most of it metered
    assert run["rows"]["hourly_share_queries"] < 0.1 * stored[0], (run["rows"]["hourly_share_queries"], stored)
    now = datetime.now(UTC)
    with transaction(conn):
        again = query_share.apply_hourly_share(conn, cid, now - timedelta(days=400), now + timedelta(days=1))
    assert again == 0
