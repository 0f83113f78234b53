"""Security monitoring: the job, and its extraction from ACCOUNT_USAGE. Detection is in
``security_rules`` (one module per rule family), the alert lifecycle in ``security_alerts``, the API's
use cases in ``security_reads``.

The job (`run_security`, hourly per connector and on `POST .../extract`):

1. Extract through the read-only client (every statement passes the guard). Event views
   (LOGIN_HISTORY, SESSIONS, ACCESS_HISTORY, the security rows of QUERY_HISTORY) are incremental:
   from the watermark (``enterprise.sync_state``, view names prefixed ``security.``: loaded and settled,
   i.e. less a lookback covering the view's latency), a day per statement through the one windowed
   extraction of ``services.extraction``, upserted idempotently; rows older than 90 days are pruned. Snapshot
   views (USERS, GRANTS_TO_USERS, GRANTS_TO_ROLES, NETWORK_POLICIES + POLICY_REFERENCES) are replaced
   atomically (one transaction per table). ACCESS_HISTORY exists on Enterprise edition only: when it
   is missing the run records it as skipped.
2. Evaluate every rule of ``security_rules`` over Postgres.
3. In ONE transaction (``security_alerts``): replace ``snowflake_stale_users``, upsert the alerts
   (fingerprint = rule + subject; lifecycle in ``security_alerts.transition``), and enqueue an outbox
   notification to the org's admins for each critical/high alert that is new or reopened.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

from snowflake.connector import errors as sf_errors

from snowwatch.db import Connection, transaction
from snowwatch.errors import ValidationFailedError
from snowwatch.models.connectors import Connector
from snowwatch.observability import metrics
from snowwatch.repositories import jobs as jobs_repo
from snowwatch.repositories import security as repo
from snowwatch.repositories import sync_state
from snowwatch.services import extraction, security_alerts, security_reads
from snowwatch.services.extraction import Budget, Progress, View
from snowwatch.services.jobs import JobContext
from snowwatch.services.secrets import read_connector_secret
from snowwatch.settings import JobSettings
from snowwatch.snowflake.client import SnowflakeSession
from snowwatch.snowflake.queries import (
    security_access_history,
    security_grants,
    security_login_history,
    security_network_policies,
    security_query_history,
    security_session_queries,
    security_sessions,
    security_users,
)

RETENTION = timedelta(days=90)
FIRST_RUN_BACKFILL = timedelta(days=90)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------- value normalisation (pure)
def as_ts(value: Any) -> datetime | None:
    """A timezone-aware UTC timestamp or None. fakesnow returns NULL timestamps as the epoch: None too."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return None if value == EPOCH else value


def as_flag(value: Any) -> bool:
    """A Snowflake boolean that may arrive as bool, number, or VARIANT text ('true', '"true"', 'YES')."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return value != 0
    text = str(value).strip().strip('"').strip().lower()
    return text in ("true", "yes", "y", "1", "t")


def as_json(value: Any) -> Any:
    """A JSON value from VARIANT/VARCHAR JSON text; unparsable text is kept as ``{"raw": text}``."""
    if value is None or isinstance(value, dict | list):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"raw": text[:2000]}


def login_details(value: Any) -> Any:
    """LOGIN_DETAILS with its nested ``malicious_ip_protection_info`` JSON string parsed too."""
    details = as_json(value)
    if isinstance(details, dict) and isinstance(details.get("malicious_ip_protection_info"), str):
        details = {**details, "malicious_ip_protection_info": as_json(details["malicious_ip_protection_info"])}
    return details


def as_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def user_row(r: Mapping[str, Any]) -> repo.UserRow:
    return repo.UserRow(
        int(r["USER_ID"]),
        r["NAME"],
        r.get("LOGIN_NAME"),
        r.get("EMAIL"),
        (r.get("TYPE") or None),
        as_ts(r.get("CREATED_ON")),
        as_ts(r.get("DELETED_ON")),
        as_flag(r.get("DISABLED")),
        as_flag(r.get("HAS_PASSWORD")),
        as_flag(r.get("HAS_MFA")),
        as_flag(r.get("EXT_AUTHN_DUO")),
        as_flag(r.get("HAS_RSA_PUBLIC_KEY")),
        as_flag(r.get("HAS_PAT")),
        as_flag(r.get("HAS_WORKLOAD_IDENTITY")),
        r.get("DEFAULT_ROLE"),
        as_ts(r.get("BYPASS_MFA_UNTIL")),
        as_ts(r.get("LAST_SUCCESS_LOGIN")),
        as_ts(r.get("EXPIRES_AT")),
        as_ts(r.get("LOCKED_UNTIL_TIME")),
        as_ts(r.get("PASSWORD_LAST_SET_TIME")),
        r.get("OWNER"),
    )


def login_row(r: Mapping[str, Any]) -> repo.LoginRow:
    return repo.LoginRow(
        int(r["EVENT_ID"]),
        as_ts(r["EVENT_TIMESTAMP"]),
        r.get("EVENT_TYPE"),
        r.get("USER_NAME") or None,
        r.get("CLIENT_IP"),
        r.get("REPORTED_CLIENT_TYPE"),
        r.get("REPORTED_CLIENT_VERSION"),
        r.get("FIRST_AUTHENTICATION_FACTOR"),
        r.get("SECOND_AUTHENTICATION_FACTOR"),
        as_flag(r.get("IS_SUCCESS")),
        as_int(r.get("ERROR_CODE")),
        r.get("ERROR_MESSAGE"),
        as_int(r.get("RELATED_EVENT_ID")),
        r.get("CONNECTION"),
        login_details(r.get("LOGIN_DETAILS")),
    )


def user_grant_row(r: Mapping[str, Any]) -> repo.UserGrantRow:
    return repo.UserGrantRow(
        r["GRANTEE_NAME"], r["ROLE"], r.get("GRANTED_BY"), as_ts(r["CREATED_ON"]), as_ts(r.get("DELETED_ON"))
    )


def role_grant_row(r: Mapping[str, Any]) -> repo.RoleGrantRow:
    return repo.RoleGrantRow(
        r["PRIVILEGE"],
        r["GRANTED_ON"],
        r["NAME"],
        r.get("TABLE_CATALOG"),
        r.get("TABLE_SCHEMA"),
        r["GRANTED_TO"],
        r["GRANTEE_NAME"],
        as_flag(r.get("GRANT_OPTION")),
        r.get("GRANTED_BY"),
        as_ts(r["CREATED_ON"]),
        as_ts(r.get("MODIFIED_ON")),
        as_ts(r.get("DELETED_ON")),
    )


def policy_rows(
    policies: Sequence[Mapping[str, Any]], references: Sequence[Mapping[str, Any]]
) -> list[repo.NetworkPolicyRow]:
    """NETWORK_POLICIES rows with ``attached_to`` from POLICY_REFERENCES (matched by id, else by name)."""
    attached: dict[str, list[dict[str, Any]]] = {}
    for ref in references:
        entry = {
            "domain": ref.get("REF_ENTITY_DOMAIN"),
            "entity": ref.get("REF_ENTITY_NAME"),
            "status": ref.get("POLICY_STATUS"),
        }
        attached.setdefault(f"id:{ref.get('POLICY_ID')}", []).append(entry)
        attached.setdefault(f"name:{str(ref.get('POLICY_NAME') or '').upper()}", []).append(entry)
    out: dict[str, repo.NetworkPolicyRow] = {}
    for p in policies:
        name = p["NAME"]
        deleted = as_ts(p.get("DELETED"))
        previous = out.get(name)
        if previous is not None and previous.deleted is None and deleted is not None:
            continue  # a live policy wins over a dropped one of the same name
        refs = attached.get(f"id:{p.get('ID')}") or attached.get(f"name:{name.upper()}") or []
        out[name] = repo.NetworkPolicyRow(
            name,
            as_int(p.get("ID")),
            p.get("OWNER"),
            as_ts(p.get("CREATED")),
            as_ts(p.get("LAST_ALTERED")),
            deleted,
            p.get("ALLOWED_IP_LIST"),
            p.get("BLOCKED_IP_LIST"),
            [] if deleted else refs,
        )
    return list(out.values())


def session_row(r: Mapping[str, Any]) -> repo.SessionRow:
    return repo.SessionRow(
        int(r["SESSION_ID"]),
        as_ts(r["CREATED_ON"]),
        r.get("USER_NAME"),
        r.get("AUTHENTICATION_METHOD"),
        as_int(r.get("LOGIN_EVENT_ID")),
        r.get("CLIENT_APPLICATION_ID"),
        r.get("CLIENT_APPLICATION_VERSION"),
        as_json(r.get("CLIENT_ENVIRONMENT")),
    )


def access_row(r: Mapping[str, Any]) -> repo.AccessRow:
    return repo.AccessRow(
        r["QUERY_ID"],
        as_ts(r["QUERY_START_TIME"]),
        r.get("USER_NAME"),
        as_json(r.get("DIRECT_OBJECTS_ACCESSED")),
        as_json(r.get("BASE_OBJECTS_ACCESSED")),
        as_json(r.get("OBJECTS_MODIFIED")),
        as_json(r.get("POLICIES_REFERENCED")),
    )


def query_row(r: Mapping[str, Any]) -> repo.SecurityQueryRow:
    return repo.SecurityQueryRow(
        r["QUERY_ID"],
        r["QUERY_TYPE"],
        r.get("QUERY_TEXT"),
        r.get("USER_NAME"),
        r.get("ROLE_NAME"),
        r.get("EXECUTION_STATUS"),
        as_ts(r["START_TIME"]),
    )


def session_query_row(r: Mapping[str, Any]) -> repo.SessionQueryRow:
    return repo.SessionQueryRow(
        r["QUERY_ID"],
        int(r["SESSION_ID"]),
        as_ts(r["START_TIME"]),
        r.get("USER_NAME"),
        r.get("QUERY_TYPE"),
        r.get("QUERY_TEXT"),
        r.get("WAREHOUSE_NAME"),
        r.get("EXECUTION_STATUS"),
        as_int(r.get("ROWS_PRODUCED")),
        as_int(r.get("BYTES_SCANNED")),
    )


# ---------------------------------------------------------------- extraction
def _event_view(name: str, query: Any, mapper: Callable[[Mapping[str, Any]], tuple[Any, ...]], **kw: Any) -> View[Any]:
    return View(name, query, mapper, window=timedelta(days=1), retention=RETENTION, **kw)


# Through the one windowed extraction (snowwatch.services.extraction): a day per statement at most.
EVENT_VIEWS: tuple[View[Any], ...] = (
    _event_view("LOGIN_HISTORY", security_login_history, login_row),
    _event_view("SESSIONS", security_sessions, session_row),
    _event_view("QUERY_HISTORY", security_query_history, query_row),
    _event_view("SESSION_QUERIES", security_session_queries, session_query_row),
    _event_view("ACCESS_HISTORY", security_access_history, access_row, optional=True),
)
EVENT_TARGETS = {
    "LOGIN_HISTORY": repo.LOGIN_HISTORY,
    "SESSIONS": repo.SESSIONS,
    "QUERY_HISTORY": repo.SECURITY_QUERIES,
    "SESSION_QUERIES": repo.SESSION_QUERIES,
    "ACCESS_HISTORY": repo.ACCESS_HISTORY,
}
SKIPPED_ENTERPRISE = "skipped: view not available (Enterprise edition only)"


def _statement_ok(sf: SnowflakeSession, sql: str) -> bool:
    """Whether a read works (a missing column or view is a ProgrammingError, not a failure of the run)."""
    try:
        sf.fetch(sql)
    except sf_errors.ProgrammingError:
        return False
    return True


def _event_load(
    target: repo.Target, connector_id: UUID, conn: Connection, batches: Iterable[Sequence[tuple[Any, ...]]]
) -> int:
    return sum(repo.load(conn, target, connector_id, rows) for rows in batches)


def extract(
    conn: Connection,
    sf: SnowflakeSession,
    connector_id: UUID,
    run_id: UUID,
    now: datetime,
    budget: Budget | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Read every security view into Postgres; return per-view row counts (or why a view was skipped).
    Event views go through the one windowed extraction (:mod:`snowwatch.services.extraction`)."""
    counts: dict[str, Any] = {}
    budget = budget or Budget()
    # snapshots: each replaced in one transaction
    users_sql = security_users.SELECT
    if not _statement_ok(sf, security_users.HAS_WORKLOAD_IDENTITY):
        users_sql = security_users.SELECT_WITHOUT_WORKLOAD_IDENTITY
    users = [user_row(r) for r in sf.fetch(users_sql)]
    with transaction(conn):
        counts["security.USERS"] = repo.replace(conn, repo.USERS, connector_id, users)
    to_users = [user_grant_row(r) for r in sf.fetch(security_grants.SELECT_TO_USERS)]
    to_roles = [role_grant_row(r) for r in sf.fetch(security_grants.SELECT_TO_ROLES)]
    with transaction(conn):
        counts["security.GRANTS_TO_USERS"] = repo.replace(conn, repo.USER_ROLE_GRANTS, connector_id, to_users)
        counts["security.GRANTS_TO_ROLES"] = repo.replace(conn, repo.ROLE_GRANTS, connector_id, to_roles)
    policies = sf.fetch(security_network_policies.SELECT_POLICIES)
    references = sf.fetch(security_network_policies.SELECT_REFERENCES)
    with transaction(conn):
        counts["security.NETWORK_POLICIES"] = repo.replace(
            conn, repo.NETWORK_POLICIES, connector_id, policy_rows(policies, references)
        )
    counts["security.POLICY_REFERENCES"] = len(references)
    # event views: incremental
    marks = sync_state.watermarks(conn, connector_id, prefix=repo.VIEW_PREFIX)
    starts = {v.name: extraction.since(v, marks, now, FIRST_RUN_BACKFILL) for v in EVENT_VIEWS}
    progress = progress or Progress()
    progress.windows_left += sum(extraction.estimate_windows(v, starts[v.name], now) for v in EVENT_VIEWS)
    for view in EVENT_VIEWS:
        key = f"security.{view.name}"
        sql = None
        if view.name == "LOGIN_HISTORY" and not _statement_ok(sf, security_login_history.HAS_LOGIN_DETAILS):
            sql = security_login_history.SELECT_WITHOUT_DETAILS
        out = extraction.extract(
            conn,
            sf,
            view,
            partial(_event_load, EVENT_TARGETS[view.name], connector_id),
            connector_id=connector_id,
            run_id=run_id,
            start=starts[view.name],
            now=now,
            budget=budget,
            progress=progress,
            prefix=repo.VIEW_PREFIX,
            sql=sql,
        )
        counts[key] = SKIPPED_ENTERPRISE if out.status == "unavailable" else out.summary()
        if out.status == "stopped":
            counts["stopped"] = key
    pruned = repo.prune(conn, connector_id, now - RETENTION)
    counts["pruned"] = sum(pruned.values())
    return counts


def open_session(settings: JobSettings, connector: Connector) -> AbstractContextManager[SnowflakeSession]:
    """The guarded Snowflake session for a connector (a seam: tests may wrap it)."""
    return SnowflakeSession.open(settings, connector, read_connector_secret(settings, connector))


def run_security(conn: Connection, ctx: JobContext[JobSettings]) -> dict[str, Any]:
    """The unit of work of the security job for one connector."""
    connector = ctx.connector
    if connector is None:
        raise ValidationFailedError("security runs per connector")
    # A continuation reads up to the same `now` as the run it continues (the event views from their watermarks).
    resume = ctx.resume or {}
    now = datetime.fromisoformat(resume["now"]) if "now" in resume else datetime.now(UTC)
    budget = Budget.from_remaining(ctx.remaining_seconds(), ctx.settings.job_stop_margin_seconds)
    progress = Progress(on_change=lambda p: jobs_repo.set_progress(conn, ctx.run_id, p.as_dict()))
    counts: dict[str, Any] = {}
    with open_session(ctx.settings, connector) as sf:
        try:
            counts.update(extract(conn, sf, connector.id, ctx.run_id, now, budget, progress))
        finally:
            counts["statements"] = sf.statements
            ctx.rows.update(counts)
    jobs_repo.set_progress(conn, ctx.run_id, progress.as_dict())
    if "stopped" in counts:  # out of time: the rules judge complete data only, in the run that finishes
        ctx.continue_later({"now": now.isoformat()})
        return counts
    counts.update(security_alerts.evaluate_and_record(conn, connector, now, ctx.settings))
    counts["security_score"] = security_reads.record_snapshot(conn, connector.id, now)
    ctx.rows.update(counts)
    metrics.add_metric(name="security_findings", unit="Count", value=counts["findings"])
    return counts
