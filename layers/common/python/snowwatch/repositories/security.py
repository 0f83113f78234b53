"""Security extraction: the load targets of the security tables, their bulk loads, snapshot
replacement and retention pruning. Every statement filters on ``connector_id``.

The other concerns have their own modules: ``security_identity`` and ``security_events`` (the rules'
fetches), ``security_alerts`` (alerts and incidents), ``security_reads`` (the API's reads).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from snowwatch.db import Connection
from snowwatch.db.bulk import upsert

SERVICE_TYPES = ("SERVICE", "LEGACY_SERVICE")
VIEW_PREFIX = "security."


# ---------------------------------------------------------------- rows, as extraction builds them
class UserRow(NamedTuple):
    user_id: int
    name: str
    login_name: str | None
    email: str | None
    type: str | None
    created_on: datetime | None
    deleted_on: datetime | None
    disabled: bool
    has_password: bool
    has_mfa: bool
    ext_authn_duo: bool
    has_rsa_public_key: bool
    has_pat: bool
    has_workload_identity: bool
    default_role: str | None
    bypass_mfa_until: datetime | None
    last_success_login: datetime | None
    expires_at: datetime | None
    locked_until_time: datetime | None
    password_last_set_time: datetime | None
    owner: str | None


class LoginRow(NamedTuple):
    event_id: int
    event_timestamp: datetime | None
    event_type: str | None
    user_name: str | None
    client_ip: str | None
    reported_client_type: str | None
    reported_client_version: str | None
    first_authentication_factor: str | None
    second_authentication_factor: str | None
    is_success: bool
    error_code: int | None
    error_message: str | None
    related_event_id: int | None
    connection: str | None
    login_details: Any


class UserGrantRow(NamedTuple):
    grantee_name: str
    role: str
    granted_by: str | None
    created_on: datetime | None
    deleted_on: datetime | None


class RoleGrantRow(NamedTuple):
    privilege: str
    granted_on: str
    name: str
    table_catalog: str | None
    table_schema: str | None
    granted_to: str
    grantee_name: str
    grant_option: bool
    granted_by: str | None
    created_on: datetime | None
    modified_on: datetime | None
    deleted_on: datetime | None


class NetworkPolicyRow(NamedTuple):
    name: str
    policy_id: int | None
    owner: str | None
    created: datetime | None
    last_altered: datetime | None
    deleted: datetime | None
    allowed_ip_list: str | None
    blocked_ip_list: str | None
    attached_to: list[dict[str, Any]]


class SessionRow(NamedTuple):
    session_id: int
    created_on: datetime | None
    user_name: str | None
    authentication_method: str | None
    login_event_id: int | None
    client_application_id: str | None
    client_application_version: str | None
    client_environment: Any


class AccessRow(NamedTuple):
    query_id: str
    query_start_time: datetime | None
    user_name: str | None
    direct_objects_accessed: Any
    base_objects_accessed: Any
    objects_modified: Any
    policies_referenced: Any


class SecurityQueryRow(NamedTuple):
    query_id: str
    query_type: str
    query_text: str | None
    user_name: str | None
    role_name: str | None
    execution_status: str | None
    start_time: datetime | None


class SessionQueryRow(NamedTuple):
    query_id: str
    session_id: int
    start_time: datetime | None
    user_name: str | None
    query_type: str | None
    query_text: str | None
    warehouse_name: str | None
    execution_status: str | None
    rows_produced: int | None
    bytes_scanned: int | None


# ---------------------------------------------------------------- load targets: table, columns (a row type's
# fields after connector_id), key
def _target(table: str, row: type[tuple[Any, ...]], *key: str) -> Target:
    fields: tuple[str, ...] = row._fields  # type: ignore[attr-defined]
    return (f"enterprise.{table}", ("connector_id", *fields), ("connector_id", *key))


Target = tuple[str, tuple[str, ...], tuple[str, ...]]
USERS = _target("snowflake_users", UserRow, "user_id")
LOGIN_HISTORY = _target("snowflake_login_history", LoginRow, "event_id")
USER_ROLE_GRANTS = _target("snowflake_user_role_grants", UserGrantRow, "grantee_name", "role", "created_on")
ROLE_GRANTS = _target(
    "snowflake_role_privilege_grants", RoleGrantRow, "privilege", "granted_on", "name", "grantee_name", "created_on"
)
NETWORK_POLICIES = _target("snowflake_network_policies", NetworkPolicyRow, "name")
SESSIONS = _target("snowflake_sessions", SessionRow, "session_id")
ACCESS_HISTORY = _target("snowflake_access_history", AccessRow, "query_id")
SECURITY_QUERIES = _target("snowflake_security_queries", SecurityQueryRow, "query_id")
SESSION_QUERIES = _target("snowflake_session_queries", SessionQueryRow, "query_id")
STALE_USERS = (
    "enterprise.snowflake_stale_users",
    (
        "connector_id", "user_name", "created_on", "last_success_login", "days_inactive", "has_password",
        "default_role", "detected_at",
    ),
    ("connector_id", "user_name"),
)  # fmt: skip


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
