"""The org overview's reads: a few statements per request whatever the number of connectors (totals aggregated
here; per-connector rows for one page only). Each connector's month comes from ``cost_month_state`` (0453), written
by the hourly budget check."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, query
from snowwatch.repositories.security_alerts import COUNTS_AS_OPEN

# Each connector of the org with its month and its price: the effective ORGANIZATION_USAGE rate over [:lo, :hi] when
# it reads one, else its configured price.
_CONNECTORS = """
WITH rate AS (
    SELECT d.connector_id, sum(d.currency_amount) / sum(d.credits_billed) AS rate
    FROM enterprise.snowflake_daily_costs d
    JOIN enterprise.connectors c ON c.id = d.connector_id AND c.org_id = :org
                                AND c.currency_source = 'organization_usage'
    WHERE d.usage_date BETWEEN :lo AND :hi AND d.currency_amount IS NOT NULL
    GROUP BY 1 HAVING sum(d.credits_billed) > 0
), c AS (
    SELECT c.id, c.name, c.currency, c.last_sync_at, r.rate IS NOT NULL AS rated,
           COALESCE(r.rate, c.credit_price) AS price, s.evaluated_at,
           COALESCE(s.spend, 0) AS spend, COALESCE(s.forecast, 0) AS forecast, COALESCE(s.budgets, 0) AS budgets,
           COALESCE(s.over, 0) AS over, COALESCE(s.forecast_over, 0) AS forecast_over
    FROM enterprise.connectors c
    LEFT JOIN enterprise.cost_month_state s ON s.connector_id = c.id
    LEFT JOIN rate r ON r.connector_id = c.id
    WHERE c.org_id = :org
)"""


def totals(conn: Connection, org_id: UUID, lo: date, hi: date) -> list[dict[str, Any]]:
    """Per currency: connectors, never synced, credits and amounts (rounded per connector as its row is), budgets."""
    return query(
        conn,
        f"""{_CONNECTORS}
            SELECT currency, count(*) AS connectors, count(*) FILTER (WHERE last_sync_at IS NULL) AS never_synced,
                   sum(round(spend, 6)) AS credits, sum(round(forecast, 6)) AS forecast_credits,
                   sum(round(spend * price, 2)) AS amount, sum(round(forecast * price, 2)) AS forecast_amount,
                   sum(budgets) AS budgets, sum(over) AS over, sum(forecast_over) AS forecast_over
            FROM c GROUP BY currency ORDER BY currency""",
        org=org_id,
        lo=lo,
        hi=hi,
    )


def page(conn: Connection, org_id: UUID, lo: date, hi: date, limit: int, offset: int) -> list[dict[str, Any]]:
    """One page of connectors, by name, with their month, price, open critical/high alerts and security state."""
    return query(
        conn,
        f"""{_CONNECTORS}
            SELECT c.*,
                   (SELECT count(*) FROM enterprise.snowflake_security_alerts a
                    WHERE a.connector_id = c.id AND a.severity = 'critical' AND {COUNTS_AS_OPEN}) AS critical,
                   (SELECT count(*) FROM enterprise.snowflake_security_alerts a
                    WHERE a.connector_id = c.id AND a.severity = 'high' AND {COUNTS_AS_OPEN}) AS high,
                   (SELECT json_object_agg(a.severity, a.n) FROM (
                        SELECT a.severity, count(*) AS n FROM enterprise.snowflake_security_alerts a
                        WHERE a.connector_id = c.id AND {COUNTS_AS_OPEN} GROUP BY a.severity) a)::text AS open_counts,
                   EXISTS (SELECT 1 FROM enterprise.snowflake_security_snapshots s WHERE s.connector_id = c.id)
                       AS security_checked
            FROM c ORDER BY c.name, c.id LIMIT :l OFFSET :o""",
        org=org_id,
        lo=lo,
        hi=hi,
        l=limit,
        o=offset,
    )


def open_alert_totals(conn: Connection, org_id: UUID) -> dict[str, int]:
    rows = query(
        conn,
        f"""SELECT a.severity, count(*) AS n FROM enterprise.snowflake_security_alerts a
            JOIN enterprise.connectors c ON c.id = a.connector_id AND c.org_id = :org
            WHERE a.severity IN ('critical', 'high') AND {COUNTS_AS_OPEN}
            GROUP BY 1""",
        org=org_id,
    )
    return {r["severity"]: int(r["n"]) for r in rows}
