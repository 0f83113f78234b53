"""The org overview's reads over every connector of an org: one statement each, never one per connector."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, query
from snowwatch.repositories.security_alerts import COUNTS_AS_OPEN


def open_alerts(conn: Connection, org_id: UUID) -> dict[UUID, dict[str, int]]:
    """Open alerts per connector and severity (the security score's input)."""
    rows = query(
        conn,
        f"""SELECT a.connector_id, a.severity, count(*) AS n
            FROM enterprise.snowflake_security_alerts a
            JOIN enterprise.connectors c ON c.id = a.connector_id AND c.org_id = :org
            WHERE {COUNTS_AS_OPEN}
            GROUP BY 1, 2""",
        org=org_id,
    )
    out: dict[UUID, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["connector_id"], {})[r["severity"]] = int(r["n"])
    return out


def security_checked(conn: Connection, org_id: UUID) -> set[UUID]:
    """Connectors whose security has been evaluated at least once (a score snapshot exists)."""
    rows = query(
        conn,
        """SELECT DISTINCT s.connector_id FROM enterprise.snowflake_security_snapshots s
           JOIN enterprise.connectors c ON c.id = s.connector_id AND c.org_id = :org""",
        org=org_id,
    )
    return {r["connector_id"] for r in rows}


def rates(conn: Connection, org_id: UUID, first: date, last: date) -> dict[UUID, Any]:
    """Currency per credit actually paid (ORGANIZATION_USAGE) per connector that reads it, over first..last."""
    rows = query(
        conn,
        """SELECT d.connector_id, sum(d.currency_amount) / sum(d.credits_billed) AS rate
           FROM enterprise.snowflake_daily_costs d
           JOIN enterprise.connectors c ON c.id = d.connector_id AND c.org_id = :org
                                       AND c.currency_source = 'organization_usage'
           WHERE d.usage_date BETWEEN :lo AND :hi AND d.currency_amount IS NOT NULL
           GROUP BY 1 HAVING sum(d.credits_billed) > 0""",
        org=org_id,
        lo=first,
        hi=last,
    )
    return {r["connector_id"]: r["rate"] for r in rows}


def connectors(conn: Connection, org_id: UUID) -> list[dict[str, Any]]:
    """Every connector of the org, by name: what the overview shows beside its figures."""
    return query(
        conn,
        """SELECT id, name, currency, currency_source, credit_price, last_sync_at FROM enterprise.connectors
           WHERE org_id = :org ORDER BY name, id""",
        org=org_id,
    )
