"""Organizations and users, provisioned from identity-provider claims."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from snowwatch.db import Connection, query, query_one
from snowwatch.models.users import Claims

UPSERT_FROM_CLAIMS = """
WITH org AS (
    INSERT INTO enterprise.organizations (external_id, name)
    VALUES (:org, :org)
    ON CONFLICT (external_id) DO UPDATE SET external_id = EXCLUDED.external_id
    RETURNING id, external_id
)
INSERT INTO enterprise.users (org_id, subject, email, name, role)
SELECT org.id, :subject, :email, :name, :role FROM org
ON CONFLICT (subject) DO UPDATE
    SET email = EXCLUDED.email,
        name = COALESCE(EXCLUDED.name, enterprise.users.name),
        role = EXCLUDED.role,
        org_id = EXCLUDED.org_id,
        updated_at = CASE
            WHEN (enterprise.users.email, enterprise.users.role, enterprise.users.org_id)
                 IS DISTINCT FROM (EXCLUDED.email, EXCLUDED.role, EXCLUDED.org_id)
            THEN now() ELSE enterprise.users.updated_at END,
        last_seen_at = now()
RETURNING id AS user_id, org_id, subject, email, role
"""


def upsert_from_claims(conn: Connection, claims: Claims) -> dict[str, Any]:
    row = query_one(
        conn,
        UPSERT_FROM_CLAIMS,
        org=claims.org,
        subject=claims.subject,
        email=claims.email,
        name=claims.name,
        role=claims.role,
    )
    assert row is not None
    return row


def get_user(conn: Connection, user_id: UUID) -> dict[str, Any] | None:
    return query_one(
        conn,
        """SELECT u.id, u.org_id, o.external_id AS org_external_id, u.subject, u.email, u.name, u.role,
                  u.created_at, u.last_seen_at
           FROM enterprise.users u JOIN enterprise.organizations o ON o.id = u.org_id
           WHERE u.id = :id""",
        id=user_id,
    )


def admin_emails(conn: Connection, org_id: UUID) -> list[str]:
    """The org's admins: the fallback recipients of alerts without their own alert_emails."""
    rows = query(
        conn,
        "SELECT email FROM enterprise.users WHERE org_id = :org AND role = 'admin' ORDER BY email",
        org=org_id,
    )
    return [r["email"] for r in rows]
