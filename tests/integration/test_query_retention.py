"""Retention of raw query rows (issue 14 item 4): the full sync drops the raw query table's daily partitions older
than QUERY_RETENTION_DAYS (+1 day of timezone slack) a day per transaction, a bounded number of days per run, only
days the rollups hold; a run cut off between two days resumes without losing or repeating a day; the query endpoints
say where their rows come from (raw_from, source).

Partitions are shared by every connector: the fixture sets the other connectors' old rows aside while it runs (and
puts them back), so the days it drops hold this connector's rows only and other tests keep theirs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from snowwatch_local.stack import LocalStack
from tests.conftest import env_override
from tests.integration.cost_helpers import new_connector, pg, rows_set_aside

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
def pruned(stack: LocalStack) -> Iterator[dict[str, Any]]:
    """Given a connector synced with every raw row kept (its rollups and raw rows recorded), when full syncs run with
    a 20-day window and 4 days per run, the second of its partition drops failing once (a run killed between two
    days)."""
    cid = new_connector(stack, "retention")
    with env_override({"QUERY_RETENTION_DAYS": "400"}):
        assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    before = {"rollups": _rollups(cid), "raw": _raw(cid)}
    assert _kept_from(cid) is None
    # 20 days and a day of timezone slack before today (UTC)
    keep_from = datetime.combine(datetime.now(UTC).date() - timedelta(days=KEEP_DAYS + 1), datetime.min.time(), UTC)
    with rows_set_aside(cid, keep_from):
        yield _prune(stack, cid, before, keep_from)


def _prune(stack: LocalStack, cid: UUID, before: dict[str, Any], keep_from: datetime) -> dict[str, Any]:
    from snowwatch.repositories import query_partitions

    kept_rows = int(
        pg().run(
            "SELECT count(*) FROM enterprise.snowflake_query_history WHERE connector_id = :c AND start_time >= :k",
            c=cid,
            k=keep_from,
        )[0][0]
    )

    real = query_partitions.drop_query_partition
    calls: list[datetime] = []

    def killed_on_second(conn: Any, day: date) -> bool:
        calls.append(datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC))
        if len(calls) == 2:
            raise RuntimeError("injected kill between two days")
        return real(conn, day)

    with env_override(RETENTION):
        with pytest.MonkeyPatch.context() as mp, pytest.raises(RuntimeError):
            mp.setattr(query_partitions, "drop_query_partition", killed_on_second)
            stack.run_job("sync", connector_id=cid)
        after_kill = {"kept_from": _kept_from(cid), "raw": _raw(cid), "rollups": _rollups(cid)}
        runs = [stack.run_job("sync", connector_id=cid) for _ in range(6)]
    return {
        "oldest_partition": query_partitions.partition_days(pg())[0],
        "cid": cid,
        "before": before,
        "keep_from": keep_from,
        "kept_rows": kept_rows,
        "first_day_end": calls[0],
        "after_kill": after_kill,
        "runs": runs,
    }


def test_retention_drops_old_days_in_bounded_resumable_steps(pruned: dict[str, Any]) -> None:
    """Then the killed run kept the one day it finished (its partition and rows gone, the mark on its end) and
    nothing else; each later run drops at most 4 days; in the end exactly the raw rows of the last 20 days and the
    day of slack are left, no partition older, and every rollup row (of dropped days too) is what it was with every
    raw row kept."""
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
    assert pruned["oldest_partition"] == pruned["keep_from"].date()


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
