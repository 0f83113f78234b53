"""Organizations and users, provisioned from identity-provider claims.

A user is one (org, subject): the same person in two orgs has a row, a role and an email in each, so
each org's admins (the fallback recipients of its alerts) are its own."""

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
ON CONFLICT (org_id, subject) DO UPDATE
    SET email = EXCLUDED.email,
        name = COALESCE(EXCLUDED.name, enterprise.users.name),
        role = EXCLUDED.role,
        updated_at = CASE
            WHEN (enterprise.users.email, enterprise.users.role) IS DISTINCT FROM (EXCLUDED.email, EXCLUDED.role)
            THEN now() ELSE enterprise.users.updated_at END,
        last_seen_at = now()
RETURNING id AS user_id, org_id, subject, email, role
"""


CURRENT = """
SELECT u.id AS user_id, u.org_id, u.subject, u.email, u.role
FROM enterprise.users u JOIN enterprise.organizations o ON o.id = u.org_id
WHERE u.subject = :subject AND o.external_id = :org AND u.email = :email AND u.role = :role
  AND u.name IS NOT DISTINCT FROM COALESCE(:name, u.name)
  AND u.last_seen_at > now() - interval '5 minutes'
"""


def upsert_from_claims(conn: Connection, claims: Claims) -> dict[str, Any]:
    """The caller's user row, provisioned or updated from the token's claims.

    On the hot path (every uncached API request) a caller seen in the last five minutes with the
    same claims costs one indexed read and no write."""
    params = claims.model_dump(include={"org", "subject", "email", "role", "name"})
    current = query_one(conn, CURRENT, **params)
    if current is not None:
        return current
    row = query_one(conn, UPSERT_FROM_CLAIMS, **params)
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
