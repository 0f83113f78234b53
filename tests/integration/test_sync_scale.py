"""Large accounts (issue 14): a view the role cannot read is skipped, runs that run out of time continue
themselves, and a sync killed at any point loses and doubles nothing."""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector, pg, snowflake, source_counts, table_counts

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def hidden(stack: LocalStack, view: str) -> Iterator[None]:
    """The fakesnow account without ``view`` (renamed away for the block): what a role lacking the grant sees."""
    with snowflake(stack) as cur:
        cur.execute(f"ALTER TABLE SNOWFLAKE.ACCOUNT_USAGE.{view} RENAME TO {view}_HIDDEN")
    try:
        yield
    finally:
        with snowflake(stack) as cur:
            cur.execute(f"ALTER TABLE SNOWFLAKE.ACCOUNT_USAGE.{view}_HIDDEN RENAME TO {view}")


def _runs(connector_id: Any) -> list[tuple[Any, ...]]:
    return pg().run(
        """SELECT id, status, rows, error, progress, continues FROM enterprise.job_runs
           WHERE connector_id = :c ORDER BY created_at""",
        c=connector_id,
    )


def test_unreadable_view_is_skipped_and_the_run_ends_partial(stack: LocalStack, api: Any) -> None:
    """Given an account where WAREHOUSE_LOAD_HISTORY cannot be read, when sync runs, then that view is skipped
    with its reason, every later view and the rollups still run, and the run ends `partial` (before: the run
    failed at that view, QUERY_HISTORY stayed empty); GET …/access (a member may read it) says which view, what it
    powers and the exact grant; once the view is readable the next run succeeds and /access says readable."""
    cid = new_connector(stack, "sync-hidden")
    before = api.get(f"/api/connectors/{cid}/access", as_="member")
    assert before.status == 200 and {v["status"] for v in before.json()["views"]} == {"unknown"}
    with hidden(stack, "WAREHOUSE_LOAD_HISTORY"):
        out = stack.run_job("sync", connector_id=cid)
    assert out["status"] == "partial"
    assert str(out["rows"]["WAREHOUSE_LOAD_HISTORY"]).startswith("unreadable: ")
    counts, expected = table_counts(cid), source_counts(stack)
    assert counts["WAREHOUSE_LOAD_HISTORY"] == 0
    assert counts["QUERY_HISTORY"] == expected["QUERY_HISTORY"] > 0
    assert out["rows"]["query_rollups"] > 0 and out["rows"]["spend_rollups"] > 0
    (_, status, _, error, _, _) = _runs(cid)[-1]
    assert status == "partial" and "WAREHOUSE_LOAD_HISTORY" in error
    access = api.get(f"/api/connectors/{cid}/access", as_="member").json()
    by_view = {v["view"].removeprefix("SNOWFLAKE.ACCOUNT_USAGE."): v for v in access["views"]}
    wlh = by_view["WAREHOUSE_LOAD_HISTORY"]
    assert wlh["status"] == "unreadable" and wlh["readable"] is False and "does not exist" in wlh["reason"]
    assert wlh["grant"] == "GRANT DATABASE ROLE SNOWFLAKE.USAGE_VIEWER TO ROLE SNOWWATCH_READER;"
    assert access["missing_grants"] == [wlh["grant"]]
    assert by_view["QUERY_HISTORY"]["status"] == "readable" and by_view["LOGIN_HISTORY"]["status"] == "unknown"
    # once readable again, the next run loads it and succeeds
    again = stack.run_job("sync", connector_id=cid)
    assert again["status"] == "succeeded"
    assert table_counts(cid) == source_counts(stack)
    after = api.get(f"/api/connectors/{cid}/access", as_="member").json()
    assert after["missing_grants"] == [] and all(
        v["status"] == "readable" for v in after["views"] if v["job"] == "sync" and "ATTRIBUTION" not in v["view"]
    )


def test_out_of_time_run_continues_itself_until_done(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given runs that each have time for 8 windows, when sync starts, then each run stops starting windows,
    records its progress and queues its continuation (a run that `continues` it), the post-load steps (hourly cost
    share, query rollups) stop and continue the same way (a window per statement), the chain ends with exactly the
    source's rows, and the query rollups finished in the last run, the retention after them."""
    from snowwatch.services import extraction

    calls = {"n": 0}

    def exhausted(self: extraction.Budget) -> bool:
        calls["n"] += 1
        return calls["n"] % 9 == 0

    monkeypatch.setattr(extraction.Budget, "exhausted", exhausted)
    monkeypatch.setattr(extraction, "ONE_WINDOW_ROWS", 0)  # read as a large account: day windows, day walks
    cid = new_connector(stack, "sync-chain")
    first = stack.run_job("sync", connector_id=cid)
    assert first["status"] == "succeeded" and first["continuation"]
    runs = _runs(cid)
    assert len(runs) >= 5
    for previous, run in itertools.pairwise(runs):
        assert run[5] == previous[0]  # each continues the one before
    assert all(r[1] == "succeeded" for r in runs)
    for r in runs[:-1]:  # stopped while extracting, or (windows_left 0) in a post-load walk (spend rollups' first)
        assert r[4]["windows_done"] <= 9 and (r[4]["windows_left"] > 0 or "spend_rollups" in r[2])
        assert "retention_days" not in r[2]
    assert any(r[4]["windows_left"] == 0 and "hourly_share_queries" in r[2] for r in runs[:-1])  # post-load resumed
    assert runs[-1][4]["windows_left"] == 0 and "query_rollups" in runs[-1][2] and "retention_days" in runs[-1][2]
    assert table_counts(cid) == source_counts(stack)
    owed = pg().run(
        "SELECT count(*) FROM enterprise.sync_state WHERE connector_id = :c AND view_name LIKE 'pending:%'", c=cid
    )
    assert owed[0][0] == 0


_SYNC = """
import sys
from snowwatch.services import extraction
from snowwatch_local.handlers import load
from snowwatch_local.stack import FakeLambdaContext
extraction.ONE_WINDOW_ROWS = 0  # read as a large account: day windows, so there are windows to be killed between
load("sync").lambda_handler({"connector_id": sys.argv[1]}, FakeLambdaContext("sync"))
"""


def _kill_after_windows(proc: subprocess.Popen[bytes], connector_id: Any, windows: int) -> bool:
    """SIGKILL ``proc`` once its running run has committed ``windows`` more windows (polled, 10 ms apart)."""
    while proc.poll() is None:
        done = pg().run(
            """SELECT COALESCE((progress->>'windows_done')::int, 0) FROM enterprise.job_runs
               WHERE connector_id = :c AND status = 'running'""",
            c=connector_id,
        )
        if done and done[0][0] >= windows:
            proc.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.01)
    return False


def test_sync_killed_at_random_points_loses_and_doubles_nothing(stack: LocalStack) -> None:
    """Given a sync process killed (SIGKILL) at random points, a handful of times, and then let finish, then every
    table holds exactly the source's rows: no window lost, none loaded twice (the natural keys would double)."""
    cid = new_connector(stack, "sync-kill")
    env = {**os.environ, **stack.env(), "POWERTOOLS_LOG_LEVEL": "ERROR"}
    rng = random.Random(14)
    killed = 0
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", _SYNC, str(cid)], env=env, stdout=subprocess.DEVNULL)
        if _kill_after_windows(proc, cid, rng.randint(1, 12)):
            killed += 1
        proc.wait()
        # what the reaper does once the killed run's heartbeat stops (after STALE_SECONDS)
        pg().run(
            """UPDATE enterprise.job_runs SET heartbeat_at = now() - interval '1 hour'
               WHERE connector_id = :c AND status = 'running'""",
            c=cid,
        )
    assert killed >= 3
    marks = pg().run("SELECT count(*) FROM enterprise.sync_state WHERE connector_id = :c", c=cid)[0][0]
    assert marks > 0  # the killed runs kept the windows they finished
    out = stack.run_job("sync", connector_id=cid)
    assert out["status"] == "succeeded"
    assert table_counts(cid) == source_counts(stack)


def test_a_statement_past_the_job_timeout_is_cancelled_and_the_failure_recorded(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given JOB_STATEMENT_TIMEOUT_SECONDS=1 and a post-load statement that takes 3 s, when sync runs, then Postgres
    cancels it (statement_timeout, not the client socket), the run is `failed` with that reason (recorded on a fresh
    connection), and the statement is not left running on the server (before: no server-side bound; at 2M rows the
    hourly share died at the 30 s socket timeout and kept running)."""
    from snowwatch.repositories import rollups
    from tests.conftest import env_override

    def slow(conn: Any, *args: Any, **kwargs: Any) -> int:
        conn.run("SELECT pg_sleep(3)")
        return 0

    monkeypatch.setattr(rollups, "rebuild_spend_days", slow)
    cid = new_connector(stack, "sync-timeout")
    try:
        with env_override({"JOB_STATEMENT_TIMEOUT_SECONDS": "1"}), pytest.raises(Exception, match="statement timeout"):
            stack.run_job("sync", connector_id=cid)
    finally:
        pg().run("SET statement_timeout = 0")
    (_, status, _, error, _, _) = _runs(cid)[-1]
    assert status == "failed" and "statement timeout" in error
    left = pg().run("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(3)%' AND state = 'active'")
    assert left[0][0] == 0


def test_continuations_go_through_the_sync_queue(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given dispatch through SQS (as in AWS) and runs with time for 20 windows, when a sync starts, then its
    continuation is one message on the sync job's own queue, the queue's consumer (the event source mapping's
    stand-in) runs it and each following continuation, and the chain ends with exactly the source's rows."""
    import boto3

    from snowwatch.services import extraction
    from tests.conftest import env_override

    calls = {"n": 0}

    def exhausted(self: extraction.Budget) -> bool:
        calls["n"] += 1
        return calls["n"] % 21 == 0

    monkeypatch.setattr(extraction.Budget, "exhausted", exhausted)
    monkeypatch.setattr(extraction, "ONE_WINDOW_ROWS", 0)  # read as a large account: day windows
    cid = new_connector(stack, "sync-sqs-chain")
    assert stack.moto is not None
    queue = stack.moto.job_queue_urls["sync"]
    with env_override({"DISPATCH_MODE": "sqs"}):
        first = stack.run_job("sync", connector_id=cid)
        assert first["continuation"]
        waiting = boto3.client("sqs", region_name="us-east-1").get_queue_attributes(
            QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
        )
        assert waiting["Attributes"]["ApproximateNumberOfMessages"] == "1"
        handled = stack.pump_jobs(("sync",))
    runs = _runs(cid)
    assert handled == len(runs) - 1 >= 2
    assert all(r[1] == "succeeded" for r in runs) and runs[-1][4]["windows_left"] == 0
    assert table_counts(cid) == source_counts(stack)


def test_an_out_of_time_security_run_continues_and_judges_complete_data_once(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given security runs that each have time for 8 windows, when the security job starts on a new connector, then
    each run stops starting windows, records its progress and queues its continuation; the rules run once, in the
    run that finishes the extraction, and find exactly what one uninterrupted run finds on the same account."""
    from snowwatch.services import extraction

    reference = new_connector(stack, "security-whole")
    assert stack.run_job("security", connector_id=reference)["status"] == "succeeded"
    calls = {"n": 0}

    def exhausted(self: extraction.Budget) -> bool:
        calls["n"] += 1
        return calls["n"] % 9 == 0

    monkeypatch.setattr(extraction.Budget, "exhausted", exhausted)
    monkeypatch.setattr(extraction, "ONE_WINDOW_ROWS", 0)  # read as a large account: day windows
    cid = new_connector(stack, "security-chain")
    first = stack.run_job("security", connector_id=cid)
    assert first["status"] == "succeeded" and first["continuation"]
    runs = pg().run(
        """SELECT id, status, rows, progress, continues FROM enterprise.job_runs
           WHERE connector_id = :c AND job = 'security' ORDER BY created_at""",
        c=cid,
    )
    assert len(runs) >= 3 and all(r[1] == "succeeded" for r in runs)
    for previous, run in itertools.pairwise(runs):
        assert run[4] == previous[0]
    assert all("findings" not in r[2] and r[3]["windows_left"] > 0 for r in runs[:-1])
    assert "findings" in runs[-1][2]

    def alerts(connector_id: Any) -> set[tuple[str, str]]:
        rows = pg().run(
            "SELECT rule_id, subject FROM enterprise.snowflake_security_alerts WHERE connector_id = :c", c=connector_id
        )
        return {(r[0], r[1]) for r in rows}

    assert alerts(cid) == alerts(reference) and alerts(cid)


def test_the_run_after_a_many_window_read_re_reads_the_whole_lookback(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a connector whose first sync read QUERY_ATTRIBUTION_HISTORY in day windows (as a large account does)
    When an attribution three days old changes at the source (Snowflake's latency for that view is up to 8 hours,
    its LOOKBACK 7 days) and the next sync runs
    Then the next sync loads the change: each view's watermark is the settled point (now - LOOKBACK), not the start
    of the last window read, and no "reached" mark outlives a completed read."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from snowwatch.services import extraction

    monkeypatch.setattr(extraction, "ONE_WINDOW_ROWS", 0)  # read as a large account: day windows
    cid = new_connector(stack, "lookback-reread")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    now = datetime.now(UTC)
    mark = pg().run(
        """SELECT watermark FROM enterprise.sync_state
           WHERE connector_id = :c AND view_name = 'QUERY_ATTRIBUTION_HISTORY'""",
        c=cid,
    )[0][0]
    assert mark <= now - timedelta(days=7) + timedelta(minutes=5)
    reached = pg().run(
        "SELECT count(*) FROM enterprise.sync_state WHERE connector_id = :c AND view_name LIKE 'reached:%'", c=cid
    )
    assert reached[0][0] == 0
    with snowflake(stack) as cur:
        cur.execute(
            """SELECT QUERY_ID, CREDITS_ATTRIBUTED_COMPUTE FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_ATTRIBUTION_HISTORY
               WHERE START_TIME BETWEEN DATEADD(day, -4, CURRENT_TIMESTAMP()) AND DATEADD(day, -2, CURRENT_TIMESTAMP())
               ORDER BY QUERY_ID LIMIT 1"""
        )
        query_id, credits = cur.fetchone()
        cur.execute(
            """UPDATE SNOWFLAKE.ACCOUNT_USAGE.QUERY_ATTRIBUTION_HISTORY SET CREDITS_ATTRIBUTED_COMPUTE = 123.456
               WHERE QUERY_ID = %s""",
            (query_id,),
        )
    try:
        assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
        stored = pg().run(
            """SELECT credits_attributed_compute FROM enterprise.snowflake_query_history
               WHERE connector_id = :c AND query_id = :q""",
            c=cid,
            q=query_id,
        )
        assert stored[0][0] == Decimal("123.456")
    finally:
        with snowflake(stack) as cur:
            cur.execute(
                """UPDATE SNOWFLAKE.ACCOUNT_USAGE.QUERY_ATTRIBUTION_HISTORY SET CREDITS_ATTRIBUTED_COMPUTE = %s
                   WHERE QUERY_ID = %s""",
                (credits, query_id),
            )
