"""The rules' fetches over the identity snapshots (users, role grants, network policies): one
statement per rule input, each returning typed rows (TypedDicts, so evidence stays plain JSON).
Every statement filters on ``connector_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict, TypeVar, cast
from uuid import UUID

from snowwatch.db import Connection, query

ADMIN_ROLES = ("ACCOUNTADMIN", "SECURITYADMIN")
SYSTEM_ROLES = ("ACCOUNTADMIN", "SECURITYADMIN", "SYSADMIN", "USERADMIN", "ORGADMIN", "PUBLIC")

R = TypeVar("R")


def typed(kind: type[R], rows: list[dict[str, Any]]) -> list[R]:
    """The rows of a statement as the row type its SELECT list declares (no copy, no validation)."""
    del kind
    return cast(list[R], rows)


class AdminRow(TypedDict):
    user_name: str
    admin_role: str
    path: list[str]
    type: str | None
    default_role: str | None
    has_password: bool
    has_mfa: bool
    ext_authn_duo: bool
    last_success_login: datetime | None


class NoMfaRow(TypedDict):
    user_name: str
    email: str | None
    type: str | None
    default_role: str | None
    ext_authn_duo: bool
    has_mfa: bool
    last_success_login: datetime | None
    created_on: datetime | None
    is_admin: bool


class AdminGrantRow(TypedDict):
    granted_to: str
    grantee_name: str
    admin_role: str
    granted_by: str | None
    created_on: datetime


class DefaultRoleRow(TypedDict):
    user_name: str
    default_role: str
    type: str | None
    last_success_login: datetime | None


class CustomRoleGrantRow(TypedDict):
    admin_role: str
    custom_role: str
    granted_by: str | None
    created_on: datetime


class StaleUserRow(TypedDict):
    user_name: str
    created_on: datetime | None
    last_success_login: datetime | None
    days_inactive: int
    has_password: bool
    default_role: str | None


class ServiceUserRow(TypedDict):
    user_name: str
    type: str
    has_rsa_public_key: bool
    password_last_set_time: datetime | None
    last_success_login: datetime | None


class BypassRow(TypedDict):
    user_name: str
    bypass_mfa_until: datetime
    has_password: bool
    has_mfa: bool


class PolicyRow(TypedDict):
    name: str
    policy_id: int | None
    owner: str | None
    last_altered: datetime | None
    allowed_ip_list: str | None
    blocked_ip_list: str | None
    attached_to: list[dict[str, Any]]


_EFFECTIVE_ROLES = """
WITH RECURSIVE edges AS (
    -- role-to-role grants: NAME (the granted role) is inherited by GRANTEE_NAME (the receiving role)
    SELECT name AS granted_role, grantee_name AS grantee_role
    FROM enterprise.snowflake_role_privilege_grants
    WHERE connector_id = :c AND granted_on = 'ROLE' AND privilege = 'USAGE' AND deleted_on IS NULL
), walk AS (
    SELECT g.grantee_name AS user_name, g.role, ARRAY[g.role]::text[] AS path
    FROM enterprise.snowflake_user_role_grants g
    JOIN enterprise.snowflake_users u
      ON u.connector_id = g.connector_id AND u.name = g.grantee_name AND NOT u.disabled AND u.deleted_on IS NULL
    WHERE g.connector_id = :c AND g.deleted_on IS NULL
    UNION ALL
    SELECT w.user_name, e.granted_role, w.path || e.granted_role
    FROM walk w
    JOIN edges e ON e.grantee_role = w.role
    WHERE NOT e.granted_role = ANY (w.path) AND cardinality(w.path) < 32   -- cycles and runaway depth
)
"""


def effective_admins(conn: Connection, connector_id: UUID) -> list[AdminRow]:
    """Enabled users holding ACCOUNTADMIN/SECURITYADMIN directly or through role inheritance, with the
    shortest grant path per (user, admin role)."""
    return typed(
        AdminRow,
        query(
            conn,
            _EFFECTIVE_ROLES
            + """
        , best AS (
            SELECT DISTINCT ON (user_name, role) user_name, role AS admin_role, path
            FROM walk WHERE role = ANY (CAST(:admin AS text[]))
            ORDER BY user_name, role, cardinality(path)
        )
        SELECT b.user_name, b.admin_role, b.path, u.type, u.default_role, u.has_password, u.has_mfa,
               u.ext_authn_duo, u.last_success_login
        FROM best b
        JOIN enterprise.snowflake_users u ON u.connector_id = :c AND u.name = b.user_name
        ORDER BY b.user_name, b.admin_role""",
            c=connector_id,
            admin=list(ADMIN_ROLES),
        ),
    )


HUMAN_USER = "(u.type IS NULL OR u.type NOT IN ('SERVICE', 'LEGACY_SERVICE'))"
ACTIVE_USER = "NOT u.disabled AND u.deleted_on IS NULL"


def password_users_without_mfa(conn: Connection, connector_id: UUID) -> list[NoMfaRow]:
    """Enabled human users with a password and neither HAS_MFA nor the legacy Duo flag; admins marked."""
    return typed(
        NoMfaRow,
        query(
            conn,
            _EFFECTIVE_ROLES
            + f"""
        , admins AS (SELECT DISTINCT user_name FROM walk WHERE role = ANY (CAST(:admin AS text[])))
        SELECT u.name AS user_name, u.email, u.type, u.default_role, u.ext_authn_duo, u.has_mfa,
               u.last_success_login, u.created_on, (a.user_name IS NOT NULL) AS is_admin
        FROM enterprise.snowflake_users u
        LEFT JOIN admins a ON a.user_name = u.name
        WHERE u.connector_id = :c AND {ACTIVE_USER} AND {HUMAN_USER}
          AND u.has_password AND NOT u.has_mfa AND NOT u.ext_authn_duo
        ORDER BY (a.user_name IS NOT NULL) DESC, u.name""",
            c=connector_id,
            admin=list(ADMIN_ROLES),
        ),
    )


def new_admin_grants(conn: Connection, connector_id: UUID, since: datetime) -> list[AdminGrantRow]:
    """Live grants of ACCOUNTADMIN/SECURITYADMIN created since ``since``, to users or to roles."""
    return typed(
        AdminGrantRow,
        query(
            conn,
            """SELECT 'USER' AS granted_to, grantee_name, role AS admin_role, granted_by, created_on
           FROM enterprise.snowflake_user_role_grants
           WHERE connector_id = :c AND deleted_on IS NULL AND created_on >= :since
             AND role = ANY (CAST(:admin AS text[]))
           UNION ALL
           SELECT 'ROLE', grantee_name, name, granted_by, created_on
           FROM enterprise.snowflake_role_privilege_grants
           WHERE connector_id = :c AND deleted_on IS NULL AND created_on >= :since
             AND granted_on = 'ROLE' AND privilege = 'USAGE' AND name = ANY (CAST(:admin AS text[]))
           ORDER BY created_on DESC""",
            c=connector_id,
            since=since,
            admin=list(ADMIN_ROLES),
        ),
    )


def admin_default_role_users(conn: Connection, connector_id: UUID) -> list[DefaultRoleRow]:
    return typed(
        DefaultRoleRow,
        query(
            conn,
            f"""SELECT u.name AS user_name, u.default_role, u.type, u.last_success_login
            FROM enterprise.snowflake_users u
            WHERE u.connector_id = :c AND {ACTIVE_USER} AND upper(u.default_role) = ANY (CAST(:admin AS text[]))
            ORDER BY u.name""",
            c=connector_id,
            admin=list(ADMIN_ROLES),
        ),
    )


def admin_roles_granted_to_custom_roles(conn: Connection, connector_id: UUID) -> list[CustomRoleGrantRow]:
    """Live grants of an admin role to a role that is not a Snowflake system role (CIS 1.13)."""
    return typed(
        CustomRoleGrantRow,
        query(
            conn,
            """SELECT name AS admin_role, grantee_name AS custom_role, granted_by, created_on
           FROM enterprise.snowflake_role_privilege_grants
           WHERE connector_id = :c AND deleted_on IS NULL AND granted_on = 'ROLE' AND privilege = 'USAGE'
             AND name = ANY (CAST(:admin AS text[])) AND NOT grantee_name = ANY (CAST(:system AS text[]))
           ORDER BY grantee_name, name""",
            c=connector_id,
            admin=list(ADMIN_ROLES),
            system=list(SYSTEM_ROLES),
        ),
    )


def stale_users(conn: Connection, connector_id: UUID, now: datetime, days: int) -> list[StaleUserRow]:
    """Enabled, not deleted users without a successful login for ``days`` days (never-logged-in users
    counted from CREATED_ON). The last login is the later of USERS.LAST_SUCCESS_LOGIN and the history."""
    return typed(
        StaleUserRow,
        query(
            conn,
            f"""WITH last AS (
                SELECT user_name, max(event_timestamp) AS at
                FROM enterprise.snowflake_login_history
                WHERE connector_id = :c AND is_success AND user_name IS NOT NULL
                GROUP BY user_name
            ), u2 AS (
                SELECT u.*, GREATEST(u.last_success_login, l.at) AS last_login
                FROM enterprise.snowflake_users u
                LEFT JOIN last l ON l.user_name = u.name
                WHERE u.connector_id = :c AND {ACTIVE_USER}
            )
            SELECT name AS user_name, created_on, last_login AS last_success_login,
                   floor(extract(epoch FROM (CAST(:now AS timestamptz) - COALESCE(last_login, created_on)))
                         / 86400)::int
                       AS days_inactive,
                   has_password, default_role
            FROM u2
            WHERE COALESCE(last_login, created_on)
                  <= CAST(:now AS timestamptz) - make_interval(days => CAST(:days AS int))
            ORDER BY days_inactive DESC, name""",
            c=connector_id,
            now=now,
            days=days,
        ),
    )


def service_users_with_password(conn: Connection, connector_id: UUID) -> list[ServiceUserRow]:
    return typed(
        ServiceUserRow,
        query(
            conn,
            f"""SELECT u.name AS user_name, u.type, u.has_rsa_public_key, u.password_last_set_time, u.last_success_login
            FROM enterprise.snowflake_users u
            WHERE u.connector_id = :c AND {ACTIVE_USER} AND u.type IN ('SERVICE', 'LEGACY_SERVICE') AND u.has_password
            ORDER BY u.name""",
            c=connector_id,
        ),
    )


def mfa_bypass_active(conn: Connection, connector_id: UUID, now: datetime) -> list[BypassRow]:
    return typed(
        BypassRow,
        query(
            conn,
            f"""SELECT u.name AS user_name, u.bypass_mfa_until, u.has_password, u.has_mfa
            FROM enterprise.snowflake_users u
            WHERE u.connector_id = :c AND {ACTIVE_USER} AND u.bypass_mfa_until > :now
            ORDER BY u.name""",
            c=connector_id,
            now=now,
        ),
    )


def network_policies(conn: Connection, connector_id: UUID) -> list[PolicyRow]:
    """Live network policies with where they are attached (``attached_to``: [{domain, entity, status}])."""
    return typed(
        PolicyRow,
        query(
            conn,
            """SELECT name, policy_id, owner, last_altered, allowed_ip_list, blocked_ip_list, attached_to
           FROM enterprise.snowflake_network_policies
           WHERE connector_id = :c AND deleted IS NULL ORDER BY name""",
            c=connector_id,
        ),
    )
