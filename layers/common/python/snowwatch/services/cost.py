"""Cost use cases: where a connector's Snowflake money goes.

Days are the connector's local days (its timezone). Credits always; currency = credits x the rate
named in ``money.currency_source``: the effective rate from ORGANIZATION_USAGE when the sync could
read it, else the connector's configured credit price (said plainly in every answer).
"""

from __future__ import annotations

import calendar
import statistics
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from snowwatch.db import Connection
from snowwatch.errors import ValidationFailedError
from snowwatch.models.common import DateRange, Page
from snowwatch.models.connectors import Connector
from snowwatch.models.cost import (
    Amount,
    Anomalies,
    Anomaly,
    Daily,
    DailyPoint,
    DatabaseStorage,
    Forecast,
    Money,
    MonthForecast,
    Overview,
    Queries,
    QueryCost,
    Storage,
    StorageDay,
    TableStorage,
    UserCost,
    Users,
    WarehouseCost,
    Warehouses,
    Window,
)
from snowwatch.repositories import cost as repo

DEFAULT_DAYS = 30
TB = Decimal(2**40)
ZERO = Decimal(0)
BASELINE_DAYS = 28
ANOMALY_Z = Decimal("3.5")
Q = Decimal("0.000001")


def d(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(str(value))


# ---------------------------------------------------------------- time and money


def today(connector: Connector, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(connector.timezone)).date()


def window(connector: Connector, start: date | None, end: date | None, now: datetime | None = None) -> DateRange:
    """The validated inclusive range of local days; default: the last 30 days up to today."""
    end = end or today(connector, now)
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    try:
        return DateRange(start=start, end=end)
    except ValidationError as exc:
        raise ValidationFailedError(
            "invalid date range", details=[{"loc": ["query"], "msg": e["msg"]} for e in exc.errors()]
        ) from exc


def bounds(connector: Connector, first: date, last: date) -> tuple[datetime, datetime]:
    """[lo, hi) instants of local days first..last."""
    tz = ZoneInfo(connector.timezone)
    lo = datetime.combine(first, time.min, tzinfo=tz)
    hi = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
    return lo, hi


def span(connector: Connector, first: date, last: date) -> repo.Span:
    lo, hi = bounds(connector, first, last)
    return repo.Span(first, last, lo, hi, connector.timezone)


def rolled(conn: Connection, connector: Connector) -> bool:
    """Whether the spend rollups hold the connector's local days (built in its current timezone). Until the
    next sync after a timezone change (or before the first), spend is aggregated from the raw tables."""
    return repo.rollup_timezone(conn, connector.id, "spend") == connector.timezone


def money(conn: Connection, connector: Connector, first: date, last: date) -> Money:
    price = connector.credit_price
    source = "configured_price"
    if connector.currency_source == "organization_usage":
        row = repo.rate(conn, connector.id, first, last)
        if row and row["credits"] and d(row["credits"]) > 0:
            price = (d(row["amount"]) / d(row["credits"])).quantize(Decimal("0.0001"))
            source = "organization_usage"
    return Money(currency=connector.currency, currency_source=source, credit_price=price, timezone=connector.timezone)


def amt(credits: Any, m: Money) -> Decimal:
    return (d(credits) * m.credit_price).quantize(Decimal("0.01"))


def cr(value: Any) -> Decimal:
    return d(value).quantize(Q)


# ---------------------------------------------------------------- overview, daily, forecast


def _period(connector: Connector, period: str, now: datetime | None) -> tuple[date, date]:
    t = today(connector, now)
    if period == "mtd":
        return t.replace(day=1), t
    if period == "qtd":
        return date(t.year, 3 * ((t.month - 1) // 3) + 1, 1), t
    if period == "ytd":
        return date(t.year, 1, 1), t
    return t - timedelta(days=int(period.removesuffix("d")) - 1), t


def daily_totals(
    conn: Connection, connector: Connector, first: date, last: date, is_rolled: bool | None = None
) -> dict[date, Decimal]:
    if is_rolled is None:
        is_rolled = rolled(conn, connector)
    rows = repo.daily(conn, connector.id, span(connector, first, last), "total", is_rolled)
    return {r["day"]: d(r["credits"]) for r in rows}


def month_forecast(
    conn: Connection, connector: Connector, now: datetime | None = None, is_rolled: bool | None = None
) -> tuple[MonthForecast, Decimal]:
    """Month-end credits: complete days so far + the last 7 complete days' average for the rest."""
    t = today(connector, now)
    first = t.replace(day=1)
    days_in_month = calendar.monthrange(t.year, t.month)[1]
    series = daily_totals(conn, connector, min(first, t - timedelta(days=7)), t, is_rolled)
    complete = {k: v for k, v in series.items() if k < t}
    mtd = sum((v for k, v in complete.items() if k >= first), ZERO)
    last7 = [complete.get(t - timedelta(days=i), ZERO) for i in range(1, 8)]
    run_rate = sum(last7, ZERO) / 7
    remaining = days_in_month - (t.day - 1)
    forecast = mtd + run_rate * remaining
    m = money(conn, connector, first, t)
    out = MonthForecast(
        month=t.strftime("%Y-%m"),
        month_to_date_credits=cr(mtd),
        forecast_credits=cr(forecast),
        forecast_amount=amt(forecast, m),
        days_elapsed=t.day - 1,
        days_in_month=days_in_month,
        method="complete days this month + mean of the last 7 complete days x remaining days (today included)",
    )
    return out, cr(run_rate)


def overview(conn: Connection, connector: Connector, period: str = "30d", now: datetime | None = None) -> Overview:
    first, last = _period(connector, period, now)
    length = (last - first).days + 1
    prev_first, prev_last = first - timedelta(days=length), first - timedelta(days=1)
    current, before = span(connector, first, last), span(connector, prev_first, prev_last)
    is_rolled = rolled(conn, connector)
    m = money(conn, connector, first, last)
    if is_rolled:  # one pass over the rollup for both periods
        by_service, prev_total = repo.credits_by_period(conn, connector.id, current, before)
        previous = d(prev_total)
    else:
        by_service = repo.spend_by_service(conn, connector.id, current, False)
        previous = sum((d(r["credits"]) for r in repo.spend_by_service(conn, connector.id, before, False)), ZERO)
    credits = sum((d(r["credits"]) for r in by_service), ZERO)
    billed = credits + d(repo.adjustment(conn, connector.id, first, last))
    warehouses = repo.spend_by_warehouse(conn, connector.id, current, is_rolled)[:5]
    forecast, _ = month_forecast(conn, connector, now, is_rolled)
    return Overview(
        money=m,
        window=Window(start=first, end=last),
        credits=cr(credits),
        credits_billed=cr(billed),
        amount=amt(billed, m),
        previous_credits=cr(previous),
        change_pct=((credits - previous) / previous * 100).quantize(Decimal("0.01")) if previous else None,
        by_service_type=[
            Amount(key=r["key"], credits=cr(r["credits"]), amount=amt(r["credits"], m)) for r in by_service
        ],
        top_warehouses=[
            Amount(key=r["key"], credits=cr(r["credits"]), amount=amt(r["credits"], m)) for r in warehouses
        ],
        forecast=forecast,
    )


def daily(conn: Connection, connector: Connector, start: date | None, end: date | None, group_by: str) -> Daily:
    rng = window(connector, start, end)
    m = money(conn, connector, rng.start, rng.end)
    rows = repo.daily(conn, connector.id, span(connector, rng.start, rng.end), group_by, rolled(conn, connector))
    return Daily(
        money=m,
        window=Window(start=rng.start, end=rng.end),
        group_by=group_by,
        items=[
            DailyPoint(
                day=r["day"],
                key=r["key"],
                credits=cr(r["credits"]),
                credits_compute=cr(r["compute"]),
                credits_cloud_services=cr(r["cloud_services"]),
                amount=amt(r["credits"], m),
            )
            for r in rows
        ],
    )


def forecast(conn: Connection, connector: Connector, now: datetime | None = None) -> Forecast:
    month, run_rate = month_forecast(conn, connector, now)
    t = today(connector, now)
    return Forecast(money=money(conn, connector, t.replace(day=1), t), month=month, daily_run_rate_credits=run_rate)


# ---------------------------------------------------------------- warehouses


def warehouse_costs(conn: Connection, connector: Connector, first: date, last: date, m: Money) -> list[WarehouseCost]:
    sp, is_rolled = span(connector, first, last), rolled(conn, connector)
    config = {r["warehouse_name"]: r for r in repo.warehouse_config(conn, connector.id)}
    load = {r["warehouse_name"]: r for r in repo.warehouse_load(conn, connector.id, sp, is_rolled)}
    out = []
    for r in repo.spend_by_warehouse(conn, connector.id, sp, is_rolled):
        name = r["key"]
        complete = d(r["compute_complete"])
        attributed = d(r["attributed"])
        idle = max(complete - attributed, ZERO)
        cfg = config.get(name, {})
        ld = load.get(name, {})
        out.append(
            WarehouseCost(
                warehouse_name=name,
                credits=cr(r["credits"]),
                credits_compute=cr(r["compute"]),
                credits_cloud_services=cr(r["cloud_services"]),
                credits_attributed_queries=cr(attributed),
                idle_credits=cr(idle),
                idle_share=(idle / complete).quantize(Decimal("0.0001")) if complete else None,
                amount=amt(r["credits"], m),
                idle_amount=amt(idle, m),
                utilisation=d(ld["avg_running"]).quantize(Decimal("0.0001")) if ld else None,
                avg_queued_load=d(ld["avg_queued_load"]).quantize(Decimal("0.0001")) if ld else None,
                size=cfg.get("size"),
                auto_suspend=cfg.get("auto_suspend"),
                min_cluster_count=cfg.get("min_cluster_count"),
                max_cluster_count=cfg.get("max_cluster_count"),
                resource_monitor=cfg.get("resource_monitor"),
            )
        )
    return out


def warehouses(
    conn: Connection, connector: Connector, start: date | None, end: date | None, limit: int, offset: int
) -> Warehouses:
    rng = window(connector, start, end)
    m = money(conn, connector, rng.start, rng.end)
    items = warehouse_costs(conn, connector, rng.start, rng.end, m)
    return Warehouses(
        money=m,
        window=Window(start=rng.start, end=rng.end),
        page=Page[WarehouseCost](items=items[offset : offset + limit], total=len(items), limit=limit, offset=offset),
    )


# ---------------------------------------------------------------- storage


def storage_monthly(bytes_: Any, connector: Connector) -> Decimal:
    """A month of storage at this size: bytes / 2^40 x price per TB-month."""
    return (d(bytes_) / TB * connector.storage_price_per_tb).quantize(Decimal("0.01"))


def storage(
    conn: Connection, connector: Connector, start: date | None, end: date | None, limit: int, offset: int
) -> Storage:
    rng = window(connector, start, end)
    m = money(conn, connector, rng.start, rng.end)
    trend = []
    for r in repo.storage_trend(conn, connector.id, rng.start, rng.end):
        day_bytes = (
            d(r["storage_bytes"]) + d(r["stage_bytes"]) + d(r["failsafe_bytes"]) + d(r["hybrid_table_storage_bytes"])
        )
        days = calendar.monthrange(r["day"].year, r["day"].month)[1]
        trend.append(
            StorageDay(
                day=r["day"],
                storage_bytes=int(r["storage_bytes"]),
                stage_bytes=int(r["stage_bytes"]),
                failsafe_bytes=int(r["failsafe_bytes"]),
                hybrid_table_storage_bytes=int(r["hybrid_table_storage_bytes"]),
                total_bytes=int(day_bytes),
                amount=(day_bytes / TB * connector.storage_price_per_tb / days).quantize(Decimal("0.01")),
            )
        )
    databases = [
        DatabaseStorage(
            database_name=r["database_name"],
            database_bytes=int(r["database_bytes"]),
            failsafe_bytes=int(r["failsafe_bytes"]),
            monthly_amount=storage_monthly(d(r["database_bytes"]) + d(r["failsafe_bytes"]), connector),
        )
        for r in repo.storage_databases(conn, connector.id, rng.start, rng.end)
    ]
    rows, total = repo.storage_tables(conn, connector.id, limit, offset)
    tables = []
    for r in rows:
        size = d(r["active_bytes"]) + d(r["time_travel_bytes"]) + d(r["failsafe_bytes"])
        tables.append(
            TableStorage(
                table=f"{r['table_catalog']}.{r['table_schema']}.{r['table_name']}",
                is_transient=r["is_transient"],
                active_bytes=int(r["active_bytes"]),
                time_travel_bytes=int(r["time_travel_bytes"]),
                failsafe_bytes=int(r["failsafe_bytes"]),
                retained_for_clone_bytes=int(r["retained_for_clone_bytes"]),
                total_bytes=int(size),
                monthly_amount=storage_monthly(size, connector),
                last_read_at=r["last_read_at"],
            )
        )
    latest = trend[-1].total_bytes if trend else 0
    return Storage(
        money=m,
        window=Window(start=rng.start, end=rng.end),
        storage_price_per_tb=connector.storage_price_per_tb,
        monthly_amount=storage_monthly(latest, connector),
        trend=trend,
        databases=databases,
        tables=Page[TableStorage](items=tables, total=total, limit=limit, offset=offset),
    )


# ---------------------------------------------------------------- queries and users


def _credit_fields(r: dict[str, Any], m: Money) -> dict[str, Any]:
    """Credits of a query or a group of queries: compute, billed and raw cloud services, the total billed,
    and its amount."""
    credits = d(r["credits_compute"]) + d(r["credits_cloud_services"])
    return {
        "credits_compute": cr(r["credits_compute"]),
        "credits_cloud_services": cr(r["credits_cloud_services"]),
        "credits_cloud_services_used": cr(r["credits_cloud_services_used"]),
        "credits": cr(credits),
        "amount": amt(credits, m),
    }


def queries(
    conn: Connection,
    connector: Connector,
    start: date | None,
    end: date | None,
    group_by: str,
    limit: int,
    offset: int,
) -> Queries:
    rng = window(connector, start, end)
    m = money(conn, connector, rng.start, rng.end)
    items: list[QueryCost] = []
    if group_by == "query":
        lo, hi = bounds(connector, rng.start, rng.end)
        rows, total = repo.top_queries(conn, connector.id, lo, hi, rng.start, rng.end, limit, offset)
        for r in rows:
            items.append(
                QueryCost(
                    key=r["query_id"],
                    query_text=r["query_text"],
                    user_name=r["user_name"],
                    role_name=r["role_name"],
                    warehouse_name=r["warehouse_name"],
                    start_time=r["start_time"],
                    queries=1,
                    elapsed_ms=int(r["total_elapsed_time"]),
                    cost_method=r["cost_method"],
                    **_credit_fields(r, m),
                )
            )
    else:
        rows, total = repo.hash_rollup(conn, connector.id, rng.start, rng.end, limit, offset)
        texts = repo.sample_texts(conn, connector.id, [r["sample"] for r in rows if r["sample"]])
        for r in rows:
            items.append(
                QueryCost(
                    key=r["key1"],
                    query_text=texts.get(r["sample"]),
                    queries=int(r["queries"]),
                    elapsed_ms=int(r["elapsed_ms"]),
                    **_credit_fields(r, m),
                )
            )
    return Queries(
        money=m,
        window=Window(start=rng.start, end=rng.end),
        group_by=group_by,
        page=Page[QueryCost](items=items, total=total, limit=limit, offset=offset),
    )


def users(
    conn: Connection,
    connector: Connector,
    start: date | None,
    end: date | None,
    group_by: str,
    limit: int,
    offset: int,
) -> Users:
    rng = window(connector, start, end)
    m = money(conn, connector, rng.start, rng.end)
    by = "key1" if group_by == "user" else "key2"
    rows, total = repo.rollup(conn, connector.id, "user", rng.start, rng.end, by, limit, offset)
    items = [
        UserCost(
            user_name=r["key1"],
            role_name=r["key2"],
            queries=int(r["queries"]),
            elapsed_ms=int(r["elapsed_ms"]),
            **_credit_fields(r, m),
        )
        for r in rows
    ]
    return Users(
        money=m,
        window=Window(start=rng.start, end=rng.end),
        group_by=group_by,
        page=Page[UserCost](items=items, total=total, limit=limit, offset=offset),
    )


# ---------------------------------------------------------------- anomalies


def anomalies(
    conn: Connection, connector: Connector, start: date | None, end: date | None, now: datetime | None = None
) -> Anomalies:
    """Days whose spend is far from the median of the previous 28 days (robust z-score on the MAD)."""
    rng = window(connector, start, end, now)
    m = money(conn, connector, rng.start, rng.end)
    t = today(connector, now)
    series = daily_totals(conn, connector, rng.start - timedelta(days=BASELINE_DAYS), rng.end)
    items = []
    day = rng.start
    while day <= min(rng.end, t - timedelta(days=1)):  # today is incomplete
        value = series.get(day, ZERO)
        # Days before the data starts are unknown, not zero: the baseline holds days with spend only.
        base = [b for i in range(1, BASELINE_DAYS + 1) if (b := series.get(day - timedelta(days=i), ZERO))]
        if len(base) >= BASELINE_DAYS // 2:
            med = Decimal(statistics.median(base))
            mad = Decimal(statistics.median([abs(b - med) for b in base]))
            spread = max(mad * Decimal("1.4826"), med * Decimal("0.05"), Decimal("0.000001"))
            score = (value - med) / spread
            if abs(score) >= ANOMALY_Z:
                items.append(
                    Anomaly(
                        day=day,
                        credits=cr(value),
                        baseline_median=cr(med),
                        baseline_mad=cr(mad),
                        score=score.quantize(Decimal("0.01")),
                        direction="above" if score > 0 else "below",
                        amount=amt(value, m),
                    )
                )
        day += timedelta(days=1)
    return Anomalies(
        money=m,
        window=Window(start=rng.start, end=rng.end),
        method="robust z-score: (day - median of previous 28 days) / max(1.4826 x MAD, 5% of median); |z| >= 3.5",
        items=items,
    )
