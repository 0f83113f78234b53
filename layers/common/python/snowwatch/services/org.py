"""The org overview: every connector of the caller's org with its month to date, forecast, budgets, security score,
open critical/high alerts and sync freshness, paginated, with org-wide totals.

Each connector's month (credits used to date, month-end forecast, budget counts) is the budgets' pass as the hourly
budget check last evaluated it (``cost_month_state``, ``evaluated_at``; the same computation as the cost pages'
forecast: services/forecast.py). Bounded: three statements whatever the number of connectors (totals per currency,
one page of rows, open alert totals). Money: each connector's credits x its price (the effective ORGANIZATION_USAGE
rate of the month when it reads one, else its configured price), in its currency; the org's amount is given only
when every connector uses one currency, otherwise per currency (``by_currency``): never summed across currencies.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from snowwatch.db import Connection
from snowwatch.models.common import Page
from snowwatch.models.cost import (
    BudgetCounts,
    CurrencyTotal,
    OpenAlerts,
    OrgConnector,
    OrgOverview,
    OrgTotals,
    SyncState,
)
from snowwatch.repositories import org as repo
from snowwatch.services.figures import CENT, MICRO, ZERO, rnd
from snowwatch.services.forecast import METHOD
from snowwatch.services.security_reads import security_score


def _d(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(str(value))


def _row(r: dict[str, Any]) -> OrgConnector:
    spend, projected, price = _d(r["spend"]), _d(r["forecast"]), _d(r["price"])
    counts = json.loads(r["open_counts"]) if r["open_counts"] else {}
    return OrgConnector(
        connector_id=r["id"],
        name=r["name"],
        sync=SyncState(status="synced" if r["last_sync_at"] else "never", last_sync_at=r["last_sync_at"]),
        currency=r["currency"],
        currency_source="organization_usage" if r["rated"] else "configured_price",
        evaluated_at=r["evaluated_at"],
        month_to_date_credits=rnd(spend, MICRO),
        month_to_date_amount=rnd(spend * price, CENT),
        forecast_credits=rnd(projected, MICRO),
        forecast_amount=rnd(projected * price, CENT),
        budgets=BudgetCounts(active=int(r["budgets"]), over=int(r["over"]), forecast_over=int(r["forecast_over"])),
        security_score=security_score(counts) if r["security_checked"] else None,
        open_alerts=OpenAlerts(critical=int(r["critical"]), high=int(r["high"])),
    )


def overview(conn: Connection, org_id: UUID, limit: int, offset: int, now: datetime | None = None) -> OrgOverview:
    now = now or datetime.now(UTC)
    month_start = now.date().replace(day=1)
    lo, hi = month_start - timedelta(days=1), now.date()
    per_currency = repo.totals(conn, org_id, lo, hi)
    rows = [_row(r) for r in repo.page(conn, org_id, lo, hi, limit, offset)]
    alerts = repo.open_alert_totals(conn, org_id)
    by_currency = [
        CurrencyTotal(
            currency=t["currency"],
            connectors=int(t["connectors"]),
            month_to_date_amount=_d(t["amount"]),
            forecast_amount=_d(t["forecast_amount"]),
        )
        for t in per_currency
    ]
    one = by_currency[0] if len(by_currency) == 1 else None
    connectors = sum(int(t["connectors"]) for t in per_currency)
    totals = OrgTotals(
        connectors=connectors,
        never_synced=sum(int(t["never_synced"]) for t in per_currency),
        month_to_date_credits=sum((_d(t["credits"]) for t in per_currency), ZERO),
        forecast_credits=sum((_d(t["forecast_credits"]) for t in per_currency), ZERO),
        currency=one.currency if one else None,
        month_to_date_amount=one.month_to_date_amount if one else None,
        forecast_amount=one.forecast_amount if one else None,
        by_currency=by_currency,
        budgets=BudgetCounts(
            active=sum(int(t["budgets"]) for t in per_currency),
            over=sum(int(t["over"]) for t in per_currency),
            forecast_over=sum(int(t["forecast_over"]) for t in per_currency),
        ),
        open_alerts=OpenAlerts(critical=alerts.get("critical", 0), high=alerts.get("high", 0)),
    )
    return OrgOverview(
        figure="used",
        month=month_start.strftime("%Y-%m"),
        method=METHOD,
        totals=totals,
        page=Page[OrgConnector](items=rows, total=connectors, limit=limit, offset=offset),
    )
