"""Which connector an item named in a request path belongs to: one indexed lookup per nested id.

Admission (functions/api/admission.py) checks every nested path id against the connector it already
checked against the caller's org, before the resolver validates the body: another org's budget or alert
answers 404 whatever the body says. A route whose path names an id not listed here fails a test
(tests/unit/test_route_table.py), so a new nested route cannot skip the check.
"""

from __future__ import annotations

from uuid import UUID

from snowwatch.db import Connection

# path parameter -> a statement that returns a row when the id belongs to the connector
ITEM_OF_CONNECTOR: dict[str, str] = {
    "budget_id": "SELECT 1 FROM enterprise.snowflake_budgets WHERE id = :id AND connector_id = :connector",
    "alert_id": "SELECT 1 FROM enterprise.snowflake_security_alerts WHERE id = :id AND connector_id = :connector",
    "event_id": "SELECT 1 FROM enterprise.snowflake_login_history WHERE event_id = :id AND connector_id = :connector",
    "incident_id": "SELECT 1 FROM enterprise.snowflake_security_incidents WHERE id = :id AND connector_id = :connector",
    "finding_id": "SELECT 1 FROM enterprise.cost_findings WHERE id = :id AND connector_id = :connector",
}


# Ids that are not UUIDs: Snowflake's login event ids are integers (BIGINT).
BIGINT_IDS = ("event_id",)
BIGINT_MAX = 2**63 - 1


def _parse(param: str, item_id: str) -> UUID | int | None:
    if param in BIGINT_IDS:
        return int(item_id) if item_id.isdigit() and int(item_id) <= BIGINT_MAX else None
    try:
        return UUID(item_id)
    except ValueError:
        return None


def belongs(conn: Connection, param: str, item_id: str, connector_id: UUID) -> bool:
    """True when the item named by ``param`` exists under the connector (a malformed id does not)."""
    parsed = _parse(param, item_id)
    if parsed is None:
        return False
    return bool(conn.run(ITEM_OF_CONNECTOR[param], id=parsed, connector=connector_id))
