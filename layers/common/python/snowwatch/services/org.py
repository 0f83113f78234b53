"""The org overview: every connector of the caller's org with its month to date, forecast, budgets, security score,
open critical/high alerts and sync freshness, paginated, with org-wide totals.

Bounded: five statements whatever the number of connectors (connectors, one budgets pass for forecasts and budgets,
open alerts, security snapshots, currency rates). Money: each connector's credits x its price (the effective
ORGANIZATION_USAGE rate of the month when it reads one, else its configured price), in its currency; the org's
amount is given only when every connector uses one currency, otherwise per currency (``by_currency``): never summed
across currencies.
"""

from __future__ import annotations

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
from snowwatch.repositories import budgets as budgets_repo
from snowwatch.repositories import org as repo
from snowwatch.services.figures import CENT, MICRO, ZERO, rnd
from snowwatch.services.forecast import METHOD
from snowwatch.services.security_reads import security_score


def _d(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(str(value))


def overview(conn: Connection, org_id: UUID, limit: int, offset: int, now: datetime | None = None) -> OrgOverview:
    now = now or datetime.now(UTC)
    month_start = now.date().replace(day=1)
    everyone = repo.connectors(conn, org_id)
    forecasts: dict[UUID, dict[str, Any]] = {}
    budgets: dict[UUID, dict[str, int]] = {}
    for p in budgets_repo.org_pass(conn, now, org_id):  # forecasts and budgets: one pass for the whole org
        if p["forecast_row"]:
            forecasts[p["connector_id"]] = p
        else:
            b = budgets.setdefault(p["connector_id"], {"budgets": 0, "over": 0, "forecast_over": 0})
            b["budgets"] += 1
            b["over"] += int(p["percent"] >= 100)
            b["forecast_over"] += int(p["forecast_percent"] >= 100)
    alerts = repo.open_alerts(conn, org_id)
    checked = repo.security_checked(conn, org_id)
    rates = repo.rates(conn, org_id, month_start - timedelta(days=1), now.date())
    rows: list[OrgConnector] = []
    for c in everyone:
        f = forecasts.get(c["id"], {})
        price = _d(rates.get(c["id"], c["credit_price"]))
        spend, projected = _d(f.get("spend")), _d(f.get("forecast"))
        b = budgets.get(c["id"], {})
        counts = alerts.get(c["id"], {})
        rows.append(
            OrgConnector(
                connector_id=c["id"],
                name=c["name"],
                sync=SyncState(status="synced" if c["last_sync_at"] else "never", last_sync_at=c["last_sync_at"]),
                currency=c["currency"],
                currency_source="organization_usage" if c["id"] in rates else "configured_price",
                month_to_date_credits=rnd(spend, MICRO),
                month_to_date_amount=rnd(spend * price, CENT),
                forecast_credits=rnd(projected, MICRO),
                forecast_amount=rnd(projected * price, CENT),
                budgets=BudgetCounts(
                    active=int(b.get("budgets", 0)),
                    over=int(b.get("over", 0)),
                    forecast_over=int(b.get("forecast_over", 0)),
                ),
                security_score=security_score(counts) if c["id"] in checked else None,
                open_alerts=OpenAlerts(critical=counts.get("critical", 0), high=counts.get("high", 0)),
            )
        )
    currencies: dict[str, list[OrgConnector]] = {}
    for r in rows:
        currencies.setdefault(r.currency, []).append(r)
    by_currency = [
        CurrencyTotal(
            currency=cur,
            connectors=len(rs),
            month_to_date_amount=sum((r.month_to_date_amount for r in rs), ZERO),
            forecast_amount=sum((r.forecast_amount for r in rs), ZERO),
        )
        for cur, rs in sorted(currencies.items())
    ]
    one = by_currency[0] if len(by_currency) == 1 else None
    totals = OrgTotals(
        connectors=len(rows),
        never_synced=sum(1 for r in rows if r.sync.status == "never"),
        month_to_date_credits=sum((r.month_to_date_credits for r in rows), ZERO),
        forecast_credits=sum((r.forecast_credits for r in rows), ZERO),
        currency=one.currency if one else None,
        month_to_date_amount=one.month_to_date_amount if one else None,
        forecast_amount=one.forecast_amount if one else None,
        by_currency=by_currency,
        budgets=BudgetCounts(
            active=sum(r.budgets.active for r in rows),
            over=sum(r.budgets.over for r in rows),
            forecast_over=sum(r.budgets.forecast_over for r in rows),
        ),
        open_alerts=OpenAlerts(
            critical=sum(r.open_alerts.critical for r in rows), high=sum(r.open_alerts.high for r in rows)
        ),
    )
    return OrgOverview(
        figure="used",
        month=month_start.strftime("%Y-%m"),
        method=METHOD,
        totals=totals,
        page=Page[OrgConnector](items=rows[offset : offset + limit], total=len(rows), limit=limit, offset=offset),
    )
