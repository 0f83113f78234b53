"""budget_check reads whole local days from the daily spend rollup (snowflake_spend_daily) and today's hours from
the raw metering rows; a connector whose rollup is missing or was built in another timezone reads raw rows only.
The hourly metering sync rebuilds the re-read days before the hourly check."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from tests.budget_support import (
    add_metering,
    add_warehouse_metering,
    demo_org_id,
    insert_budget,
    job_ctx,
    make_connector,
)

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def _rebuild(db, cid: UUID, since: datetime | None = None) -> None:
    """The spend rollups, built as the sync builds them (same function, own transaction)."""
    from snowwatch.db import transaction
    from snowwatch.repositories import rollups

    tz = db.run("SELECT timezone FROM enterprise.connectors WHERE id = :c", c=cid)[0][0]
    with transaction(db):
        rollups.rebuild_spend_rollups(db, cid, tz, since)


def _spend(db, cid: UUID, now: datetime, close: bool = False) -> dict[str, tuple[Any, ...]]:
    """Per budget name: (period_start, spend, forecast, percent, forecast_percent), as the pass computes them."""
    from snowwatch.db import query
    from snowwatch.repositories import budgets as repo

    rows = query(
        db,
        f"""WITH {repo.STATE}
            SELECT name, period_start::text AS ps, spend4, forecast, percent, forecast_percent FROM state""",
        **repo._filters(now, connector_id=cid, close=close, active_only=False),
    )
    return {r["name"]: (r["ps"], r["spend4"], r["forecast"], r["percent"], r["forecast_percent"]) for r in rows}


def _twins(db, timezone: str) -> tuple[UUID, UUID]:
    """Two connectors with the same spend and budgets: the first gets its rollups, the second never does."""
    org = demo_org_id(db)
    pair = (make_connector(db, org, timezone=timezone), make_connector(db, org, timezone=timezone))
    for cid in pair:
        start = datetime(2025, 12, 20, 0, tzinfo=UTC)
        hours = int((NOW - start).total_seconds() // 3600) + 36  # past NOW: rows "from the future" of a past instant
        add_metering(db, cid, start, hours, 0.5)
        add_metering(db, cid, start + timedelta(hours=5), hours - 5, 0.25, service_type="AUTO_CLUSTERING")
        add_warehouse_metering(db, cid, "ETL_WH", start, hours, 1.5)
        add_warehouse_metering(db, cid, "BI_WH", start + timedelta(hours=7), hours - 7, 0.75)
        for period in ("daily", "weekly", "monthly", "quarterly", "yearly"):
            insert_budget(db, cid, name=f"acct-{period}", period=period)
            insert_budget(
                db, cid, name=f"etl-{period}", period=period, scope_type="warehouses", scope_warehouses=["ETL_WH"]
            )
            insert_budget(
                db,
                cid,
                name=f"both-{period}",
                period=period,
                scope_type="warehouses",
                scope_warehouses=["ETL_WH", "BI_WH"],
                amount_unit="currency",
            )
    _rebuild(db, pair[0])
    return pair


@pytest.mark.parametrize("timezone", ["UTC", "Asia/Kolkata", "America/New_York"])
def test_rollup_days_plus_raw_hours_equal_the_raw_rows_exactly(db, timezone: str) -> None:
    """Given twin connectors with the same hourly spend, one with its daily rollup and one without, when the
    pass evaluates every period kind at instants inside a day, at a local midnight, on a DST switch and at the
    snapshot's close, then spend, forecast and percents are identical (whole days from the rollup, the current
    day's hours from the raw rows - even for an instant before some of that day's rows)."""
    rolled, raw = _twins(db, timezone)
    instants = [
        NOW,
        NOW - timedelta(hours=30, minutes=17),
        datetime(2026, 3, 8, 10, 0, tzinfo=UTC),  # the US switches to daylight time that night (local)
        datetime(2026, 3, 16, 4, 0, tzinfo=UTC),  # midnight in New York
        datetime(2026, 1, 1, 0, 0, tzinfo=UTC),  # a year, quarter and month boundary in UTC
    ]
    for now in instants:
        for close in (False, True):
            got, want = _spend(db, rolled, now, close), _spend(db, raw, now, close)
            assert got == want, (now, close)
    assert _spend(db, rolled, NOW)["acct-monthly"][1] > 0


def test_a_rolled_connector_reads_past_days_from_the_rollup_and_today_from_raw_rows(db) -> None:
    """Given a rolled connector, when raw rows change without a rollup rebuild, then a past day's change is not
    seen (that day is read from the rollup) while today's is, and a rebuild of those days (what the next sync
    does for the days it re-reads) brings the past day in."""
    rolled, raw = _twins(db, "Europe/Berlin")
    before = _spend(db, rolled, NOW)["acct-monthly"][1]
    for cid in (rolled, raw):
        db.run(  # a late correction for March 10 and a new row for this morning
            """UPDATE enterprise.snowflake_metering_history SET credits_used = credits_used + 40
               WHERE connector_id = :c AND service_type = 'WAREHOUSE_METERING'
                 AND start_time IN ('2026-03-10 09:00+00', '2026-03-20 08:00+00')""",
            c=cid,
        )
    assert _spend(db, raw, NOW)["acct-monthly"][1] == before + 80
    assert _spend(db, rolled, NOW)["acct-monthly"][1] == before + 40  # today's hour only
    _rebuild(db, rolled, datetime(2026, 3, 9, tzinfo=UTC))
    assert _spend(db, rolled, NOW) == _spend(db, raw, NOW)


def test_a_connector_whose_rollup_is_in_another_timezone_reads_raw_rows(db) -> None:
    """Given a connector whose rollup was built in UTC, when its timezone changes to Asia/Tokyo (the sync has not
    rebuilt it yet), then the pass reads raw rows in Tokyo days - the rollup's UTC days would split wrongly -
    exactly like the cost endpoints do until the next sync."""
    rolled, raw = _twins(db, "UTC")
    for cid in (rolled, raw):
        db.run("UPDATE enterprise.connectors SET timezone = 'Asia/Tokyo' WHERE id = :c", c=cid)
    state = db.run("SELECT timezone FROM enterprise.snowflake_rollup_state WHERE connector_id = :c", c=rolled)
    assert state == [["UTC"]]
    db.run(  # a change the UTC rollup does not hold: only a raw read sees it
        """UPDATE enterprise.snowflake_warehouse_metering SET credits_used = credits_used + 7
           WHERE connector_id = ANY(:c) AND start_time = '2026-03-18 03:00+00'""",
        c=[rolled, raw],
    )
    assert _spend(db, rolled, NOW) == _spend(db, raw, NOW)
    _rebuild(db, rolled)  # the next sync: every day again, in Tokyo
    assert _spend(db, rolled, NOW) == _spend(db, raw, NOW)


# ---------------------------------------------------------------------------------------------- freshness


def _in_window(at: datetime, params: dict[str, Any] | None) -> bool:
    """The extraction's window, [since, until), given as UTC timestamp literals."""

    def bound(name: str) -> datetime | None:
        value = (params or {}).get(name)
        return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)

    since, until = bound("since"), bound("until")
    return (since is None or at >= since) and (until is None or at < until)


class _Snowflake:
    """Stands in for the connector's Snowflake session in the real sync: the metering views' rows, by SELECT."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.statements = 0

    def fetch_batches(
        self, sql: str, params: dict[str, Any] | None = None, size: int = 50_000
    ) -> Iterator[list[dict[str, Any]]]:
        from snowwatch.services import sync

        self.statements += 1
        (view,) = [v for v in sync.VIEWS if sql == v.query.SELECT]
        rows = [r for r in self.rows.get(view.name, []) if _in_window(r["START_TIME"], params)]
        if rows:
            yield rows

    def fetch(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The one other statement the windowed extraction sends: the oldest source time of a view."""
        from snowwatch.services import sync

        self.statements += 1
        (view,) = [v for v in sync.VIEWS if f"FROM {v.query.VIEW} " in sql]
        times = [r["START_TIME"] for r in self.rows.get(view.name, []) if _in_window(r["START_TIME"], params)]
        return [{"FIRST_TIME": min(times) if times else None}]

    def exists(self, view: str) -> bool:
        return True


def _hour_rows(warehouse: str, start: datetime, hours: int, credits: float) -> dict[str, list[dict[str, Any]]]:
    wh, mh = [], []
    for h in range(hours):
        t = start + timedelta(hours=h)
        c = Decimal(str(credits))
        wh.append(
            {
                "WAREHOUSE_ID": 7,
                "WAREHOUSE_NAME": warehouse,
                "START_TIME": t,
                "END_TIME": t + timedelta(hours=1),
                "CREDITS_USED": c,
                "CREDITS_USED_COMPUTE": c,
                "CREDITS_USED_CLOUD_SERVICES": Decimal(0),
            }
        )
        mh.append(
            {
                "SERVICE_TYPE": "WAREHOUSE_METERING",
                "ENTITY_ID": 7,
                "ENTITY_TYPE": "WAREHOUSE",
                "NAME": warehouse,
                "START_TIME": t,
                "END_TIME": t + timedelta(hours=1),
                "CREDITS_USED_COMPUTE": c,
                "CREDITS_USED_CLOUD_SERVICES": Decimal(0),
                "CREDITS_USED": c,
            }
        )
    return {"WAREHOUSE_METERING_HISTORY": wh, "METERING_HISTORY": mh}


def test_the_hourly_metering_sync_feeds_the_next_budget_check_within_the_hour(db, job_settings, monkeypatch) -> None:
    """Given a connector synced hourly (rollups built in its timezone, where it is about noon now), when the
    metering sync at :05 loads the last hour (150 credits) and a late correction of yesterday's last hour
    (1 -> 500 credits), then the budget check at :20 fires in the same hour: the daily account budget on its
    actual spend (today's hours) and the daily warehouse budget on its forecast (the trailing week, whose
    yesterday comes from the rollup the sync just rebuilt). Before that sync, the same check fires nothing."""
    from snowwatch.services import jobs, sync
    from snowwatch.services.budgets import check_budgets

    snowflake = _Snowflake()

    @contextlib.contextmanager
    def session(*args: Any, **kwargs: Any) -> Iterator[_Snowflake]:
        yield snowflake

    monkeypatch.setattr(sync.SnowflakeSession, "open", session)
    monkeypatch.setattr(sync, "read_connector_secret", lambda job_settings, connector: {})

    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    offset = 12 - hour.hour  # the connector's clock shows 12:xx now
    timezone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # (POSIX signs: Etc/GMT-2 is UTC+2)
    local_midnight = hour - timedelta(hours=12)
    cid = make_connector(db, demo_org_id(db), timezone=timezone)
    account = insert_budget(
        db, cid, name="today", period="daily", amount=Decimal(100), thresholds=[{"type": "percent", "value": 100}]
    )
    forecast = insert_budget(
        db,
        cid,
        name="etl-forecast",
        period="daily",
        scope_type="warehouses",
        scope_warehouses=["ETL_WH"],
        amount=Decimal(30),
        thresholds=[{"type": "percent", "value": 100, "basis": "forecast"}],
    )

    def run_sync() -> Any:  # the hourly light run, through the shared job runner
        event = {"connector_id": str(cid), "mode": "metering", "trigger": "manual"}
        return jobs.handle(db, job_settings, "sync", event, sync.run_sync)

    def check_at_20() -> dict[str, Any]:
        return check_budgets(db, job_ctx(db, cid, job_settings), now=now)

    # three days of 1 credit/h up to two hours ago (00:00 .. 10:00 local today: 11 credits)
    start = local_midnight - timedelta(days=3)
    snowflake.rows = _hour_rows("ETL_WH", start, int((hour - timedelta(hours=1) - start) / timedelta(hours=1)), 1)
    run_sync()
    assert db.run("SELECT timezone FROM enterprise.snowflake_rollup_state WHERE connector_id = :c", c=cid) == [
        [timezone]
    ]
    assert check_at_20()["alerts"] == 0  # 11 of 100; forecast ~16 of 30

    # Snowflake now has the last hour and a corrected late hour of yesterday; the check before the sync sees none
    late, last = local_midnight - timedelta(hours=1), hour - timedelta(hours=1)
    snowflake.rows["METERING_HISTORY"].append(_hour_rows("ETL_WH", last, 1, 150)["METERING_HISTORY"][0])
    (wh_late,) = [r for r in snowflake.rows["WAREHOUSE_METERING_HISTORY"] if r["START_TIME"] == late]
    wh_late["CREDITS_USED"] = wh_late["CREDITS_USED_COMPUTE"] = Decimal(500)
    assert check_at_20()["alerts"] == 0

    run_sync()  # :05
    fired = check_at_20()  # :20, same hour
    assert fired["alerts"] == 2
    rows = db.run(
        "SELECT budget_id, kind, spend FROM enterprise.snowflake_budget_alerts WHERE connector_id = :c ORDER BY kind",
        c=cid,
    )
    assert [(r[0], r[1]) for r in rows] == [(account, "actual"), (forecast, "forecast")]
    assert rows[0][2] == Decimal("161.0000")  # 11 + 150, today so far
    day = db.run(
        """SELECT credits FROM enterprise.snowflake_spend_daily
           WHERE connector_id = :c AND dim = 'warehouse' AND usage_date = CAST(:d AS date)""",
        c=cid,
        d=(late + timedelta(hours=offset)).date(),
    )
    assert day == [[Decimal("523.000000000")]]  # yesterday rebuilt by the hourly run: 23 x 1 + 500
