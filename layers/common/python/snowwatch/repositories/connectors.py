"""Connectors: every read is scoped to the caller's organization."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pg8000.native import identifier

from snowwatch.db import Connection, query, query_one

COLUMNS = """id, org_id, name, account_identifier, username, role_name, warehouse, auth_method, secret_ref,
    currency, credit_price, storage_price_per_tb, currency_source, timezone, backfill_days, status,
    last_sync_at, created_at, updated_at"""

UPDATABLE = frozenset(
    {
        "name",
        "account_identifier",
        "username",
        "role_name",
        "warehouse",
        "secret_ref",
        "currency",
        "credit_price",
        "storage_price_per_tb",
        "currency_source",
        "timezone",
        "backfill_days",
        "status",
        "last_sync_at",
    }
)


def get_for_org(conn: Connection, org_id: UUID, connector_id: UUID) -> dict[str, Any] | None:
    return query_one(
        conn,
        f"SELECT {COLUMNS} FROM enterprise.connectors WHERE id = :id AND org_id = :org",
        id=connector_id,
        org=org_id,
    )


def get(conn: Connection, connector_id: UUID) -> dict[str, Any] | None:
    """Unscoped read, for job functions (which act for the system, not for a caller)."""
    return query_one(conn, f"SELECT {COLUMNS} FROM enterprise.connectors WHERE id = :id", id=connector_id)


def list_for_org(conn: Connection, org_id: UUID, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    rows = query(
        conn,
        f"""SELECT {COLUMNS}, count(*) OVER () AS _total FROM enterprise.connectors
            WHERE org_id = :org ORDER BY name LIMIT :limit OFFSET :offset""",
        org=org_id,
        limit=limit,
        offset=offset,
    )
    total = rows[0].pop("_total") if rows else count_for_org(conn, org_id)
    for r in rows[1:]:
        r.pop("_total")
    return rows, total


def count_for_org(conn: Connection, org_id: UUID) -> int:
    row = query_one(conn, "SELECT count(*) AS n FROM enterprise.connectors WHERE org_id = :org", org=org_id)
    return int(row["n"]) if row else 0


def list_active(conn: Connection, with_active_budgets: bool = False) -> list[dict[str, Any]]:
    """Active connectors (optionally only those with an active budget): the fan-out targets."""
    budget_filter = (
        "AND EXISTS (SELECT 1 FROM enterprise.snowflake_budgets b WHERE b.connector_id = c.id AND b.active)"
        if with_active_budgets
        else ""
    )
    return query(
        conn,
        f"SELECT id, org_id FROM enterprise.connectors c WHERE status <> 'paused' {budget_filter} ORDER BY id",
    )


def insert(conn: Connection, org_id: UUID, values: dict[str, Any]) -> dict[str, Any]:
    cols = ["org_id", *values]
    row = query_one(
        conn,
        f"INSERT INTO enterprise.connectors ({', '.join(identifier(c) for c in cols)}) "
        f"VALUES ({', '.join(':' + c for c in cols)}) RETURNING {COLUMNS}",
        org_id=org_id,
        **values,
    )
    assert row is not None
    return row


def update(conn: Connection, org_id: UUID, connector_id: UUID, values: dict[str, Any]) -> dict[str, Any] | None:
    unknown = set(values) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if not values:
        return get_for_org(conn, org_id, connector_id)
    sets = ", ".join(f"{identifier(c)} = :{c}" for c in values)
    return query_one(
        conn,
        f"UPDATE enterprise.connectors SET {sets}, updated_at = now() WHERE id = :_id AND org_id = :_org "
        f"RETURNING {COLUMNS}",
        _id=connector_id,
        _org=org_id,
        **values,
    )


def delete(conn: Connection, org_id: UUID, connector_id: UUID) -> dict[str, Any] | None:
    return query_one(
        conn,
        "DELETE FROM enterprise.connectors WHERE id = :id AND org_id = :org RETURNING id, secret_ref",
        id=connector_id,
        org=org_id,
    )
