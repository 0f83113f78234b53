"""The security API's reads over the extracted tables (stale users, failed logins, login history,
MFA adoption, the last run). Every statement filters on ``connector_id``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, query, query_one
from snowwatch.repositories.security_events import FAILURES, NOISE_ERROR_CODES
from snowwatch.repositories.security_identity import ACTIVE_USER, HUMAN_USER


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
    total = query_one(conn, f"WITH {FAILURES} SELECT count(*) AS n FROM failures", **params)

    def by(key: str, other: str, distinct: str) -> list[dict[str, Any]]:
        return query(
            conn,
            f"""WITH {FAILURES} SELECT {key}, count(*) AS failures, count(DISTINCT {other}) AS {distinct},
                       min(event_timestamp) AS first_failure, max(event_timestamp) AS last_failure
                FROM failures GROUP BY {key} ORDER BY failures DESC, {key} NULLS LAST LIMIT 100""",
            **params,
        )

    return {
        "total": int(total["n"]) if total else 0,
        "by_user": by("user_name", "client_ip", "distinct_ips"),
        "by_ip": by("client_ip", "user_name", "distinct_users"),
    }


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
    for name, value, clause in (
        ("user", user, "upper(user_name) = upper(:user)"),
        ("ip", ip, "client_ip = :ip"),
        ("success", success, "is_success = :success"),
        ("start", start, "event_timestamp >= :start"),
        ("end", end, "event_timestamp < :end"),
    ):
        if value is not None:
            where += f" AND {clause}"
            params[name] = value
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
        f"WITH {FAILURES} SELECT count(*) AS n FROM failures",
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


def mfa_adoption(conn: Connection, connector_id: UUID) -> dict[str, Any]:
    row = query_one(
        conn,
        f"""SELECT count(*) AS password_users,
                   count(*) FILTER (WHERE u.has_mfa OR u.ext_authn_duo) AS with_mfa
            FROM enterprise.snowflake_users u
            WHERE u.connector_id = :c AND {ACTIVE_USER} AND {HUMAN_USER} AND u.has_password""",
        c=connector_id,
    )
    return row or {"password_users": 0, "with_mfa": 0}


def authentication_posture(conn: Connection, connector_id: UUID, since: datetime) -> list[dict[str, Any]]:
    """Enabled users with their authentication flags and the sign-in methods seen since ``since`` (successful
    logins by first factor and second factor, with counts and the last time)."""
    return query(
        conn,
        f"""WITH m AS (
                SELECT user_name,
                       first_authentication_factor || COALESCE('+' || second_authentication_factor, '') AS method,
                       count(*) AS logins, max(event_timestamp) AS last_at
                FROM enterprise.snowflake_login_history
                WHERE connector_id = :c AND is_success AND event_timestamp >= :since AND user_name IS NOT NULL
                  AND first_authentication_factor IS NOT NULL
                GROUP BY 1, 2
            )
            SELECT u.name AS user_name, u.type, u.has_password, (u.has_mfa OR u.ext_authn_duo) AS has_mfa,
                   u.has_rsa_public_key, u.has_pat, u.has_workload_identity, u.last_success_login,
                   COALESCE(jsonb_agg(jsonb_build_object('method', m.method, 'logins', m.logins, 'last_at', m.last_at)
                                      ORDER BY m.logins DESC, m.method) FILTER (WHERE m.method IS NOT NULL),
                            '[]'::jsonb) AS sign_in_methods
            FROM enterprise.snowflake_users u
            LEFT JOIN m ON m.user_name = u.name
            WHERE u.connector_id = :c AND {ACTIVE_USER}
            GROUP BY u.name, u.type, u.has_password, u.has_mfa, u.ext_authn_duo, u.has_rsa_public_key, u.has_pat,
                     u.has_workload_identity, u.last_success_login
            ORDER BY u.name""",
        c=connector_id,
        since=since,
    )


def upsert_snapshot(
    conn: Connection, connector_id: UUID, day: date, score: int, counts: dict[str, int], open_incidents: int
) -> None:
    conn.run(
        """INSERT INTO enterprise.snowflake_security_snapshots
               (connector_id, day, score, critical, high, medium, low, info, open_incidents, taken_at)
           VALUES (:c, :day, :score, :critical, :high, :medium, :low, :info, :incidents, now())
           ON CONFLICT (connector_id, day) DO UPDATE SET score = EXCLUDED.score, critical = EXCLUDED.critical,
               high = EXCLUDED.high, medium = EXCLUDED.medium, low = EXCLUDED.low, info = EXCLUDED.info,
               open_incidents = EXCLUDED.open_incidents, taken_at = EXCLUDED.taken_at""",
        c=connector_id,
        day=day,
        score=score,
        incidents=open_incidents,
        **{sev: int(counts.get(sev, 0)) for sev in ("critical", "high", "medium", "low", "info")},
    )


def open_incident_count(conn: Connection, connector_id: UUID) -> int:
    row = query_one(
        conn,
        """SELECT count(*) AS n FROM enterprise.snowflake_security_incidents
           WHERE connector_id = :c AND status <> 'resolved'""",
        c=connector_id,
    )
    return int(row["n"]) if row else 0


def snapshots(conn: Connection, connector_id: UUID, since: date) -> list[dict[str, Any]]:
    return query(
        conn,
        """SELECT day, score, critical, high, medium, low, info, open_incidents, taken_at
           FROM enterprise.snowflake_security_snapshots WHERE connector_id = :c AND day >= :since ORDER BY day""",
        c=connector_id,
        since=since,
    )
