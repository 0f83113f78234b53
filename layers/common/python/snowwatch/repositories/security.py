"""Security: all the SQL of the security tables (extraction loads, the set-based detection rules,
alerts and their lifecycle, and the API's reads). Every statement filters on ``connector_id``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, query, query_one
from snowwatch.db.bulk import upsert

ADMIN_ROLES = ("ACCOUNTADMIN", "SECURITYADMIN")
SYSTEM_ROLES = ("ACCOUNTADMIN", "SECURITYADMIN", "SYSADMIN", "USERADMIN", "ORGADMIN", "PUBLIC")
NOISE_ERROR_CODES = (390156, 394304)
SERVICE_TYPES = ("SERVICE", "LEGACY_SERVICE")
VIEW_PREFIX = "security."

# ---------------------------------------------------------------- load targets: table, columns, key
USERS = (
    "enterprise.snowflake_users",
    (
        "connector_id", "user_id", "name", "login_name", "email", "type", "created_on", "deleted_on", "disabled",
        "has_password", "has_mfa", "ext_authn_duo", "has_rsa_public_key", "has_pat", "default_role",
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
        "base_objects_accessed", "objects_modified",
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
STALE_USERS = (
    "enterprise.snowflake_stale_users",
    (
        "connector_id", "user_name", "created_on", "last_success_login", "days_inactive", "has_password",
        "default_role", "detected_at",
    ),
    ("connector_id", "user_name"),
)  # fmt: skip

Target = tuple[str, tuple[str, ...], tuple[str, ...]]


# ---------------------------------------------------------------- watermarks
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
    ):
        conn.run(
            f"DELETE FROM enterprise.{table} WHERE connector_id = :c AND {column} < :before",
            c=connector_id,
            before=before,
        )
        out[table] = conn.row_count
    return out


# ---------------------------------------------------------------- set-based rules
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


def effective_admins(conn: Connection, connector_id: UUID) -> list[dict[str, Any]]:
    """Enabled users holding ACCOUNTADMIN/SECURITYADMIN directly or through role inheritance, with the
    shortest grant path per (user, admin role)."""
    return query(
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
    )


_HUMAN = "(u.type IS NULL OR u.type NOT IN ('SERVICE', 'LEGACY_SERVICE'))"
_ACTIVE = "NOT u.disabled AND u.deleted_on IS NULL"


def password_users_without_mfa(conn: Connection, connector_id: UUID) -> list[dict[str, Any]]:
    """Enabled human users with a password and neither HAS_MFA nor the legacy Duo flag; admins marked."""
    return query(
        conn,
        _EFFECTIVE_ROLES
        + f"""
        , admins AS (SELECT DISTINCT user_name FROM walk WHERE role = ANY (CAST(:admin AS text[])))
        SELECT u.name AS user_name, u.email, u.type, u.default_role, u.ext_authn_duo, u.has_mfa,
               u.last_success_login, u.created_on, (a.user_name IS NOT NULL) AS is_admin
        FROM enterprise.snowflake_users u
        LEFT JOIN admins a ON a.user_name = u.name
        WHERE u.connector_id = :c AND {_ACTIVE} AND {_HUMAN}
          AND u.has_password AND NOT u.has_mfa AND NOT u.ext_authn_duo
        ORDER BY (a.user_name IS NOT NULL) DESC, u.name""",
        c=connector_id,
        admin=list(ADMIN_ROLES),
    )


def mfa_adoption(conn: Connection, connector_id: UUID) -> dict[str, Any]:
    row = query_one(
        conn,
        f"""SELECT count(*) AS password_users,
                   count(*) FILTER (WHERE u.has_mfa OR u.ext_authn_duo) AS with_mfa
            FROM enterprise.snowflake_users u
            WHERE u.connector_id = :c AND {_ACTIVE} AND {_HUMAN} AND u.has_password""",
        c=connector_id,
    )
    return row or {"password_users": 0, "with_mfa": 0}


def new_admin_grants(conn: Connection, connector_id: UUID, since: datetime) -> list[dict[str, Any]]:
    """Live grants of ACCOUNTADMIN/SECURITYADMIN created since ``since``, to users or to roles."""
    return query(
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
    )


def admin_default_role_users(conn: Connection, connector_id: UUID) -> list[dict[str, Any]]:
    return query(
        conn,
        f"""SELECT u.name AS user_name, u.default_role, u.type, u.last_success_login
            FROM enterprise.snowflake_users u
            WHERE u.connector_id = :c AND {_ACTIVE} AND upper(u.default_role) = ANY (CAST(:admin AS text[]))
            ORDER BY u.name""",
        c=connector_id,
        admin=list(ADMIN_ROLES),
    )


def admin_roles_granted_to_custom_roles(conn: Connection, connector_id: UUID) -> list[dict[str, Any]]:
    """Live grants of an admin role to a role that is not a Snowflake system role (CIS 1.13)."""
    return query(
        conn,
        """SELECT name AS admin_role, grantee_name AS custom_role, granted_by, created_on
           FROM enterprise.snowflake_role_privilege_grants
           WHERE connector_id = :c AND deleted_on IS NULL AND granted_on = 'ROLE' AND privilege = 'USAGE'
             AND name = ANY (CAST(:admin AS text[])) AND NOT grantee_name = ANY (CAST(:system AS text[]))
           ORDER BY grantee_name, name""",
        c=connector_id,
        admin=list(ADMIN_ROLES),
        system=list(SYSTEM_ROLES),
    )


def stale_users(conn: Connection, connector_id: UUID, now: datetime, days: int) -> list[dict[str, Any]]:
    """Enabled, not deleted users without a successful login for ``days`` days (never-logged-in users
    counted from CREATED_ON). The last login is the later of USERS.LAST_SUCCESS_LOGIN and the history."""
    return query(
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
                WHERE u.connector_id = :c AND {_ACTIVE}
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
    )


_FAILURES = """
failures AS (
    SELECT event_id, event_timestamp, user_name, client_ip, error_code
    FROM enterprise.snowflake_login_history
    WHERE connector_id = :c AND NOT is_success AND event_timestamp >= :since
      AND COALESCE(error_code, 0) <> ALL (CAST(:noise AS int[]))
)"""


def failed_login_bursts(
    conn: Connection, connector_id: UUID, since: datetime, *, by: str, threshold: int, window_minutes: int
) -> list[dict[str, Any]]:
    """Users (``by='user_name'``) or IPs (``by='client_ip'``) with >= ``threshold`` failures inside any
    sliding window of ``window_minutes``; noise codes excluded; NULL subjects ignored."""
    if by not in ("user_name", "client_ip"):
        raise ValueError("by must be user_name or client_ip")
    return query(
        conn,
        f"""WITH {_FAILURES}, windowed AS (
                SELECT *, count(*) OVER (
                    PARTITION BY {by} ORDER BY event_timestamp
                    RANGE BETWEEN make_interval(mins => CAST(:w AS int)) PRECEDING AND CURRENT ROW) AS in_window
                FROM failures WHERE {by} IS NOT NULL
            )
            SELECT {by} AS subject, max(in_window) AS max_in_window, count(*) AS failures,
                   min(event_timestamp) AS first_failure, max(event_timestamp) AS last_failure,
                   array_agg(DISTINCT COALESCE(user_name, '(unidentified)')) AS users,
                   array_agg(DISTINCT client_ip) AS ips
            FROM windowed GROUP BY {by} HAVING max(in_window) >= :t ORDER BY {by}""",
        c=connector_id,
        since=since,
        noise=list(NOISE_ERROR_CODES),
        w=window_minutes,
        t=threshold,
    )


def password_spraying(
    conn: Connection, connector_id: UUID, since: datetime, *, min_users: int, window_minutes: int
) -> list[dict[str, Any]]:
    """IPs whose failed logins touched >= ``min_users`` distinct identified users inside one window."""
    return query(
        conn,
        f"""WITH {_FAILURES}, per_event AS (
                SELECT f1.client_ip, f1.event_timestamp, count(DISTINCT f2.user_name) AS users_in_window
                FROM failures f1
                JOIN failures f2 ON f2.client_ip = f1.client_ip
                 AND f2.event_timestamp BETWEEN f1.event_timestamp - make_interval(mins => CAST(:w AS int))
                                            AND f1.event_timestamp
                WHERE f1.client_ip IS NOT NULL
                GROUP BY f1.client_ip, f1.event_id, f1.event_timestamp
            )
            SELECT p.client_ip AS subject, max(p.users_in_window) AS max_users_in_window,
                   min(p.event_timestamp) AS first_failure, max(p.event_timestamp) AS last_failure,
                   (SELECT array_agg(DISTINCT COALESCE(f.user_name, '(unidentified)')) FROM failures f
                     WHERE f.client_ip = p.client_ip) AS users,
                   (SELECT count(*) FROM failures f WHERE f.client_ip = p.client_ip) AS failures
            FROM per_event p
            GROUP BY p.client_ip HAVING max(p.users_in_window) >= :m ORDER BY p.client_ip""",
        c=connector_id,
        since=since,
        noise=list(NOISE_ERROR_CODES),
        w=window_minutes,
        m=min_users,
    )


def failures_then_success(
    conn: Connection, connector_id: UUID, since: datetime, *, min_failures: int, window_minutes: int
) -> list[dict[str, Any]]:
    """Successful logins preceded by >= ``min_failures`` failures of the same user within the window."""
    return query(
        conn,
        f"""WITH {_FAILURES}, hits AS (
                SELECT s.user_name, s.event_id, s.event_timestamp AS success_at, s.client_ip AS success_ip,
                       s.first_authentication_factor, count(f.event_id) AS failures_before,
                       array_agg(DISTINCT f.client_ip) AS failure_ips
                FROM enterprise.snowflake_login_history s
                JOIN failures f ON f.user_name = s.user_name
                 AND f.event_timestamp >= s.event_timestamp - make_interval(mins => CAST(:w AS int))
                 AND f.event_timestamp < s.event_timestamp
                WHERE s.connector_id = :c AND s.is_success AND s.event_timestamp >= :since AND s.user_name IS NOT NULL
                GROUP BY s.user_name, s.event_id, s.event_timestamp, s.client_ip, s.first_authentication_factor
                HAVING count(f.event_id) >= :m
            )
            SELECT DISTINCT ON (user_name) user_name AS subject, success_at, success_ip, first_authentication_factor,
                   failures_before, failure_ips, (SELECT count(*) FROM hits h2 WHERE h2.user_name = hits.user_name)
                   AS occurrences
            FROM hits ORDER BY user_name, success_at DESC""",
        c=connector_id,
        since=since,
        noise=list(NOISE_ERROR_CODES),
        w=window_minutes,
        m=min_failures,
    )


def keypair_users_password_logins(conn: Connection, connector_id: UUID, since: datetime) -> list[dict[str, Any]]:
    """Successful password sign-ins (FIRST_AUTHENTICATION_FACTOR = 'PASSWORD') of users with an RSA key."""
    return query(
        conn,
        f"""SELECT l.user_name AS subject, count(*) AS logins, max(l.event_timestamp) AS last_login,
                   array_agg(DISTINCT l.client_ip) AS ips, bool_or(u.type IN ('SERVICE', 'LEGACY_SERVICE')) AS service
            FROM enterprise.snowflake_login_history l
            JOIN enterprise.snowflake_users u ON u.connector_id = l.connector_id AND u.name = l.user_name
            WHERE l.connector_id = :c AND l.is_success AND l.event_timestamp >= :since
              AND l.first_authentication_factor = 'PASSWORD' AND u.has_rsa_public_key AND {_ACTIVE}
            GROUP BY l.user_name ORDER BY l.user_name""",
        c=connector_id,
        since=since,
    )


def service_users_with_password(conn: Connection, connector_id: UUID) -> list[dict[str, Any]]:
    return query(
        conn,
        f"""SELECT u.name AS user_name, u.type, u.has_rsa_public_key, u.password_last_set_time, u.last_success_login
            FROM enterprise.snowflake_users u
            WHERE u.connector_id = :c AND {_ACTIVE} AND u.type IN ('SERVICE', 'LEGACY_SERVICE') AND u.has_password
            ORDER BY u.name""",
        c=connector_id,
    )


def mfa_bypass_active(conn: Connection, connector_id: UUID, now: datetime) -> list[dict[str, Any]]:
    return query(
        conn,
        f"""SELECT u.name AS user_name, u.bypass_mfa_until, u.has_password, u.has_mfa
            FROM enterprise.snowflake_users u
            WHERE u.connector_id = :c AND {_ACTIVE} AND u.bypass_mfa_until > :now
            ORDER BY u.name""",
        c=connector_id,
        now=now,
    )


def network_policies(conn: Connection, connector_id: UUID) -> list[dict[str, Any]]:
    """Live network policies with where they are attached (``attached_to``: [{domain, entity, status}])."""
    return query(
        conn,
        """SELECT name, policy_id, owner, last_altered, allowed_ip_list, blocked_ip_list, attached_to
           FROM enterprise.snowflake_network_policies
           WHERE connector_id = :c AND deleted IS NULL ORDER BY name""",
        c=connector_id,
    )


def security_changes(conn: Connection, connector_id: UUID, since: datetime, *, kind: str) -> list[dict[str, Any]]:
    """Successful network policy changes (``kind='network_policy'``) or security integration changes
    (``kind='security_integration'``) since ``since``."""
    if kind == "network_policy":
        where = """(query_type IN ('CREATE_NETWORK_POLICY', 'ALTER_NETWORK_POLICY', 'DROP_NETWORK_POLICY')
                    OR (query_type IN ('ALTER_ACCOUNT', 'ALTER_USER') AND query_text ~* 'NETWORK_POLICY'))"""
    elif kind == "security_integration":
        where = """query_type ~ '^(CREATE|ALTER|DROP)'
                   AND query_text ~* '^\\s*(CREATE|ALTER|DROP)\\s+(OR\\s+REPLACE\\s+)?SECURITY\\s+INTEGRATION'"""
    else:
        raise ValueError("unknown kind")
    return query(
        conn,
        f"""SELECT query_id, query_type, query_text, user_name, role_name, start_time
            FROM enterprise.snowflake_security_queries
            WHERE connector_id = :c AND start_time >= :since AND execution_status = 'SUCCESS' AND {where}
            ORDER BY start_time""",
        c=connector_id,
        since=since,
    )


def attack_tooling_sessions(conn: Connection, connector_id: UUID, since: datetime) -> list[dict[str, Any]]:
    """Sessions whose CLIENT_ENVIRONMENT matches the published UNC5537 indicators."""
    return query(
        conn,
        """SELECT session_id, created_on, user_name, authentication_method, client_application_id,
                  client_environment->>'APPLICATION' AS application, client_environment->>'OS' AS os
           FROM enterprise.snowflake_sessions
           WHERE connector_id = :c AND created_on >= :since
             AND (lower(client_environment->>'APPLICATION') = 'rapeflake'
                  OR (client_environment->>'APPLICATION' = 'DBeaver_DBeaverUltimate'
                      AND client_environment->>'OS' = 'Windows Server 2022'))
           ORDER BY user_name, created_on""",
        c=connector_id,
        since=since,
    )


def exfiltration_chains(conn: Connection, connector_id: UUID, since: datetime, *, hours: int) -> list[dict[str, Any]]:
    """CREATE TEMPORARY STAGE, then COPY INTO @stage (UNLOAD), then GET (GET_FILES), by one user, the whole
    chain within ``hours`` of the stage's creation; one row per chain (its earliest unload and get)."""
    return query(
        conn,
        """WITH q AS (
               SELECT * FROM enterprise.snowflake_security_queries
               WHERE connector_id = :c AND start_time >= :since AND execution_status = 'SUCCESS'
           ), stages AS (
               SELECT * FROM q WHERE query_type IN ('CREATE', 'CREATE_STAGE')
                 AND query_text ~* '^\\s*CREATE\\s+(OR\\s+REPLACE\\s+)?TEMP(ORARY)?\\s+STAGE'
           )
           SELECT s.user_name AS subject, s.query_id AS stage_query_id, s.query_text AS stage_text,
                  s.start_time AS stage_at, u.query_id AS unload_query_id, u.query_text AS unload_text,
                  u.start_time AS unload_at, g.query_id AS get_query_id, g.query_text AS get_text,
                  g.start_time AS get_at
           FROM stages s
           JOIN LATERAL (
               SELECT * FROM q WHERE q.user_name = s.user_name AND q.query_type = 'UNLOAD'
                 AND q.start_time > s.start_time
                 AND q.start_time <= s.start_time + make_interval(hours => CAST(:h AS int))
               ORDER BY q.start_time LIMIT 1) u ON true
           JOIN LATERAL (
               SELECT * FROM q WHERE q.user_name = s.user_name AND q.query_type = 'GET_FILES'
                 AND q.start_time > u.start_time
                 AND q.start_time <= s.start_time + make_interval(hours => CAST(:h AS int))
               ORDER BY q.start_time LIMIT 1) g ON true
           ORDER BY s.user_name, s.start_time""",
        c=connector_id,
        since=since,
        h=hours,
    )


def malicious_ip_logins(conn: Connection, connector_id: UUID, since: datetime) -> list[dict[str, Any]]:
    """Logins whose LOGIN_DETAILS carry malicious-IP categories and that either succeeded or were classified
    MEDIUM/HIGH risk. LOGIN_DETAILS is stored with its nested JSON string already parsed."""
    return query(
        conn,
        """SELECT event_id, event_timestamp, user_name, client_ip, is_success, first_authentication_factor,
                  login_details->'malicious_ip_protection_info' AS info
           FROM enterprise.snowflake_login_history
           WHERE connector_id = :c AND event_timestamp >= :since
             AND jsonb_typeof(login_details->'malicious_ip_protection_info'->'categories') = 'array'
             AND jsonb_array_length(login_details->'malicious_ip_protection_info'->'categories') > 0
             AND (is_success OR upper(login_details->'malicious_ip_protection_info'->>'riskClassification')
                  IN ('HIGH', 'MEDIUM'))
           ORDER BY client_ip, event_timestamp""",
        c=connector_id,
        since=since,
    )


# ---------------------------------------------------------------- alerts
ALERT_COLUMNS = """a.id, a.connector_id, a.rule_id, a.severity, a.fingerprint, a.subject, a.title, a.description,
    a.evidence, a.remediation_sql, a.status, a.first_seen_at, a.last_seen_at, a.occurrences, a.resolved_at,
    a.resolved_by, a.resolution_note, a.reopened_count"""


def alerts_by_fingerprint(
    conn: Connection, connector_id: UUID, fingerprints: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Existing alerts for these fingerprints, locked for the rest of the transaction."""
    if not fingerprints:
        return {}
    rows = query(
        conn,
        f"""SELECT {ALERT_COLUMNS} FROM enterprise.snowflake_security_alerts a
            WHERE a.connector_id = :c AND a.fingerprint = ANY (CAST(:f AS text[])) FOR UPDATE""",
        c=connector_id,
        f=list(fingerprints),
    )
    return {r["fingerprint"]: r for r in rows}


def insert_alert(conn: Connection, connector_id: UUID, fingerprint: str, f: dict[str, Any]) -> UUID:
    row = query_one(
        conn,
        """INSERT INTO enterprise.snowflake_security_alerts
               (connector_id, rule_id, severity, fingerprint, subject, title, description, evidence, remediation_sql,
                status, first_seen_at, last_seen_at, occurrences)
           VALUES (:c, :rule, :sev, :fp, :subject, :title, :descr, CAST(:evidence AS jsonb), :remediation, 'open',
                   :seen, :seen, 1)
           RETURNING id""",
        c=connector_id,
        rule=f["rule_id"],
        sev=f["severity"],
        fp=fingerprint,
        subject=f["subject"],
        title=f["title"],
        descr=f["description"],
        evidence=json.dumps(f["evidence"], default=str),
        remediation=f["remediation_sql"],
        seen=f["observed_at"],
    )
    assert row is not None
    return UUID(str(row["id"]))


def update_alert(conn: Connection, alert_id: UUID, f: dict[str, Any], *, new_evidence: bool, reopen: bool) -> None:
    """Record a recurrence: refresh the finding's text and evidence; last_seen_at moves forward only;
    occurrences count evaluations with new evidence; ``reopen`` turns a resolved alert open again."""
    conn.run(
        """UPDATE enterprise.snowflake_security_alerts
           SET severity = :sev, title = :title, description = :descr, evidence = CAST(:evidence AS jsonb),
               remediation_sql = :remediation,
               last_seen_at = GREATEST(last_seen_at, :seen),
               occurrences = occurrences + CASE WHEN :new THEN 1 ELSE 0 END,
               status = CASE WHEN :reopen THEN 'open' ELSE status END,
               reopened_count = reopened_count + CASE WHEN :reopen THEN 1 ELSE 0 END
           WHERE id = :id""",
        id=alert_id,
        sev=f["severity"],
        title=f["title"],
        descr=f["description"],
        evidence=json.dumps(f["evidence"], default=str),
        remediation=f["remediation_sql"],
        seen=f["observed_at"],
        new=new_evidence,
        reopen=reopen,
    )


def list_alerts(
    conn: Connection,
    connector_id: UUID,
    *,
    status: str | None,
    severity: str | None,
    rule: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    where = "a.connector_id = :c"
    params: dict[str, Any] = {"c": connector_id}
    for column, value in (("status", status), ("severity", severity), ("rule_id", rule)):
        if value is not None:
            where += f" AND a.{column} = :{column}"
            params[column] = value
    total = query_one(conn, f"SELECT count(*) AS n FROM enterprise.snowflake_security_alerts a WHERE {where}", **params)
    rows = query(
        conn,
        f"""SELECT {ALERT_COLUMNS}, u.email AS resolved_by_email
            FROM enterprise.snowflake_security_alerts a
            LEFT JOIN enterprise.users u ON u.id = a.resolved_by
            WHERE {where}
            ORDER BY a.status, CASE a.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2
                     WHEN 'low' THEN 3 ELSE 4 END, a.last_seen_at DESC, a.id
            LIMIT :limit OFFSET :offset""",
        **params,
        limit=limit,
        offset=offset,
    )
    return rows, int(total["n"]) if total else 0


def get_alert(conn: Connection, connector_id: UUID, alert_id: UUID) -> dict[str, Any] | None:
    return query_one(
        conn,
        f"""SELECT {ALERT_COLUMNS}, u.email AS resolved_by_email
            FROM enterprise.snowflake_security_alerts a
            LEFT JOIN enterprise.users u ON u.id = a.resolved_by
            WHERE a.connector_id = :c AND a.id = :id""",
        c=connector_id,
        id=alert_id,
    )


def resolve_alert(conn: Connection, connector_id: UUID, alert_id: UUID, user_id: UUID, note: str) -> bool:
    conn.run(
        """UPDATE enterprise.snowflake_security_alerts
           SET status = 'resolved', resolved_at = now(), resolved_by = :u, resolution_note = :note
           WHERE connector_id = :c AND id = :id""",
        c=connector_id,
        id=alert_id,
        u=user_id,
        note=note,
    )
    return bool(conn.row_count)


def open_alert_counts(conn: Connection, connector_id: UUID) -> dict[str, int]:
    rows = query(
        conn,
        """SELECT severity, count(*) AS n FROM enterprise.snowflake_security_alerts
           WHERE connector_id = :c AND status = 'open' GROUP BY severity""",
        c=connector_id,
    )
    return {r["severity"]: int(r["n"]) for r in rows}


# ---------------------------------------------------------------- API reads
def stale_user_rows(conn: Connection, connector_id: UUID, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    total = query_one(
        conn, "SELECT count(*) AS n FROM enterprise.snowflake_stale_users WHERE connector_id = :c", c=connector_id
    )
    rows = query(
        conn,
        """SELECT user_name, created_on, last_success_login, days_inactive, has_password, default_role, detected_at
           FROM enterprise.snowflake_stale_users WHERE connector_id = :c
           ORDER BY days_inactive DESC, user_name LIMIT :limit OFFSET :offset""",
        c=connector_id,
        limit=limit,
        offset=offset,
    )
    return rows, int(total["n"]) if total else 0


def failed_logins(conn: Connection, connector_id: UUID, since: datetime) -> dict[str, Any]:
    """Failed logins since ``since`` (noise codes excluded) by user and by IP."""
    params = {"c": connector_id, "since": since, "noise": list(NOISE_ERROR_CODES)}
    base = f"WITH {_FAILURES}"
    total = query_one(conn, base + " SELECT count(*) AS n FROM failures", **params)
    by_user = query(
        conn,
        base
        + """ SELECT user_name, count(*) AS failures, count(DISTINCT client_ip) AS distinct_ips,
                          min(event_timestamp) AS first_failure, max(event_timestamp) AS last_failure
                   FROM failures GROUP BY user_name ORDER BY failures DESC, user_name NULLS LAST LIMIT 100""",
        **params,
    )
    by_ip = query(
        conn,
        base
        + """ SELECT client_ip, count(*) AS failures, count(DISTINCT user_name) AS distinct_users,
                          min(event_timestamp) AS first_failure, max(event_timestamp) AS last_failure
                   FROM failures GROUP BY client_ip ORDER BY failures DESC, client_ip NULLS LAST LIMIT 100""",
        **params,
    )
    return {"total": int(total["n"]) if total else 0, "by_user": by_user, "by_ip": by_ip}


def login_history(
    conn: Connection,
    connector_id: UUID,
    *,
    user: str | None,
    ip: str | None,
    success: bool | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    where = "connector_id = :c"
    params: dict[str, Any] = {"c": connector_id}
    if user is not None:
        where += " AND upper(user_name) = upper(:user)"
        params["user"] = user
    if ip is not None:
        where += " AND client_ip = :ip"
        params["ip"] = ip
    if success is not None:
        where += " AND is_success = :success"
        params["success"] = success
    if start is not None:
        where += " AND event_timestamp >= :start"
        params["start"] = start
    if end is not None:
        where += " AND event_timestamp < :end"
        params["end"] = end
    total = query_one(conn, f"SELECT count(*) AS n FROM enterprise.snowflake_login_history WHERE {where}", **params)
    rows = query(
        conn,
        f"""SELECT event_id, event_timestamp, event_type, user_name, client_ip, reported_client_type,
                   first_authentication_factor, second_authentication_factor, is_success, error_code, error_message
            FROM enterprise.snowflake_login_history WHERE {where}
            ORDER BY event_timestamp DESC, event_id DESC LIMIT :limit OFFSET :offset""",
        **params,
        limit=limit,
        offset=offset,
    )
    return rows, int(total["n"]) if total else 0


def failed_logins_count(conn: Connection, connector_id: UUID, since: datetime) -> int:
    row = query_one(
        conn,
        f"WITH {_FAILURES} SELECT count(*) AS n FROM failures",
        c=connector_id,
        since=since,
        noise=list(NOISE_ERROR_CODES),
    )
    return int(row["n"]) if row else 0


def stale_user_count(conn: Connection, connector_id: UUID) -> int:
    row = query_one(
        conn, "SELECT count(*) AS n FROM enterprise.snowflake_stale_users WHERE connector_id = :c", c=connector_id
    )
    return int(row["n"]) if row else 0


def last_security_run(conn: Connection, connector_id: UUID) -> dict[str, Any] | None:
    return query_one(
        conn,
        """SELECT id, status, finished_at, rows FROM enterprise.job_runs
           WHERE job = 'security' AND connector_id = :c AND status IN ('succeeded', 'failed')
           ORDER BY created_at DESC LIMIT 1""",
        c=connector_id,
    )
