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
    Storage,
    StorageDay,
    TableStorage,
    Total,
    WarehouseCost,
    Warehouses,
    Window,
)
from snowwatch.repositories import cost as repo
from snowwatch.repositories import rollups as rollups_repo
from snowwatch.services import anomaly_drivers
from snowwatch.services import forecast as forecasts
from snowwatch.services.figures import rows_and_total, sync_state

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


def kept(conn: Connection, connector: Connector, first: date) -> tuple[date, date | None]:
    """``first`` clamped to the first local day the daily rollups are kept for (``rollups_from``), and that day
    (None while retention deleted none): answers read from the rollups start there at the earliest."""
    since = rollups_repo.rollups_from(conn, connector.id, connector.timezone)
    return (first if since is None else max(first, since)), since


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
    conn: Connection, connector: Connector, now: datetime | None = None
) -> tuple[MonthForecast, Decimal]:
    """The month-end forecast (services/forecast.py: the budgets' computation) and its daily run rate."""
    t = today(connector, now)
    m = money(conn, connector, t.replace(day=1), t)
    return forecasts.month(conn, connector, m.credit_price, t, now)


TOP_WAREHOUSES = 5


def _billed_warehouses(rows: list[dict[str, Any]], adjustment: Decimal) -> list[tuple[str, Decimal]]:
    """Billed credits per warehouse: credits used + the WAREHOUSE_METERING cloud-services adjustment of the window,
    shared in proportion to each warehouse's cloud services used (its credits used when none has any)."""
    weights = [d(r["cloud_services"]) for r in rows]
    if not sum(weights, ZERO):
        weights = [d(r["credits"]) for r in rows]
    whole = sum(weights, ZERO)
    out = [
        (r["key"], d(r["credits"]) + (adjustment * w / whole if whole else ZERO))
        for r, w in zip(rows, weights, strict=True)
    ]
    return sorted(out, key=lambda kv: (-kv[1], kv[0]))


def _amounts(rows: list[tuple[str, Decimal]], credits: list[Decimal], amounts: list[Decimal]) -> list[Amount]:
    return [Amount(key=k, credits=c, amount=a) for (k, _), c, a in zip(rows, credits, amounts, strict=True)]


def overview(
    conn: Connection,
    connector: Connector,
    period: str = "30d",
    now: datetime | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Overview:
    """Billed credits of the window (``start``..``end`` when given, else ``period``): the headline, its service
    types and its warehouses add up exactly (docs/cost.md, Figures)."""
    if start is not None or end is not None:
        rng = window(connector, start, end, now)
        first, last = rng.start, rng.end
    else:
        first, last = _period(connector, period, now)
    first, since = kept(conn, connector, first)
    length = max((last - first).days + 1, 0)
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
    adj = {r["key"]: r for r in repo.adjustments(conn, connector.id, current, before)}
    used = {r["key"]: d(r["credits"]) for r in by_service}
    billed = {k: used.get(k, ZERO) + d(adj[k]["adj"] if k in adj else 0) for k in used.keys() | adj.keys()}
    services = sorted(((k, v) for k, v in billed.items() if k in used or v), key=lambda kv: (-kv[1], kv[0]))
    s_credits, s_amounts, total = rows_and_total([v for _, v in services], m.credit_price)
    previous_billed = previous + sum((d(r["prev_adj"]) for r in adj.values()), ZERO)
    first_day = repo.first_spend_day(conn, connector.id, connector.timezone, is_rolled)
    complete = length > 0 and first_day is not None and first_day <= prev_first
    wm_adj = d(adj["WAREHOUSE_METERING"]["adj"]) if "WAREHOUSE_METERING" in adj else ZERO
    whs = _billed_warehouses(repo.spend_by_warehouse(conn, connector.id, current, is_rolled), wm_adj)
    top = whs[:TOP_WAREHOUSES]
    if len(whs) > TOP_WAREHOUSES:
        top.append(("other", sum((v for _, v in whs[TOP_WAREHOUSES:]), ZERO)))
    w_credits, w_amounts, w_total = rows_and_total([v for _, v in top], m.credit_price)
    forecast, _ = month_forecast(conn, connector, now)
    return Overview(
        figure="billed",
        sync=sync_state(connector),
        money=m,
        window=Window(start=first, end=last),
        rollups_from=since,
        credits=cr(sum(used.values(), ZERO)),
        credits_billed=total.credits,
        amount=total.amount,
        previous_credits=cr(previous_billed) if complete else None,
        previous_complete=complete,
        change_pct=(
            ((total.credits - previous_billed) / previous_billed * 100).quantize(Decimal("0.01"))
            if complete and previous_billed
            else None
        ),
        by_service_type=_amounts(services, s_credits, s_amounts),
        warehouses=w_total,
        top_warehouses=_amounts(top, w_credits, w_amounts),
        forecast=forecast,
    )


def daily(conn: Connection, connector: Connector, start: date | None, end: date | None, group_by: str) -> Daily:
    rng = window(connector, start, end)
    first, since = kept(conn, connector, rng.start)
    m = money(conn, connector, first, rng.end)
    rows = repo.daily(conn, connector.id, span(connector, first, rng.end), group_by, rolled(conn, connector))
    credits, amounts, total = rows_and_total([d(r["credits"]) for r in rows], m.credit_price)
    return Daily(
        figure="used",
        sync=sync_state(connector),
        money=m,
        window=Window(start=first, end=rng.end),
        rollups_from=since,
        group_by=group_by,
        total=total,
        items=[
            DailyPoint(
                day=r["day"],
                key=r["key"],
                credits=c,
                credits_compute=cr(r["compute"]),
                credits_cloud_services=cr(r["cloud_services"]),
                amount=a,
            )
            for r, c, a in zip(rows, credits, amounts, strict=True)
        ],
    )


def forecast(conn: Connection, connector: Connector, now: datetime | None = None) -> Forecast:
    month, run_rate = month_forecast(conn, connector, now)
    t = today(connector, now)
    return Forecast(
        figure="used",
        sync=sync_state(connector),
        money=money(conn, connector, t.replace(day=1), t),
        month=month,
        daily_run_rate_credits=run_rate,
    )


# ---------------------------------------------------------------- warehouses


def warehouse_costs(conn: Connection, connector: Connector, first: date, last: date, m: Money) -> list[WarehouseCost]:
    sp, is_rolled = span(connector, first, last), rolled(conn, connector)
    config = {r["warehouse_name"]: r for r in repo.warehouse_config(conn, connector.id)}
    load = {r["warehouse_name"]: r for r in repo.warehouse_load(conn, connector.id, sp, is_rolled)}
    out = []
    rows = repo.spend_by_warehouse(conn, connector.id, sp, is_rolled)
    credits, amounts, _ = rows_and_total([d(r["credits"]) for r in rows], m.credit_price)
    for r, c, a in zip(rows, credits, amounts, strict=True):
        name = r["key"]
        complete = d(r["compute_complete"])
        attributed = d(r["attributed"])
        idle = max(complete - attributed, ZERO)
        cfg = config.get(name, {})
        ld = load.get(name, {})
        out.append(
            WarehouseCost(
                warehouse_name=name,
                credits=c,
                credits_compute=cr(r["compute"]),
                credits_cloud_services=cr(r["cloud_services"]),
                credits_attributed_queries=cr(attributed),
                idle_credits=cr(idle),
                idle_share=(idle / complete).quantize(Decimal("0.0001")) if complete else None,
                amount=a,
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
    first, since = kept(conn, connector, rng.start)
    m = money(conn, connector, first, rng.end)
    items = warehouse_costs(conn, connector, first, rng.end, m)
    return Warehouses(
        figure="used",
        sync=sync_state(connector),
        money=m,
        window=Window(start=first, end=rng.end),
        rollups_from=since,
        total=Total(credits=sum((w.credits for w in items), ZERO), amount=sum((w.amount for w in items), ZERO)),
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
        figure="storage",
        sync=sync_state(connector),
        money=m,
        window=Window(start=rng.start, end=rng.end),
        storage_price_per_tb=connector.storage_price_per_tb,
        monthly_amount=storage_monthly(latest, connector),
        trend=trend,
        databases=databases,
        tables=Page[TableStorage](items=tables, total=total, limit=limit, offset=offset),
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
    anomaly_drivers.explain(conn, connector, items, series, BASELINE_DAYS)
    return Anomalies(
        figure="used",
        sync=sync_state(connector),
        money=m,
        window=Window(start=rng.start, end=rng.end),
        method="robust z-score: (day - median of previous 28 days) / max(1.4826 x MAD, 5% of median); |z| >= 3.5",
        items=items,
    )
