"""Retention of the daily rollups (issue 14): the full sync deletes rollup rows (query, per-hash, spend, warehouse
load) of local months older than ROLLUP_RETENTION_MONTHS, a month per transaction with the retained-from mark,
stopping on the run's time; the rollups are never rebuilt before the mark, and the cost endpoints say where the kept
rollups start (``rollups_from``: a range reaching before it is clamped, one wholly before it is empty)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector, pg

pytestmark = pytest.mark.integration

TABLES = (
    "snowflake_query_rollup",
    "snowflake_query_hash_daily",
    "snowflake_spend_daily",
    "snowflake_warehouse_load_daily",
)


def _rows(cid: UUID, since: date | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """The connector's rollup rows (of local days from ``since`` on), every column, in a stable order (floats, the
    warehouse load sums whose last digits depend on the summing order, to 9 significant digits)."""
    conn = pg()
    return {
        t: sorted(
            tuple(f"{v:.9g}" if isinstance(v, float) else str(v) for v in r)
            for r in conn.run(
                f"SELECT * FROM enterprise.{t} WHERE connector_id = :c AND usage_date >= :d",
                c=cid,
                d=since or date(1900, 1, 1),
            )
        )
        for t in TABLES
    }


def _oldest(cid: UUID) -> date:
    conn = pg()
    return min(
        conn.run(f"SELECT min(usage_date) FROM enterprise.{t} WHERE connector_id = :c", c=cid)[0][0] for t in TABLES
    )


def _mark(cid: UUID) -> datetime | None:
    rows = pg().run(
        "SELECT watermark FROM enterprise.sync_state WHERE connector_id = :c AND view_name = 'retained:rollups'", c=cid
    )
    return rows[0][0] if rows else None


@pytest.fixture(scope="module")
def pruned(stack: LocalStack) -> dict[str, Any]:
    """Given a synced connector whose rollup rows are also copied to two earlier spans (whole weeks back: one
    straddling the first kept day of 13 months, one wholly before it), when full syncs run that have time for one
    month of rollup retention each."""
    from snowwatch.services import extraction, post_load

    cid = new_connector(stack, "rollup-retention")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    conn = pg()
    keep_from = post_load.rollup_keep_from(datetime.now(UTC).date(), 13)
    first = _oldest(cid)
    near = ((first - keep_from).days // 7 + 2) * 7  # the first copy starts 8-14 days before keep_from
    for shift in (near, near + 7 * 10):
        for t in TABLES:
            cols = [
                r[0]
                for r in conn.run(
                    """SELECT column_name FROM information_schema.columns
                       WHERE table_schema = 'enterprise' AND table_name = :t ORDER BY ordinal_position""",
                    t=t,
                )
            ]
            select = ", ".join(f"usage_date - {shift}" if c == "usage_date" else c for c in cols)
            conn.run(
                f"""INSERT INTO enterprise.{t} ({", ".join(cols)})
                    SELECT {select} FROM enterprise.{t} WHERE connector_id = :c AND usage_date >= :f""",
                c=cid,
                f=first,
            )
    before = _rows(cid, keep_from)
    assert _oldest(cid) < keep_from and any(before[t] for t in TABLES) and _mark(cid) is None

    def exhausted(self: extraction.Budget) -> bool:
        return sys._getframe(1).f_code.co_name == "rollup_retention"

    marks, runs = [], []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(extraction.Budget, "exhausted", exhausted)
        for _ in range(5):
            runs.append(stack.run_job("sync", connector_id=cid))
            marks.append(_mark(cid))
    return {"cid": cid, "keep_from": keep_from, "before": before, "runs": runs, "marks": marks}


def test_rollup_retention_deletes_old_months_one_per_transaction(pruned: dict[str, Any]) -> None:
    """Then each run deletes one month (oldest first, the mark on its end), the last runs none; in the end no rollup
    row is older than the first kept day, the mark is on it, and every kept row is what it was."""
    cid, keep_from = pruned["cid"], pruned["keep_from"]
    months = [r["rows"]["rollup_retention_months"] for r in pruned["runs"]]
    assert all(r["status"] == "succeeded" for r in pruned["runs"])
    assert months[0] == 1 and all(n in (0, 1) for n in months) and sum(months) >= 2 and months[-1] == 0
    marks = [m for m in pruned["marks"] if m is not None]
    assert marks == sorted(marks) and all(m.astimezone(UTC).day == 1 for m in marks)
    assert pruned["marks"][-1] == datetime.combine(keep_from, datetime.min.time(), UTC)
    assert _oldest(cid) >= keep_from
    assert _rows(cid, keep_from) == pruned["before"]


def test_rollups_are_never_rebuilt_before_the_mark(pruned: dict[str, Any]) -> None:
    """When the query and spend rollups are planned from long before the mark (a backfill, a timezone change), then
    they start on the first kept day at the earliest."""
    from snowwatch.db import transaction
    from snowwatch.repositories import rollups

    conn, cid, keep_from = pg(), pruned["cid"], pruned["keep_from"]
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    with transaction(conn):
        assert rollups.spend_rebuild_from(conn, cid, "UTC", long_ago) == keep_from
        assert rollups.query_rebuild_from(conn, cid, "UTC", long_ago) == keep_from
        assert rollups.rollups_from(conn, cid, "UTC") == keep_from


def test_cost_endpoints_say_where_the_kept_rollups_start(api: Any, pruned: dict[str, Any]) -> None:
    """When the rollup-read endpoints are asked for a range wholly before the kept rollups, then they answer 200 with
    nothing and say rollups_from (the window starting there, after its end); for a range reaching before it, the
    window is clamped to start on it and the answer holds the kept days."""
    cid, keep_from = pruned["cid"], pruned["keep_from"]
    base = f"/api/connectors/{cid}/cost"
    before = {
        "start": (keep_from - timedelta(days=60)).isoformat(),
        "end": (keep_from - timedelta(days=30)).isoformat(),
    }
    reaching = {
        "start": (keep_from - timedelta(days=20)).isoformat(),
        "end": (keep_from + timedelta(days=3)).isoformat(),
    }
    paths = (
        ("users", {"group_by": "user"}, "page"),
        ("queries", {"group_by": "parameterized_hash"}, "page"),
        ("attribution", {"by": "query_tag"}, "page"),
        ("daily", {"group_by": "warehouse"}, "items"),
        ("warehouses", {}, "page"),
        ("overview", {}, "by_service_type"),
    )
    for path, query, items in paths:
        for rng, empty in ((before, True), (reaching, False)):
            answer = api.get(f"{base}/{path}", query={**rng, **query})
            assert answer.status == 200, (path, answer.body)
            body = answer.json()
            assert body["rollups_from"] == keep_from.isoformat(), path
            assert body["window"] == {"start": keep_from.isoformat(), "end": rng["end"]}, path
            found = body[items]["items"] if isinstance(body[items], dict) else body[items]
            assert (not found) if empty else bool(found), (path, rng)
