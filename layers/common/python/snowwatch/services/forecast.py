"""The month-end forecast: one method, one implementation (the budgets' pass), used by the overview, the forecast
endpoint, the org overview and every monthly account budget.

Method (credits used, the connector's local month):
  spend to date = credits used from local midnight of the 1st up to now, today's metered hours so far included;
  run rate      = credits used over the trailing window [local midnight 7 days before today, now) / its hours;
  forecast      = spend to date + run rate x the hours left until the local midnight ending the month.
Today's partial hours are handled one way: their metered credits count as spend and their elapsed hours count in
the run rate's window. The SQL is ``repositories/budgets.py`` STATE, run over a virtual monthly account budget in
credits (``MONTH_FORECAST``), so the cost pages and a budget with that scope cannot disagree.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from snowwatch.db import Connection
from snowwatch.models.connectors import Connector
from snowwatch.models.cost import MonthForecast
from snowwatch.repositories import budgets as budgets_repo
from snowwatch.services.figures import CENT, MICRO, ZERO, rnd

METHOD = (
    "credits used this month to now (today's metered hours included) + (credits used over the trailing 7 local days "
    "and today so far / hours in that window) x hours left in the month; the budgets' computation"
)


def _month(row: dict[str, Any] | None, price: Decimal, today: date) -> tuple[MonthForecast, Decimal]:
    spend = Decimal(str(row["spend"])) if row else ZERO
    projected = Decimal(str(row["forecast"])) if row else ZERO
    first: date = row["period_start"] if row else today.replace(day=1)
    days_in_month = calendar.monthrange(first.year, first.month)[1]
    rate = ZERO
    if row:
        hours_left = Decimal((row["end_at"] - row["eval_at"]).total_seconds()) / 3600
        rate = (projected - spend) / hours_left * 24 if hours_left > 0 else ZERO
    out = MonthForecast(
        month=first.strftime("%Y-%m"),
        month_to_date_credits=rnd(spend, MICRO),
        forecast_credits=rnd(projected, MICRO),
        forecast_amount=rnd(projected * price, CENT),
        days_elapsed=today.day - 1,
        days_in_month=days_in_month,
        method=METHOD,
    )
    return out, rnd(rate, MICRO)


def month(
    conn: Connection, connector: Connector, price: Decimal, today: date, now: datetime | None = None
) -> tuple[MonthForecast, Decimal]:
    """The connector's month forecast and its daily run rate (credits)."""
    rows = budgets_repo.month_forecast(conn, now or datetime.now(UTC), connector_id=connector.id)
    return _month(rows.get(connector.id), price, today)
