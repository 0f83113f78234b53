"""The rules' fetches over the event tables (login history, sessions, security queries, access
history): one statement per rule input, each bounded by ``since`` and returning typed rows.
Every statement filters on ``connector_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict
from uuid import UUID

from snowwatch.db import Connection, query
from snowwatch.repositories.security_identity import ACTIVE_USER, typed

NOISE_ERROR_CODES = (390156, 394304)


class BurstRow(TypedDict):
    subject: str
    max_in_window: int
    failures: int
    first_failure: datetime
    last_failure: datetime
    users: list[str]
    ips: list[str | None]


class SprayRow(TypedDict):
    subject: str
    max_users_in_window: int
    first_failure: datetime
    last_failure: datetime
    users: list[str]
    failures: int


class FailuresThenSuccessRow(TypedDict):
    subject: str
    success_at: datetime
    success_ip: str | None
    first_authentication_factor: str | None
    failures_before: int
    failure_ips: list[str | None]
    occurrences: int


class KeypairLoginRow(TypedDict):
    subject: str
    logins: int
    last_login: datetime
    ips: list[str | None]
    service: bool


class LegacyPasswordLoginRow(TypedDict):
    subject: str
    logins: int
    last_login: datetime
    ips: list[str | None]


class ChangeRow(TypedDict):
    query_id: str
    query_type: str
    query_text: str | None
    user_name: str | None
    role_name: str | None
    start_time: datetime


class ToolingRow(TypedDict):
    session_id: int
    created_on: datetime
    user_name: str | None
    authentication_method: str | None
    client_application_id: str | None
    application: str | None
    os: str | None


class ExfilRow(TypedDict):
    subject: str | None
    stage_query_id: str
    stage_text: str | None
    stage_at: datetime
    unload_query_id: str
    unload_text: str | None
    unload_at: datetime
    get_query_id: str
    get_text: str | None
    get_at: datetime


class MaliciousLoginRow(TypedDict):
    event_id: int
    event_timestamp: datetime
    user_name: str | None
    client_ip: str | None
    is_success: bool
    first_authentication_factor: str | None
    info: dict[str, Any] | None


FAILURES = """
failures AS (
    SELECT event_id, event_timestamp, user_name, client_ip, error_code
    FROM enterprise.snowflake_login_history
    WHERE connector_id = :c AND NOT is_success AND event_timestamp >= :since
      AND COALESCE(error_code, 0) <> ALL (CAST(:noise AS int[]))
)"""


def failed_login_bursts(
    conn: Connection, connector_id: UUID, since: datetime, *, by: str, threshold: int, window_minutes: int
) -> list[BurstRow]:
    """Users (``by='user_name'``) or IPs (``by='client_ip'``) with >= ``threshold`` failures inside any
    sliding window of ``window_minutes``; noise codes excluded; NULL subjects ignored."""
    if by not in ("user_name", "client_ip"):
        raise ValueError("by must be user_name or client_ip")
    return typed(
        BurstRow,
        query(
            conn,
            f"""WITH {FAILURES}, windowed AS (
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
        ),
    )


def password_spraying(
    conn: Connection, connector_id: UUID, since: datetime, *, min_users: int, window_minutes: int
) -> list[SprayRow]:
    """IPs whose failed logins touched >= ``min_users`` distinct identified users inside one window."""
    return typed(
        SprayRow,
        query(
            conn,
            f"""WITH {FAILURES}, per_event AS (
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
        ),
    )


def failures_then_success(
    conn: Connection, connector_id: UUID, since: datetime, *, min_failures: int, window_minutes: int
) -> list[FailuresThenSuccessRow]:
    """Successful logins preceded by >= ``min_failures`` failures of the same user within the window."""
    return typed(
        FailuresThenSuccessRow,
        query(
            conn,
            f"""WITH {FAILURES}, hits AS (
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
        ),
    )


def keypair_users_password_logins(conn: Connection, connector_id: UUID, since: datetime) -> list[KeypairLoginRow]:
    """Successful password sign-ins (FIRST_AUTHENTICATION_FACTOR = 'PASSWORD') of users with an RSA key."""
    return typed(
        KeypairLoginRow,
        query(
            conn,
            f"""SELECT l.user_name AS subject, count(*) AS logins, max(l.event_timestamp) AS last_login,
                   array_agg(DISTINCT l.client_ip) AS ips, bool_or(u.type IN ('SERVICE', 'LEGACY_SERVICE')) AS service
            FROM enterprise.snowflake_login_history l
            JOIN enterprise.snowflake_users u ON u.connector_id = l.connector_id AND u.name = l.user_name
            WHERE l.connector_id = :c AND l.is_success AND l.event_timestamp >= :since
              AND l.first_authentication_factor = 'PASSWORD' AND u.has_rsa_public_key AND {ACTIVE_USER}
            GROUP BY l.user_name ORDER BY l.user_name""",
            c=connector_id,
            since=since,
        ),
    )


def security_changes(conn: Connection, connector_id: UUID, since: datetime, *, kind: str) -> list[ChangeRow]:
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
    return typed(
        ChangeRow,
        query(
            conn,
            f"""SELECT query_id, query_type, query_text, user_name, role_name, start_time
            FROM enterprise.snowflake_security_queries
            WHERE connector_id = :c AND start_time >= :since AND execution_status = 'SUCCESS' AND {where}
            ORDER BY start_time""",
            c=connector_id,
            since=since,
        ),
    )


def attack_tooling_sessions(conn: Connection, connector_id: UUID, since: datetime) -> list[ToolingRow]:
    """Sessions whose CLIENT_ENVIRONMENT matches the published UNC5537 indicators."""
    return typed(
        ToolingRow,
        query(
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
        ),
    )


def exfiltration_chains(conn: Connection, connector_id: UUID, since: datetime, *, hours: int) -> list[ExfilRow]:
    """CREATE TEMPORARY STAGE, then COPY INTO @stage (UNLOAD), then GET (GET_FILES), by one user, the whole
    chain within ``hours`` of the stage's creation; one row per chain (its earliest unload and get)."""
    return typed(
        ExfilRow,
        query(
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
        ),
    )


def malicious_ip_logins(conn: Connection, connector_id: UUID, since: datetime) -> list[MaliciousLoginRow]:
    """Logins whose LOGIN_DETAILS carry malicious-IP categories and that either succeeded or were classified
    MEDIUM/HIGH risk. LOGIN_DETAILS is stored with its nested JSON string already parsed."""
    return typed(
        MaliciousLoginRow,
        query(
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
        ),
    )


def legacy_service_password_logins(
    conn: Connection, connector_id: UUID, since: datetime
) -> list[LegacyPasswordLoginRow]:
    """Successful password sign-ins (FIRST_AUTHENTICATION_FACTOR = 'PASSWORD') of LEGACY_SERVICE users."""
    return typed(
        LegacyPasswordLoginRow,
        query(
            conn,
            f"""SELECT l.user_name AS subject, count(*) AS logins, max(l.event_timestamp) AS last_login,
                       array_agg(DISTINCT l.client_ip) AS ips
                FROM enterprise.snowflake_login_history l
                JOIN enterprise.snowflake_users u ON u.connector_id = l.connector_id AND u.name = l.user_name
                WHERE l.connector_id = :c AND l.is_success AND l.event_timestamp >= :since
                  AND l.first_authentication_factor = 'PASSWORD' AND u.type = 'LEGACY_SERVICE' AND {ACTIVE_USER}
                GROUP BY l.user_name ORDER BY l.user_name""",
            c=connector_id,
            since=since,
        ),
    )
