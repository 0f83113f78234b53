"""The post-login timeline's reads: a login, the sessions it opened, their queries, the objects those read
and wrote, and the other logins from the same IP. Every statement filters on ``connector_id`` and is
bounded (by the login's sessions, a time window, or a row limit)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, query, query_one

LOGIN_COLUMNS = """event_id, event_timestamp, event_type, user_name, client_ip, reported_client_type,
    reported_client_version, first_authentication_factor, second_authentication_factor, is_success, error_code,
    error_message"""


def login(conn: Connection, connector_id: UUID, event_id: int) -> dict[str, Any] | None:
    return query_one(
        conn,
        f"SELECT {LOGIN_COLUMNS} FROM enterprise.snowflake_login_history WHERE connector_id = :c AND event_id = :e",
        c=connector_id,
        e=event_id,
    )


def sessions(conn: Connection, connector_id: UUID, event_id: int, limit: int) -> list[dict[str, Any]]:
    return query(
        conn,
        """SELECT session_id, created_on, user_name, authentication_method, client_application_id,
                  client_application_version, client_environment
           FROM enterprise.snowflake_sessions WHERE connector_id = :c AND login_event_id = :e
           ORDER BY created_on, session_id LIMIT :limit""",
        c=connector_id,
        e=event_id,
        limit=limit,
    )


def queries(conn: Connection, connector_id: UUID, session_ids: Sequence[int], limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` queries of these sessions, oldest first."""
    if not session_ids:
        return []
    return query(
        conn,
        """SELECT query_id, session_id, start_time, query_type, query_text, warehouse_name, execution_status,
                  rows_produced, bytes_scanned
           FROM enterprise.snowflake_session_queries
           WHERE connector_id = :c AND session_id = ANY (CAST(:s AS bigint[]))
           ORDER BY start_time, query_id LIMIT :limit""",
        c=connector_id,
        s=list(session_ids),
        limit=limit,
    )


def objects(conn: Connection, connector_id: UUID, query_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The objects these queries read (DIRECT_OBJECTS_ACCESSED) and wrote (OBJECTS_MODIFIED)."""
    if not query_ids:
        return []
    return query(
        conn,
        """SELECT h.query_id, h.query_start_time AS at, o.access, o.obj->>'objectName' AS object_name,
                  o.obj->>'objectDomain' AS object_domain
           FROM enterprise.snowflake_access_history h
           CROSS JOIN LATERAL (
               SELECT 'read' AS access, d AS obj
               FROM jsonb_array_elements(CASE jsonb_typeof(h.direct_objects_accessed)
                                         WHEN 'array' THEN h.direct_objects_accessed ELSE '[]' END) d
               UNION ALL
               SELECT 'write', m
               FROM jsonb_array_elements(CASE jsonb_typeof(h.objects_modified)
                                         WHEN 'array' THEN h.objects_modified ELSE '[]' END) m
           ) o
           WHERE h.connector_id = :c AND h.query_id = ANY (CAST(:q AS text[]))
           ORDER BY h.query_start_time, h.query_id, o.access""",
        c=connector_id,
        q=list(query_ids),
    )


def logins_from_ip(
    conn: Connection, connector_id: UUID, ip: str, start: datetime, end: datetime, exclude: int, limit: int
) -> list[dict[str, Any]]:
    return query(
        conn,
        f"""SELECT {LOGIN_COLUMNS} FROM enterprise.snowflake_login_history
            WHERE connector_id = :c AND client_ip = :ip AND event_timestamp BETWEEN :start AND :end
              AND event_id <> :exclude
            ORDER BY event_timestamp, event_id LIMIT :limit""",
        c=connector_id,
        ip=ip,
        start=start,
        end=end,
        exclude=exclude,
        limit=limit,
    )


def logins_about(
    conn: Connection, connector_id: UUID, subjects: Sequence[str], start: datetime, end: datetime, limit: int
) -> list[int]:
    """Successful logins of these users or from these IPs in a window, newest first: the timelines an alert
    links to."""
    rows = query(
        conn,
        """SELECT event_id FROM enterprise.snowflake_login_history
           WHERE connector_id = :c AND is_success AND event_timestamp BETWEEN :start AND :end
             AND (user_name = ANY (CAST(:s AS text[])) OR client_ip = ANY (CAST(:s AS text[])))
           ORDER BY event_timestamp DESC, event_id DESC LIMIT :limit""",
        c=connector_id,
        s=list(subjects),
        start=start,
        end=end,
        limit=limit,
    )
    return [int(r["event_id"]) for r in rows]
