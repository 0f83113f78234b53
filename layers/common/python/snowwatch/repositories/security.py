"""Security extraction: the load targets of the security tables, their bulk loads, snapshot
replacement and retention pruning. Every statement filters on ``connector_id``.

The other concerns have their own modules: ``security_identity`` and ``security_events`` (the rules'
fetches), ``security_alerts`` (alerts and incidents), ``security_reads`` (the API's reads).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from snowwatch.db import Connection
from snowwatch.db.bulk import upsert

SERVICE_TYPES = ("SERVICE", "LEGACY_SERVICE")
VIEW_PREFIX = "security."

# ---------------------------------------------------------------- load targets: table, columns, key
USERS = (
    "enterprise.snowflake_users",
    (
        "connector_id", "user_id", "name", "login_name", "email", "type", "created_on", "deleted_on", "disabled",
        "has_password", "has_mfa", "ext_authn_duo", "has_rsa_public_key", "has_pat", "has_workload_identity",
        "default_role",
        "bypass_mfa_until", "last_success_login", "expires_at", "locked_until_time", "password_last_set_time",
        "owner",
    ),
    ("connector_id", "user_id"),
)  # fmt: skip
LOGIN_HISTORY = (
    "enterprise.snowflake_login_history",
    (
        "connector_id", "event_id", "event_timestamp", "event_type", "user_name", "client_ip",
        "reported_client_type", "reported_client_version", "first_authentication_factor",
        "second_authentication_factor", "is_success", "error_code", "error_message", "related_event_id",
        "connection", "login_details",
    ),
    ("connector_id", "event_id"),
)  # fmt: skip
USER_ROLE_GRANTS = (
    "enterprise.snowflake_user_role_grants",
    ("connector_id", "grantee_name", "role", "granted_by", "created_on", "deleted_on"),
    ("connector_id", "grantee_name", "role", "created_on"),
)
ROLE_GRANTS = (
    "enterprise.snowflake_role_privilege_grants",
    (
        "connector_id", "privilege", "granted_on", "name", "table_catalog", "table_schema", "granted_to",
        "grantee_name", "grant_option", "granted_by", "created_on", "modified_on", "deleted_on",
    ),
    ("connector_id", "privilege", "granted_on", "name", "grantee_name", "created_on"),
)  # fmt: skip
NETWORK_POLICIES = (
    "enterprise.snowflake_network_policies",
    (
        "connector_id", "name", "policy_id", "owner", "created", "last_altered", "deleted", "allowed_ip_list",
        "blocked_ip_list", "attached_to",
    ),
    ("connector_id", "name"),
)  # fmt: skip
SESSIONS = (
    "enterprise.snowflake_sessions",
    (
        "connector_id", "session_id", "created_on", "user_name", "authentication_method", "login_event_id",
        "client_application_id", "client_application_version", "client_environment",
    ),
    ("connector_id", "session_id"),
)  # fmt: skip
ACCESS_HISTORY = (
    "enterprise.snowflake_access_history",
    (
        "connector_id", "query_id", "query_start_time", "user_name", "direct_objects_accessed",
        "base_objects_accessed", "objects_modified", "policies_referenced",
    ),
    ("connector_id", "query_id"),
)  # fmt: skip
SECURITY_QUERIES = (
    "enterprise.snowflake_security_queries",
    (
        "connector_id",
        "query_id",
        "query_type",
        "query_text",
        "user_name",
        "role_name",
        "execution_status",
        "start_time",
    ),
    ("connector_id", "query_id"),
)
SESSION_QUERIES = (
    "enterprise.snowflake_session_queries",
    (
        "connector_id", "query_id", "session_id", "start_time", "user_name", "query_type", "query_text",
        "warehouse_name", "execution_status", "rows_produced", "bytes_scanned",
    ),
    ("connector_id", "query_id"),
)  # fmt: skip
STALE_USERS = (
    "enterprise.snowflake_stale_users",
    (
        "connector_id", "user_name", "created_on", "last_success_login", "days_inactive", "has_password",
        "default_role", "detected_at",
    ),
    ("connector_id", "user_name"),
)  # fmt: skip

Target = tuple[str, tuple[str, ...], tuple[str, ...]]


# ---------------------------------------------------------------- loads
def load(conn: Connection, target: Target, connector_id: UUID, rows: Iterable[Sequence[Any]]) -> int:
    """Bulk upsert rows (in the target's column order, without connector_id) on the target's key."""
    table, columns, key = target
    return upsert(conn, table, columns, ((connector_id, *row) for row in rows), key)


def replace(conn: Connection, target: Target, connector_id: UUID, rows: Sequence[Sequence[Any]]) -> int:
    """Replace a connector's snapshot table. Call inside a transaction: readers see old or new, never half."""
    table = target[0]
    conn.run(f"DELETE FROM {table} WHERE connector_id = :c", c=connector_id)
    return load(conn, target, connector_id, rows) if rows else 0


def prune(conn: Connection, connector_id: UUID, before: datetime) -> dict[str, int]:
    """Drop event rows older than ``before`` (login history, sessions, access history, security queries)."""
    out = {}
    for table, column in (
        ("snowflake_login_history", "event_timestamp"),
        ("snowflake_sessions", "created_on"),
        ("snowflake_access_history", "query_start_time"),
        ("snowflake_security_queries", "start_time"),
        ("snowflake_session_queries", "start_time"),
    ):
        conn.run(
            f"DELETE FROM enterprise.{table} WHERE connector_id = :c AND {column} < :before",
            c=connector_id,
            before=before,
        )
        out[table] = conn.row_count
    return out
