"""The ACCESS_HISTORY rules' fetches (Enterprise edition; empty tables otherwise): volume against the
user's own baseline, first access to policy-protected objects, many tables after a new-IP login. Every
statement filters on ``connector_id`` and is bounded by time."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict
from uuid import UUID

from snowwatch.db import Connection, query
from snowwatch.repositories.security_identity import typed

# One element of a JSON array column, for any jsonb value (non-arrays give none).
ELEMENTS = "jsonb_array_elements(CASE jsonb_typeof({0}) WHEN 'array' THEN {0} ELSE '[]'::jsonb END)"
TABLE_DOMAINS = ("Table", "View", "Materialized view", "External table", "Dynamic table")


class VolumeRow(TypedDict):
    subject: str
    objects_24h: int | None
    objects_daily_avg: float | None
    object_days: int
    bytes_24h: int | None
    bytes_daily_avg: float | None
    byte_days: int
    last_at: datetime


class PolicyAccessRow(TypedDict):
    subject: str
    object_name: str
    first_access: datetime
    query_id: str
    policies: list[str]


class NewIpReadRow(TypedDict):
    subject: str
    event_id: int
    client_ip: str
    login_at: datetime
    tables: int
    last_read: datetime
    objects: list[str]


def volume(conn: Connection, connector_id: UUID, since: datetime, baseline_start: datetime) -> list[VolumeRow]:
    """Per user active since ``since``: distinct objects read (ACCESS_HISTORY) and bytes scanned (session
    queries) since then, with their daily averages over the baseline [``baseline_start``, ``since``)."""
    return typed(
        VolumeRow,
        query(
            conn,
            f"""WITH reads AS (
                    SELECT h.user_name, h.query_start_time AS at, o->>'objectName' AS obj
                    FROM enterprise.snowflake_access_history h
                    CROSS JOIN LATERAL {ELEMENTS.format("h.direct_objects_accessed")} o
                    WHERE h.connector_id = :c AND h.query_start_time >= :base AND h.user_name IS NOT NULL
                ), obj_days AS (
                    SELECT user_name, count(DISTINCT obj) AS n FROM reads WHERE at < :since
                    GROUP BY user_name, date_trunc('day', at)
                ), obj_recent AS (
                    SELECT user_name, count(DISTINCT obj) AS n, max(at) AS last_at FROM reads WHERE at >= :since
                    GROUP BY user_name
                ), qs AS (
                    SELECT user_name, start_time, COALESCE(bytes_scanned, 0) AS bytes
                    FROM enterprise.snowflake_session_queries
                    WHERE connector_id = :c AND start_time >= :base AND user_name IS NOT NULL
                ), byte_days AS (
                    SELECT user_name, sum(bytes) AS n FROM qs WHERE start_time < :since
                    GROUP BY user_name, date_trunc('day', start_time)
                ), byte_recent AS (
                    SELECT user_name, sum(bytes) AS n, max(start_time) AS last_at FROM qs WHERE start_time >= :since
                    GROUP BY user_name
                ), od AS (
                    SELECT user_name, avg(n)::float AS avg_n, count(*) AS days FROM obj_days GROUP BY user_name
                ), bd AS (
                    SELECT user_name, avg(n)::float AS avg_n, count(*) AS days FROM byte_days GROUP BY user_name
                ), users AS (SELECT user_name FROM obj_recent UNION SELECT user_name FROM byte_recent)
                SELECT u.user_name AS subject, orc.n AS objects_24h, od.avg_n AS objects_daily_avg,
                       COALESCE(od.days, 0) AS object_days, brc.n::bigint AS bytes_24h, bd.avg_n AS bytes_daily_avg,
                       COALESCE(bd.days, 0) AS byte_days,
                       GREATEST(orc.last_at, brc.last_at) AS last_at
                FROM users u
                LEFT JOIN obj_recent orc ON orc.user_name = u.user_name
                LEFT JOIN byte_recent brc ON brc.user_name = u.user_name
                LEFT JOIN od ON od.user_name = u.user_name
                LEFT JOIN bd ON bd.user_name = u.user_name
                WHERE od.days IS NOT NULL OR bd.days IS NOT NULL
                ORDER BY u.user_name""",
            c=connector_id,
            since=since,
            base=baseline_start,
        ),
    )


def first_policy_access(conn: Connection, connector_id: UUID, since: datetime, history: int) -> list[PolicyAccessRow]:
    """Each user's first access since ``since`` to an object under a masking or row-access policy
    (POLICIES_REFERENCED), when that user had not read the object in the ``history`` days before."""
    return typed(
        PolicyAccessRow,
        query(
            conn,
            f"""WITH acc AS (
                    SELECT h.user_name, h.query_id, h.query_start_time AS at, p->>'objectName' AS obj,
                           jsonb_path_query_array(p, '$.**.policyName') AS policies
                    FROM enterprise.snowflake_access_history h
                    CROSS JOIN LATERAL {ELEMENTS.format("h.policies_referenced")} p
                    WHERE h.connector_id = :c AND h.query_start_time >= :since AND h.user_name IS NOT NULL
                      AND jsonb_path_exists(
                          p, '$.**.policyKind ? (@ == "MASKING_POLICY" || @ == "ROW_ACCESS_POLICY")')
                ), firsts AS (
                    SELECT DISTINCT ON (user_name, obj) * FROM acc ORDER BY user_name, obj, at
                )
                SELECT f.user_name AS subject, f.obj AS object_name, f.at AS first_access, f.query_id,
                       ARRAY(SELECT DISTINCT jsonb_array_elements_text(f.policies)) AS policies
                FROM firsts f
                WHERE NOT EXISTS (
                    SELECT 1 FROM enterprise.snowflake_access_history h2
                    CROSS JOIN LATERAL {ELEMENTS.format("h2.direct_objects_accessed")} o
                    WHERE h2.connector_id = :c AND h2.user_name = f.user_name AND h2.query_start_time < f.at
                      AND h2.query_start_time >= f.at - make_interval(days => CAST(:d AS int))
                      AND o->>'objectName' = f.obj)
                ORDER BY f.user_name, f.at""",
            c=connector_id,
            since=since,
            d=history,
        ),
    )


def reads_after_new_ip_login(
    conn: Connection, connector_id: UUID, since: datetime, *, minutes: int, min_tables: int
) -> list[NewIpReadRow]:
    """Successful logins since ``since`` from an IP the user never signed in from before (within the kept
    history), followed within ``minutes`` by reads of at least ``min_tables`` distinct tables or views."""
    params: dict[str, Any] = {"c": connector_id, "since": since, "m": minutes, "t": min_tables}
    return typed(
        NewIpReadRow,
        query(
            conn,
            f"""WITH logins AS (
                    SELECT l.event_id, l.user_name, l.client_ip, l.event_timestamp AS at
                    FROM enterprise.snowflake_login_history l
                    WHERE l.connector_id = :c AND l.is_success AND l.event_timestamp >= :since
                      AND l.user_name IS NOT NULL AND l.client_ip IS NOT NULL
                      AND NOT EXISTS (
                          SELECT 1 FROM enterprise.snowflake_login_history p
                          WHERE p.connector_id = :c AND p.user_name = l.user_name AND p.client_ip = l.client_ip
                            AND p.is_success AND p.event_timestamp < l.event_timestamp)
                )
                SELECT g.user_name AS subject, g.event_id, g.client_ip, g.at AS login_at,
                       count(DISTINCT o->>'objectName') AS tables, max(h.query_start_time) AS last_read,
                       array_agg(DISTINCT o->>'objectName') AS objects
                FROM logins g
                JOIN enterprise.snowflake_access_history h
                  ON h.connector_id = :c AND h.user_name = g.user_name
                 AND h.query_start_time BETWEEN g.at AND g.at + make_interval(mins => CAST(:m AS int))
                CROSS JOIN LATERAL {ELEMENTS.format("h.direct_objects_accessed")} o
                WHERE o->>'objectDomain' = ANY (CAST(:domains AS text[]))
                GROUP BY g.user_name, g.event_id, g.client_ip, g.at
                HAVING count(DISTINCT o->>'objectName') >= :t
                ORDER BY g.user_name, g.at""",
            **params,
            domains=list(TABLE_DOMAINS),
        ),
    )
