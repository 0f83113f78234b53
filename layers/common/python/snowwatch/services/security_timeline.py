"""The post-login timeline: what a login led to, from Postgres only (the extraction stored it)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from uuid import UUID

from snowwatch.db import Connection
from snowwatch.errors import NotFoundError
from snowwatch.models.security import (
    LoginTimeline,
    TimelineLogin,
    TimelineObject,
    TimelineQuery,
    TimelineSession,
)
from snowwatch.repositories import security_timeline as repo

MAX_SESSIONS = 50
MAX_QUERIES = 500
MAX_SAME_IP = 100
SAME_IP_WINDOW = timedelta(hours=24)
ALERT_WINDOW = timedelta(hours=24)
MAX_ALERT_TIMELINES = 5

FLAG_TYPES = {
    "UNLOAD": "unload to a stage (COPY INTO @)",
    "GET_FILES": "download from a stage (GET)",
    "PUT_FILES": "upload to a stage (PUT)",
    "CREATE_STAGE": "stage created",
}
FLAG_TEXTS = (
    (re.compile(r"^\s*COPY\s+INTO\s+@", re.IGNORECASE), "unload to a stage (COPY INTO @)"),
    (re.compile(r"^\s*GET\s+@", re.IGNORECASE), "download from a stage (GET)"),
    (re.compile(r"^\s*PUT\s+file:", re.IGNORECASE), "upload to a stage (PUT)"),
    (re.compile(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?(TEMP(ORARY)?\s+)?STAGE", re.IGNORECASE), "stage created"),
)


def flag(query_type: str | None, text: str | None) -> str | None:
    """Why a step of the timeline matters: a stage, an unload, a GET or a PUT (by type, else by text)."""
    if query_type in FLAG_TYPES:
        return FLAG_TYPES[query_type]
    for pattern, reason in FLAG_TEXTS:
        if text and pattern.match(text):
            return reason
    return None


def _query(row: Mapping[str, Any]) -> TimelineQuery:
    return TimelineQuery(
        **{k: v for k, v in row.items() if k != "query_text"},
        text_excerpt=row["query_text"],
        flag=flag(row["query_type"], row["query_text"]),
    )


def timeline(conn: Connection, connector_id: UUID, event_id: int) -> LoginTimeline:
    login = repo.login(conn, connector_id, event_id)
    if login is None:
        raise NotFoundError("login not found")
    sessions = repo.sessions(conn, connector_id, event_id, MAX_SESSIONS)
    rows = repo.queries(conn, connector_id, [s["session_id"] for s in sessions], MAX_QUERIES + 1)
    queries = [_query(r) for r in rows[:MAX_QUERIES]]
    objects = repo.objects(conn, connector_id, [q.query_id for q in queries])
    same_ip = (
        repo.logins_from_ip(
            conn,
            connector_id,
            login["client_ip"],
            login["event_timestamp"] - SAME_IP_WINDOW,
            login["event_timestamp"] + SAME_IP_WINDOW,
            event_id,
            MAX_SAME_IP,
        )
        if login["client_ip"]
        else []
    )
    return LoginTimeline(
        login=TimelineLogin.model_validate(login),
        sessions=[TimelineSession.model_validate(s) for s in sessions],
        queries=queries,
        queries_truncated=len(rows) > MAX_QUERIES,
        objects=[TimelineObject.model_validate(o) for o in objects],
        flagged_steps=sum(1 for q in queries if q.flag),
        same_ip_logins=[TimelineLogin.model_validate(r) for r in same_ip],
    )


def alert_timelines(conn: Connection, connector_id: UUID, alert: Mapping[str, Any]) -> list[int]:
    """The logins an alert links to: successful logins of its subject (a user or an IP) from a day before it
    was first seen until it was last seen."""
    return repo.logins_about(
        conn,
        connector_id,
        [alert["subject"]],
        alert["first_seen_at"] - ALERT_WINDOW,
        alert["last_seen_at"] + timedelta(hours=1),
        MAX_ALERT_TIMELINES,
    )
