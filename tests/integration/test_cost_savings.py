"""Savings you can act on and savings you made (issue 12 items 3, 4, 6): findings counted once per claimed credits,
their exact SQL, the queries behind query-level findings, dismiss/snooze with a reason, and the credits saved once a
finding's condition disappeared, measured against the 4 weeks before (same weekdays and hours)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from snowwatch.db import query_one
from snowwatch.models.connectors import Connector
from snowwatch.services import savings, waste
from snowwatch_local.stack import LocalStack
from tests.budget_support import add_warehouse_metering, demo_org_id, make_connector
from tests.integration.cost_helpers import new_connector, sf_rows

pytestmark = pytest.mark.integration
AU = "SNOWFLAKE.ACCOUNT_USAGE"


@pytest.fixture(scope="module")
def synced(stack: LocalStack) -> str:
    cid = new_connector(stack, "cost-savings")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    return str(cid)


def _waste(api: Any, cid: str, v: str = "0") -> dict[str, Any]:
    answer = api.get(f"/api/connectors/{cid}/cost/waste", query={"v": v})
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.json()
    return body


def test_idle_credits_count_once_and_every_finding_has_its_sql(api: Any, synced: str) -> None:
    """Given TRANSFORM_WH, idle 75% with AUTO_SUSPEND 3600 (found as both high idle and long auto-suspend), when the
    waste is read, then those findings claim the same idle credits, exactly one of them counts in the total, and the
    total is the sum of the counted findings; warehouse findings carry the exact, quoted SQL. Before: the idle
    credits were counted twice (once per finding)."""
    body = _waste(api, synced)
    idle = [f for f in body["findings"] if f["claim"] == "idle:TRANSFORM_WH"]
    assert {f["kind"] for f in idle} == {"high_idle", "auto_suspend_long"}
    assert sum(f["counted"] for f in idle) == 1
    counted = [f for f in body["findings"] if f["counted"]]
    assert Decimal(str(body["total_estimated_monthly_savings"])) == sum(
        (Decimal(str(f["estimated_monthly_savings"])) for f in counted), Decimal(0)
    )
    by_key = {f["key"]: f for f in body["findings"]}
    assert by_key["auto_suspend_off:ADHOC_WH"]["sql"] == 'ALTER WAREHOUSE "ADHOC_WH" SET AUTO_SUSPEND = 60;'
    assert by_key["auto_suspend_long:TRANSFORM_WH"]["sql"] == 'ALTER WAREHOUSE "TRANSFORM_WH" SET AUTO_SUSPEND = 60;'
    assert (
        by_key["table_never_read:ARCHIVE.PUBLIC.EVENTS_2019"]["sql"] == 'DROP TABLE "ARCHIVE"."PUBLIC"."EVENTS_2019";'
    )
    assert 'CREATE RESOURCE MONITOR "TRANSFORM_WH_MONITOR"' in by_key["no_resource_monitor:TRANSFORM_WH"]["sql"]
    assert all(f["id"] for f in body["findings"])  # recorded by the sync


def test_identifiers_are_quoted_for_snowflake() -> None:
    """Given names with quotes, dots and lower case, then the SQL quotes them as Snowflake identifiers."""
    assert waste.ident('my "odd".wh') == '"my ""odd"".wh"'
    assert waste.next_size("X-Small") == "SMALL" and waste.next_size("2X-Large") == "XXXLARGE"
    assert waste.next_size("6X-Large") is None and waste.next_size(None) is None


def test_query_level_findings_name_their_queries(api: Any, stack: LocalStack, synced: str) -> None:
    """Given BI_WH's remote spilling and ADHOC_WH's full scans, when the waste is read, then each finding lists its
    most expensive queries showing the problem, with their ids, parameterized hashes and figures, as in the source."""
    body = _waste(api, synced)
    by_key = {f["key"]: f for f in body["findings"]}
    spill = by_key["remote_spilling:BI_WH"]["queries"]
    assert spill and all(q["bytes_spilled_to_remote_storage"] > 0 and q["query_id"] for q in spill)
    src = dict(
        sf_rows(
            stack,
            f"SELECT DISTINCT QUERY_ID, BYTES_SPILLED_TO_REMOTE_STORAGE FROM {AU}.QUERY_HISTORY "
            f"WHERE WAREHOUSE_NAME = 'BI_WH' AND BYTES_SPILLED_TO_REMOTE_STORAGE > 0",
        )
    )
    assert all(src[q["query_id"]] == q["bytes_spilled_to_remote_storage"] for q in spill)
    assert any(q["query_parameterized_hash"] for q in spill)
    scans = by_key["full_scans:ADHOC_WH"]["queries"]
    assert scans and all(q["partitions_scanned"] >= 0.9 * q["partitions_total"] for q in scans)


def test_dismiss_and_snooze_with_a_reason(api: Any, synced: str) -> None:
    """Given a recorded finding, when an admin dismisses it with a reason, then it stays listed, not counted, with its
    state and reason; a snooze needs a day and a reason (422 otherwise); members get 403, another org 404, an unknown
    id 404; reopening counts it again."""
    before = _waste(api, synced, "1")
    target = next(f for f in before["findings"] if f["key"] == "auto_suspend_off:ADHOC_WH")
    url = f"/api/connectors/{synced}/cost/findings/{target['id']}"
    assert api.call("PUT", url, json_body={"state": "dismissed"}).status == 422  # no reason
    assert api.call("PUT", url, json_body={"state": "snoozed", "reason": "later"}).status == 422  # no day
    assert api.call("PUT", url, as_="member", json_body={"state": "dismissed", "reason": "x"}).status == 403
    assert api.call("PUT", url, as_="other", json_body={"state": "dismissed", "reason": "x"}).status == 404
    unknown = f"/api/connectors/{synced}/cost/findings/{uuid4()}"
    assert api.call("PUT", unknown, json_body={"state": "dismissed", "reason": "x"}).status == 404
    done = api.call("PUT", url, json_body={"state": "dismissed", "reason": "dev warehouse, we accept it"})
    assert done.status == 200, done.body
    after = {f["key"]: f for f in _waste(api, synced, "2")["findings"]}
    assert after[target["key"]]["state"] == "dismissed" and not after[target["key"]]["counted"]
    assert after[target["key"]]["state_reason"] == "dev warehouse, we accept it"
    total = Decimal(str(before["total_estimated_monthly_savings"])) - Decimal(str(target["estimated_monthly_savings"]))
    assert Decimal(str(_waste(api, synced, "3")["total_estimated_monthly_savings"])) == total
    until = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    snoozed = api.call("PUT", url, json_body={"state": "snoozed", "reason": "after the migration", "until": until})
    assert snoozed.status == 200 and snoozed.json()["snoozed_until"] == until
    assert api.call("PUT", url, json_body={"state": "open"}).status == 200
    assert {f["key"]: f for f in _waste(api, synced, "4")["findings"]}[target["key"]]["state"] == "open"


def test_a_resolved_finding_measures_credits_saved_against_four_weeks_before(db: Any, api: Any) -> None:
    """Given a warehouse that never suspends, burning 2 credits an hour for 4 weeks, when its AUTO_SUSPEND is set
    (seen by the next sync) and it then burns 0.5 an hour for 48 hours, then the finding is resolved at that sync
    and the savings endpoint reports 48 x 1.5 = 72 credits saved against a complete 4-week baseline."""
    cid = make_connector(db, demo_org_id(db))
    try:
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        resolved = now - timedelta(hours=48)
        add_warehouse_metering(db, cid, "IDLE_WH", resolved - timedelta(days=29), 29 * 24, 2.0)
        add_warehouse_metering(db, cid, "IDLE_WH", resolved, 48, 0.5)
        db.run(
            """INSERT INTO enterprise.snowflake_warehouses (connector_id, warehouse_name, size, auto_suspend)
               VALUES (:c, 'IDLE_WH', 'X-Small', 0)""",
            c=cid,
        )
        connector = Connector.model_validate(query_one(db, "SELECT * FROM enterprise.connectors WHERE id = :c", c=cid))
        savings.track(db, connector, resolved - timedelta(hours=1))
        db.run("UPDATE enterprise.snowflake_warehouses SET auto_suspend = 60 WHERE connector_id = :c", c=cid)
        assert savings.track(db, connector, resolved)["resolved"] == 1
        answer = api.get(f"/api/connectors/{cid}/cost/savings")
        assert answer.status == 200, answer.body
        body = answer.json()
        (item,) = body["findings"]
        assert item["kind"] == "auto_suspend_off" and item["subject"] == "IDLE_WH"
        assert item["hours_measured"] == 48 and item["baseline_complete"]
        assert Decimal(str(item["baseline_credits"])) == 96 and Decimal(str(item["actual_credits"])) == 24
        assert Decimal(str(item["credits_saved"])) == 72 == Decimal(str(body["total"]["credits"]))
        assert Decimal(str(body["total"]["amount"])) == 216  # at 3 per credit
        assert body["figure"] == "used"
    finally:
        db.run("DELETE FROM enterprise.connectors WHERE id = :c", c=UUID(str(cid)))
