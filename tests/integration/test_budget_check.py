"""budget_check and snapshot against real Postgres: scopes, periods, timezones, forecast, once per period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from tests.budget_support import (
    add_metering,
    add_tagged_queries,
    add_warehouse_metering,
    demo_org_id,
    insert_budget,
    job_ctx,
    make_connector,
)

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
MONTH_START = datetime(2026, 3, 1, tzinfo=UTC)


def _alerts(db, bid: UUID) -> list[tuple]:
    return db.run(
        """SELECT threshold_key, kind, period_start::text, spend, forecast, percent
           FROM enterprise.snowflake_budget_alerts WHERE budget_id = :b ORDER BY period_start, threshold_key, kind""",
        b=bid,
    )


def _check(db, settings, cid, now=NOW):
    from snowwatch.services.budgets import check_budgets

    return check_budgets(db, job_ctx(db, cid, settings), now=now)


def test_account_thresholds_actual_forecast_and_absolute_fire_once(db, job_settings) -> None:
    """Given 1 credit/hour since March 1st and a monthly budget of 800 credits, when checked on March 20 12:00,
    then spend is 468, the forecast 744 (trailing-week run rate 1/h x 276 h left) and exactly the crossed
    thresholds fire; a second run fires nothing."""
    cid = make_connector(db, demo_org_id(db))
    add_metering(db, cid, MONTH_START - timedelta(days=10), 24 * 40, 1)
    bid = insert_budget(
        db,
        cid,
        thresholds=[
            {"type": "percent", "value": 50, "basis": "actual"},
            {"type": "percent", "value": 90, "basis": "actual"},
            {"type": "percent", "value": 90, "basis": "forecast"},
            {"type": "percent", "value": 100, "basis": "forecast"},
            {"type": "absolute", "value": 450, "basis": "actual"},
        ],
    )
    first = _check(db, job_settings, cid)
    assert first["alerts"] == 3
    assert first["notifications"] == 3  # email only: no Slack target
    rows = _alerts(db, bid)
    assert [(r[0], r[1]) for r in rows] == [
        ("absolute:450", "actual"),
        ("percent:50", "actual"),
        ("percent:90", "forecast"),
    ]
    assert {r[2] for r in rows} == {"2026-03-01"}
    assert rows[0][3] == Decimal("468.0000")
    assert rows[0][4] == Decimal("744.0000")
    assert rows[2][5] == Decimal("93.00")  # forecast percent for a forecast alert
    assert _check(db, job_settings, cid)["alerts"] == 0
    later = _check(db, job_settings, cid, now=NOW + timedelta(days=3))  # 540 spent: still under 90% actual
    assert later["alerts"] == 0


def test_next_period_fires_again(db, job_settings) -> None:
    """Given a daily budget that fired today, when tomorrow's spend crosses again, then it fires for tomorrow."""
    cid = make_connector(db, demo_org_id(db))
    add_metering(db, cid, NOW - timedelta(days=2), 24 * 4, 2)
    bid = insert_budget(db, cid, period="daily", amount=Decimal(20), thresholds=[{"type": "percent", "value": 100}])
    assert _check(db, job_settings, cid)["alerts"] == 1  # 12 h x 2 = 24 >= 20
    assert _check(db, job_settings, cid, now=NOW + timedelta(hours=6))["alerts"] == 0
    assert _check(db, job_settings, cid, now=NOW + timedelta(days=1))["alerts"] == 1
    assert [r[2] for r in _alerts(db, bid)] == ["2026-03-20", "2026-03-21"]


def test_warehouse_scope_counts_only_listed_warehouses_and_currency_uses_price(db, job_settings) -> None:
    """Given two warehouses, when a currency budget lists one, then only its credits x price count."""
    cid = make_connector(db, demo_org_id(db), credit_price="2.5")
    add_warehouse_metering(db, cid, "ETL_WH", MONTH_START, 24, 1)  # 24 credits = 60.0 currency
    add_warehouse_metering(db, cid, "BI_WH", MONTH_START, 24, 100)
    bid = insert_budget(
        db,
        cid,
        scope_type="warehouses",
        scope_warehouses=["ETL_WH"],
        amount=Decimal(100),
        amount_unit="currency",
        thresholds=[{"type": "percent", "value": 50}, {"type": "percent", "value": 70}],
    )
    assert _check(db, job_settings, cid)["alerts"] == 1
    (row,) = _alerts(db, bid)
    assert row[0] == "percent:50" and row[3] == Decimal("60.0000") and row[5] == Decimal("60.00")


def test_query_tag_scope_uses_attributed_credits(db, job_settings) -> None:
    cid = make_connector(db, demo_org_id(db))
    add_tagged_queries(db, cid, "team:etl", MONTH_START + timedelta(days=1), 100, 0.5)  # 50 credits
    add_tagged_queries(db, cid, "team:bi", MONTH_START + timedelta(days=1), 100, 5)
    bid = insert_budget(
        db,
        cid,
        scope_type="query_tag",
        scope_query_tag="team:etl",
        amount=Decimal(60),
        thresholds=[{"type": "percent", "value": 80}, {"type": "percent", "value": 90}],
    )
    assert _check(db, job_settings, cid)["alerts"] == 1
    assert _alerts(db, bid)[0][3] == Decimal("50.0000")


def test_period_boundaries_follow_the_connector_timezone(db, job_settings) -> None:
    """Given a New York connector, when it is 02:00 UTC on March 20, then the daily period is March 19 local
    and spend from 04:00 UTC March 19 (00:00 EDT) on counts."""
    cid = make_connector(db, demo_org_id(db), timezone="America/New_York")
    add_metering(db, cid, datetime(2026, 3, 19, 0, tzinfo=UTC), 26, 1)  # 00:00Z 19th .. 01:00Z 20th
    bid = insert_budget(db, cid, period="daily", amount=Decimal(100), thresholds=[{"type": "absolute", "value": 1}])
    _check(db, job_settings, cid, now=datetime(2026, 3, 20, 2, 0, tzinfo=UTC))
    (row,) = _alerts(db, bid)
    assert row[2] == "2026-03-19"
    assert row[3] == Decimal("22.0000")  # 04:00Z .. 01:00Z inclusive


def test_weekly_quarterly_yearly_periods(db, job_settings) -> None:
    from snowwatch.repositories import budgets as repo

    cid = make_connector(db, demo_org_id(db))
    ids = {p: insert_budget(db, cid, name=p, period=p) for p in ("weekly", "quarterly", "yearly")}
    status = repo.status(db, NOW, cid)
    assert str(status[ids["weekly"]]["period_start"]) == "2026-03-16"  # Monday
    assert str(status[ids["weekly"]]["period_end"]) == "2026-03-22"
    assert str(status[ids["quarterly"]]["period_start"]) == "2026-01-01"
    assert str(status[ids["quarterly"]]["period_end"]) == "2026-03-31"
    assert str(status[ids["yearly"]]["period_end"]) == "2026-12-31"


def test_empty_alert_emails_go_to_org_admins_and_slack_gets_its_own_row(db, job_settings) -> None:
    """Given no alert_emails and a Slack target, when a threshold fires, then one email row to the admins
    and one Slack row, each with a unique dedupe key."""
    cid = make_connector(db, demo_org_id(db))
    add_metering(db, cid, MONTH_START, 24, 10)
    bid = insert_budget(
        db,
        cid,
        alert_emails=[],
        slack_channel="#finops",
        slack_secret_ref="arn:aws:secretsmanager:us-east-1:0:secret:x",
        thresholds=[{"type": "percent", "value": 10}],
    )
    assert _check(db, job_settings, cid)["notifications"] == 2
    rows = db.run(
        """SELECT n.channel, n.recipients, n.status, n.payload->'slack'->>'channel', n.dedupe_key
           FROM enterprise.notifications n JOIN enterprise.snowflake_budget_alerts a ON a.id = n.source_id
           WHERE a.budget_id = :b ORDER BY n.channel""",
        b=bid,
    )
    assert rows[0][0] == "email" and "admin@demo.snowwatch.local" in rows[0][1] and rows[0][2] == "pending"
    assert rows[1][0] == "slack" and rows[1][1] == ["#finops"] and rows[1][3] == "#finops"
    assert rows[0][4].endswith(":email") and rows[1][4].endswith(":slack")


def test_inactive_budgets_and_paused_connectors_are_skipped(db, job_settings) -> None:
    cid = make_connector(db, demo_org_id(db))
    add_metering(db, cid, MONTH_START, 24, 10)
    insert_budget(db, cid, active=False, thresholds=[{"type": "percent", "value": 1}])
    assert _check(db, job_settings, cid)["alerts"] == 0
    paused = make_connector(db, demo_org_id(db))
    add_metering(db, paused, MONTH_START, 24, 10)
    insert_budget(db, paused, thresholds=[{"type": "percent", "value": 1}])
    db.run("UPDATE enterprise.connectors SET status = 'paused' WHERE id = :c", c=paused)
    assert _check(db, job_settings, paused)["alerts"] == 0


def test_snapshot_is_one_row_per_budget_per_day_and_idempotent(db, job_settings) -> None:
    """Given a budget, when snapshot runs twice, then yesterday's closing row and today's row exist once each."""
    from snowwatch.services.budgets import snapshot_budgets

    cid = make_connector(db, demo_org_id(db))
    add_metering(db, cid, MONTH_START, 24 * 25, 1)
    bid = insert_budget(db, cid, thresholds=[])
    ctx = job_ctx(db, cid, job_settings)
    assert snapshot_budgets(db, ctx, now=NOW) == {"snapshots_closed": 1, "snapshots_today": 1}
    snapshot_budgets(db, ctx, now=NOW + timedelta(hours=1))
    rows = db.run(
        "SELECT snapshot_date::text, spend, percent FROM enterprise.snowflake_budget_snapshots WHERE budget_id = :b "
        "ORDER BY snapshot_date",
        b=bid,
    )
    assert rows == [
        ["2026-03-19", Decimal("456.0000"), Decimal("57.00")],  # closed at local midnight: 19 days
        ["2026-03-20", Decimal("469.0000"), Decimal("58.63")],  # to 13:00
    ]
