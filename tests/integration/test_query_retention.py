"""Retention of raw query rows (issue 14 item 4): the full sync deletes raw rows older than QUERY_RETENTION_DAYS a
local day per transaction, a bounded number of days per run, only days the rollups hold; a run cut off between two
days resumes without losing or repeating a day; the query endpoints say where their rows come from (raw_from,
source)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from snowwatch_local.stack import LocalStack
from tests.conftest import env_override
from tests.integration.cost_helpers import new_connector, pg

pytestmark = pytest.mark.integration

KEEP_DAYS = 20
PER_RUN = 4
RETENTION = {"QUERY_RETENTION_DAYS": str(KEEP_DAYS), "QUERY_RETENTION_DAYS_PER_RUN": str(PER_RUN)}


def _rollups(cid: UUID) -> list[tuple[Any, ...]]:
    """Every query rollup and per-hash day row of the connector, in a stable order."""
    rows = pg().run(
        """SELECT 'r', dim, usage_date, key1, key2, queries, credits_compute, credits_cloud_services
           FROM enterprise.snowflake_query_rollup WHERE connector_id = :c
           UNION ALL
           SELECT 'h', days::text, usage_date, query_parameterized_hash, '', queries, credits_compute,
                  credits_cloud_services
           FROM enterprise.snowflake_query_hash_daily WHERE connector_id = :c
           ORDER BY 1, 2, 3, 4, 5""",
        c=cid,
    )
    return [tuple(r) for r in rows]


def _raw(cid: UUID) -> tuple[datetime, int]:
    oldest, n = pg().run(
        "SELECT min(start_time), count(*) FROM enterprise.snowflake_query_history WHERE connector_id = :c", c=cid
    )[0]
    return oldest, int(n)


def _kept_from(cid: UUID) -> datetime | None:
    rows = pg().run(
        "SELECT watermark FROM enterprise.sync_state WHERE connector_id = :c AND view_name = 'retained:queries'",
        c=cid,
    )
    return rows[0][0] if rows else None


@pytest.fixture(scope="module")
def pruned(stack: LocalStack) -> dict[str, Any]:
    """Given a connector synced with every raw row kept (its rollups and raw rows recorded), when full syncs run with
    a 20-day window and 4 days per run, the second of its deletes failing once (a run killed between two days)."""
    from snowwatch.repositories import cost_sync

    cid = new_connector(stack, "retention")
    with env_override({"QUERY_RETENTION_DAYS": "400"}):
        assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    before = {"rollups": _rollups(cid), "raw": _raw(cid)}
    assert _kept_from(cid) is None
    keep_from = datetime.combine(datetime.now(UTC).date() - timedelta(days=KEEP_DAYS), datetime.min.time(), UTC)
    kept_rows = int(
        pg().run(
            "SELECT count(*) FROM enterprise.snowflake_query_history WHERE connector_id = :c AND start_time >= :k",
            c=cid,
            k=keep_from,
        )[0][0]
    )

    real = cost_sync.delete_queries_before
    calls: list[datetime] = []

    def killed_on_second(conn: Any, connector_id: Any, until: datetime) -> int:
        calls.append(until)
        if len(calls) == 2:
            raise RuntimeError("injected kill between two days")
        return real(conn, connector_id, until)

    with env_override(RETENTION):
        with pytest.MonkeyPatch.context() as mp, pytest.raises(RuntimeError):
            mp.setattr(cost_sync, "delete_queries_before", killed_on_second)
            stack.run_job("sync", connector_id=cid)
        after_kill = {"kept_from": _kept_from(cid), "raw": _raw(cid), "rollups": _rollups(cid)}
        runs = [stack.run_job("sync", connector_id=cid) for _ in range(6)]
    return {
        "cid": cid,
        "before": before,
        "keep_from": keep_from,
        "kept_rows": kept_rows,
        "first_day_end": calls[0],
        "after_kill": after_kill,
        "runs": runs,
    }


def test_retention_deletes_old_days_in_bounded_resumable_steps(pruned: dict[str, Any]) -> None:
    """Then the killed run kept the one day it finished (its rows gone, the mark on its end) and nothing else; each
    later run deletes at most 4 days; in the end exactly the raw rows of the last 20 days are left, and every
    rollup row (of deleted days too) is what it was with every raw row kept."""
    cid, before, kill = pruned["cid"], pruned["before"], pruned["after_kill"]
    assert kill["kept_from"] == pruned["first_day_end"]
    assert kill["raw"][0] >= pruned["first_day_end"] and kill["raw"][1] < before["raw"][1]
    assert kill["rollups"] == before["rollups"]
    days = [r["rows"]["retention_days"] for r in pruned["runs"]]
    assert all(r["status"] == "succeeded" for r in pruned["runs"])
    assert days[0] == PER_RUN and all(0 <= n <= PER_RUN for n in days) and days[-1] == 0
    oldest, count = _raw(cid)
    assert oldest >= pruned["keep_from"] and count == pruned["kept_rows"]
    assert _kept_from(cid) == pruned["keep_from"]
    assert _rollups(cid) == before["rollups"]


def test_query_endpoints_say_where_their_rows_come_from(api: Any, pruned: dict[str, Any]) -> None:
    """When the query endpoints are asked for 30 days (reaching before the raw window), then single queries answer
    from the raw rows with the window clamped to raw_from, and the grouped answers, users and attribution come from
    the rollups over the whole range."""
    cid = pruned["cid"]
    raw_from: date = pruned["keep_from"].date()
    end = datetime.now(UTC).date()
    start = end - timedelta(days=29)
    base = f"/api/connectors/{cid}/cost"
    window = {"start": start.isoformat(), "end": end.isoformat()}
    single = api.get(f"{base}/queries", query={**window, "group_by": "query"}).json()
    assert single["source"] == "raw" and single["raw_from"] == raw_from.isoformat()
    assert single["window"] == {"start": raw_from.isoformat(), "end": end.isoformat()}
    assert single["page"]["items"] and all(i["start_time"] >= raw_from.isoformat() for i in single["page"]["items"])
    for path, query in (
        ("queries", {"group_by": "parameterized_hash"}),
        ("users", {"group_by": "user"}),
        ("attribution", {"by": "query_tag"}),
    ):
        answer = api.get(f"{base}/{path}", query={**window, **query})
        assert answer.status == 200, answer.body
        body = answer.json()
        assert body["source"] == "rollup" and body["raw_from"] == raw_from.isoformat(), path
        assert body["window"] == window, path
    users = api.get(f"{base}/users", query={**window, "group_by": "user"}).json()
    assert int(users["page"]["total"]) > 0
