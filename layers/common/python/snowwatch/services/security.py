"""Security monitoring: extraction from ACCOUNT_USAGE, rule evaluation, the alert lifecycle, and the
use cases of the security API.

The job (`run_security`, hourly per connector and on `POST .../extract`):

1. Extract through the read-only client (every statement passes the guard). Event views
   (LOGIN_HISTORY, SESSIONS, ACCESS_HISTORY, the security rows of QUERY_HISTORY) are incremental:
   from the watermark (``enterprise.sync_state``, view names prefixed ``security.``) minus a lookback
   covering the view's latency, upserted idempotently; rows older than 90 days are pruned. Snapshot
   views (USERS, GRANTS_TO_USERS, GRANTS_TO_ROLES, NETWORK_POLICIES + POLICY_REFERENCES) are replaced
   atomically (one transaction per table). ACCESS_HISTORY exists on Enterprise edition only: when it
   is missing the run records it as skipped.
2. Evaluate every rule of ``security_rules`` over Postgres.
3. In ONE transaction: replace ``snowflake_stale_users``, upsert the alerts (fingerprint = rule +
   subject; lifecycle in :func:`transition`), and enqueue an outbox notification to the org's admins
   for each critical/high alert that is new or reopened.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal
from uuid import UUID

from snowwatch.db import Connection, transaction
from snowwatch.errors import NotFoundError, ValidationFailedError
from snowwatch.models.common import Accepted, Caller, Page
from snowwatch.models.jobs import RunRequest
from snowwatch.models.security import (
    AdminAccess,
    AdminAccessOut,
    AdminGrantPath,
    AlertOut,
    ExtractionInfo,
    FailedLogins,
    FailedLoginsByIp,
    FailedLoginsByUser,
    Finding,
    LoginEventOut,
    NoMfaUserOut,
    SecuritySummary,
    SeverityCounts,
    StaleUserOut,
)
from snowwatch.observability import logger, metrics
from snowwatch.repositories import security as repo
from snowwatch.repositories import sync_state
from snowwatch.services import security_rules as rules
from snowwatch.settings import ApiSettings, JobSettings
from snowwatch.snowflake.queries import (
    security_access_history,
    security_grants,
    security_login_history,
    security_network_policies,
    security_query_history,
    security_sessions,
    security_users,
)

RETENTION = timedelta(days=90)
FIRST_RUN_BACKFILL = timedelta(days=90)
NOTIFY_SEVERITIES = ("critical", "high")
SCORE_WEIGHTS = {"critical": 20, "high": 8, "medium": 3, "low": 1, "info": 0}
SCORE_FORMULA = (
    "max(0, 100 - (20 x open critical + 8 x open high + 3 x open medium + 1 x open low)); info alerts weigh 0"
)
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


def user_row(r: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
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
        r.get("DEFAULT_ROLE"),
        as_ts(r.get("BYPASS_MFA_UNTIL")),
        as_ts(r.get("LAST_SUCCESS_LOGIN")),
        as_ts(r.get("EXPIRES_AT")),
        as_ts(r.get("LOCKED_UNTIL_TIME")),
        as_ts(r.get("PASSWORD_LAST_SET_TIME")),
        r.get("OWNER"),
    )


def login_row(r: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
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


def user_grant_row(r: Mapping[str, Any]) -> tuple[Any, ...]:
    return (r["GRANTEE_NAME"], r["ROLE"], r.get("GRANTED_BY"), as_ts(r["CREATED_ON"]), as_ts(r.get("DELETED_ON")))


def role_grant_row(r: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
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


def policy_rows(policies: list[Mapping[str, Any]], references: list[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
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
    out: dict[str, tuple[Any, ...]] = {}
    for p in policies:
        name = p["NAME"]
        deleted = as_ts(p.get("DELETED"))
        previous = out.get(name)
        if previous is not None and previous[5] is None and deleted is not None:
            continue  # a live policy wins over a dropped one of the same name
        refs = attached.get(f"id:{p.get('ID')}") or attached.get(f"name:{name.upper()}") or []
        out[name] = (
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


def session_row(r: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        int(r["SESSION_ID"]),
        as_ts(r["CREATED_ON"]),
        r.get("USER_NAME"),
        r.get("AUTHENTICATION_METHOD"),
        as_int(r.get("LOGIN_EVENT_ID")),
        r.get("CLIENT_APPLICATION_ID"),
        r.get("CLIENT_APPLICATION_VERSION"),
        as_json(r.get("CLIENT_ENVIRONMENT")),
    )


def access_row(r: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        r["QUERY_ID"],
        as_ts(r["QUERY_START_TIME"]),
        r.get("USER_NAME"),
        as_json(r.get("DIRECT_OBJECTS_ACCESSED")),
        as_json(r.get("BASE_OBJECTS_ACCESSED")),
        as_json(r.get("OBJECTS_MODIFIED")),
    )


def query_row(r: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        r["QUERY_ID"],
        r["QUERY_TYPE"],
        r.get("QUERY_TEXT"),
        r.get("USER_NAME"),
        r.get("ROLE_NAME"),
        r.get("EXECUTION_STATUS"),
        as_ts(r["START_TIME"]),
    )


# ---------------------------------------------------------------- extraction
@dataclass(frozen=True)
class EventView:
    name: str
    query: Any  # the queries module: VIEW, SELECT, LOOKBACK, TIME_COLUMN
    target: repo.Target
    mapper: Any
    time_index: int  # position of the event time in the mapped row
    optional: bool = False


EVENT_VIEWS = (
    EventView("LOGIN_HISTORY", security_login_history, repo.LOGIN_HISTORY, login_row, 1),
    EventView("SESSIONS", security_sessions, repo.SESSIONS, session_row, 1),
    EventView("QUERY_HISTORY", security_query_history, repo.SECURITY_QUERIES, query_row, 6),
    EventView("ACCESS_HISTORY", security_access_history, repo.ACCESS_HISTORY, access_row, 1, optional=True),
)
SKIPPED_ENTERPRISE = "skipped: view not available (Enterprise edition only)"


def _since(view: EventView, marks: Mapping[str, datetime], now: datetime) -> datetime:
    mark = marks.get(view.name)
    if mark is None:
        return now - FIRST_RUN_BACKFILL
    return max(mark - view.query.LOOKBACK, now - RETENTION)


def _statement_ok(sf: Any, sql: str) -> bool:
    """Whether a read works (a missing column or view is a ProgrammingError, not a failure of the run)."""
    from snowflake.connector import errors as sf_errors

    try:
        sf.fetch(sql)
    except sf_errors.ProgrammingError:
        return False
    return True


def _extract_events(
    conn: Connection, sf: Any, view: EventView, connector_id: UUID, run_id: UUID, since: datetime
) -> int:
    sql = view.query.SELECT
    if view.name == "LOGIN_HISTORY" and not _statement_ok(sf, security_login_history.HAS_LOGIN_DETAILS):
        sql = security_login_history.SELECT_WITHOUT_DETAILS
    total = 0
    newest: datetime | None = None
    for batch in sf.fetch_batches(sql, {"since": since.strftime("%Y-%m-%d %H:%M:%S.%f")}):
        rows = [view.mapper(r) for r in batch]
        rows = [r for r in rows if r[view.time_index] is not None]
        if not rows:
            continue
        total += repo.load(conn, view.target, connector_id, rows)
        batch_newest = max(r[view.time_index] for r in rows)
        newest = batch_newest if newest is None else max(newest, batch_newest)
    if newest is not None:
        sync_state.set_watermark(conn, connector_id, view.name, newest, run_id, prefix=repo.VIEW_PREFIX)
    return total


def extract(conn: Connection, sf: Any, connector_id: UUID, run_id: UUID, now: datetime) -> dict[str, Any]:
    """Read every security view into Postgres; return per-view row counts (or why a view was skipped)."""
    counts: dict[str, Any] = {}
    # snapshots: each replaced in one transaction
    users = [user_row(r) for r in sf.fetch(security_users.SELECT)]
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
    for view in EVENT_VIEWS:
        key = f"security.{view.name}"
        if view.optional and not sf.exists(view.query.VIEW):
            logger.info("view not available on this account; skipped", extra={"view": view.name})
            counts[key] = SKIPPED_ENTERPRISE
            continue
        counts[key] = _extract_events(conn, sf, view, connector_id, run_id, _since(view, marks, now))
    pruned = repo.prune(conn, connector_id, now - RETENTION)
    counts["pruned"] = sum(pruned.values())
    return counts


# ---------------------------------------------------------------- alert lifecycle
def fingerprint(rule_id: str, subject: str) -> str:
    """Alert identity: the rule and the subject (sha256, so any subject fits the column and index)."""
    return hashlib.sha256(f"{rule_id}\x1f{subject}".encode()).hexdigest()


Transition = Literal["insert", "recur", "reopen", "keep_resolved"]


def transition(existing: Mapping[str, Any] | None, observed_at: datetime) -> Transition:
    """What a finding does to its alert.

    - no alert with this fingerprint: ``insert`` (open, occurrences 1);
    - an open alert: ``recur`` (last_seen_at moves forward; occurrences +1 when observed_at is newer);
    - a resolved alert and the finding observed AFTER resolved_at: ``reopen`` (open again,
      reopened_count +1, the last resolution kept for the record);
    - a resolved alert and the finding observed at or before resolved_at (old evidence still inside
      the lookback): ``keep_resolved``, nothing changes.
    """
    if existing is None:
        return "insert"
    if existing["status"] == "open":
        return "recur"
    resolved_at = existing.get("resolved_at")
    if resolved_at is not None and observed_at > resolved_at:
        return "reopen"
    return "keep_resolved"


def security_score(open_counts: Mapping[str, int]) -> int:
    """100 minus the weighted open alerts, floored at 0 (see SCORE_FORMULA)."""
    penalty = sum(SCORE_WEIGHTS.get(sev, 0) * int(n) for sev, n in open_counts.items())
    return max(0, 100 - penalty)


def notification_payload(alert_id: UUID, finding: Finding, connector: Any, action: str) -> dict[str, Any]:
    return {
        "kind": "security_alert",
        "alert_id": str(alert_id),
        "connector_id": str(connector.id),
        "connector_name": connector.name,
        "rule_id": finding.rule_id,
        "severity": finding.severity,
        "subject": finding.subject,
        "title": finding.title,
        "description": finding.description,
        "remediation_sql": finding.remediation_sql,
        "observed_at": finding.observed_at.isoformat(),
        "event": "reopened" if action == "reopen" else "opened",
        "dashboard_path": f"/connectors/{connector.id}/security?alert={alert_id}",
    }


def _enqueue(
    conn: Connection, *, org_id: UUID, connector_id: UUID, alert_id: UUID, payload: dict[str, Any], dedupe_key: str
) -> list[UUID]:
    """One email to the org's admins through the outbox, inside the caller's transaction; the ids written."""
    from snowwatch.models.notifications import OutboxDelivery
    from snowwatch.services import notifications

    return notifications.enqueue_in_tx(
        conn,
        org_id=org_id,
        connector_id=connector_id,
        source_type="security_alert",
        source_id=alert_id,
        deliveries=[OutboxDelivery(channel="email", recipients=[])],  # empty: the org's admins
        payload=payload,
        dedupe_key=dedupe_key,
    )


def apply_findings(
    conn: Connection, connector: Any, findings: list[Finding], now: datetime, outbox_ids: list[UUID] | None = None
) -> dict[str, int]:
    """Upsert alerts for ``findings`` and enqueue notifications, in the caller's transaction (the outbox
    row ids written are appended to ``outbox_ids``: publish them after the commit)."""
    by_fp: dict[str, Finding] = {}
    for f in findings:
        fp = fingerprint(f.rule_id, f.subject)
        kept = by_fp.get(fp)
        if kept is None or f.observed_at > kept.observed_at:
            by_fp[fp] = f
    existing = repo.alerts_by_fingerprint(conn, connector.id, list(by_fp))
    counts = {
        "alerts_new": 0,
        "alerts_recurring": 0,
        "alerts_reopened": 0,
        "alerts_kept_resolved": 0,
        "notifications": 0,
    }
    for fp, f in by_fp.items():
        current = existing.get(fp)
        action = transition(current, f.observed_at)
        data = f.model_dump()
        if action == "insert":
            alert_id = repo.insert_alert(conn, connector.id, fp, data)
            counts["alerts_new"] += 1
        elif action == "keep_resolved":
            counts["alerts_kept_resolved"] += 1
            continue
        else:
            assert current is not None
            alert_id = current["id"]
            repo.update_alert(
                conn, alert_id, data, new_evidence=f.observed_at > current["last_seen_at"], reopen=action == "reopen"
            )
            counts["alerts_reopened" if action == "reopen" else "alerts_recurring"] += 1
            if action == "recur":
                continue
        if f.severity not in NOTIFY_SEVERITIES:
            continue
        occurrence = int(current["reopened_count"]) + 1 if current is not None else 0
        ids = _enqueue(
            conn,
            org_id=connector.org_id,
            connector_id=connector.id,
            alert_id=alert_id,
            payload=notification_payload(alert_id, f, connector, action),
            dedupe_key=f"security_alert:{alert_id}:{occurrence}",
        )
        counts["notifications"] += len(ids)
        if outbox_ids is not None:
            outbox_ids.extend(ids)
    return counts


def evaluate_and_record(
    conn: Connection, connector: Any, now: datetime, settings: JobSettings | None = None
) -> dict[str, Any]:
    """Evaluate every rule; in one transaction replace the stale users, upsert the alerts and write their
    outbox rows; after the commit, publish those rows to the notify queue (the relay retries failures)."""
    findings, per_rule = rules.evaluate(conn, connector.id, now)
    stale = rules.stale_user_rows(conn, connector.id, now)
    stale_rows = [
        (
            s["user_name"],
            s["created_on"],
            s["last_success_login"],
            s["days_inactive"],
            s["has_password"],
            s["default_role"],
            now,
        )
        for s in stale
    ]
    outbox_ids: list[UUID] = []
    with transaction(conn):
        repo.replace(conn, repo.STALE_USERS, connector.id, stale_rows)
        counts: dict[str, Any] = apply_findings(conn, connector, findings, now, outbox_ids)
    if outbox_ids and settings is not None:
        from snowwatch.services import notifications

        counts["published"] = notifications.publish_pending(conn, settings, outbox_ids)
    return {
        "findings": len(findings),
        "stale_users": len(stale_rows),
        **counts,
        "rules": {k: v for k, v in per_rule.items() if v},
    }


def open_session(settings: JobSettings, connector: Any) -> Any:
    """The guarded Snowflake session for a connector (a seam: tests may wrap it)."""
    from snowwatch.services.secrets import read_connector_secret
    from snowwatch.snowflake.client import SnowflakeSession

    return SnowflakeSession.open(settings, connector, read_connector_secret(settings, connector))


def run_security(conn: Connection, ctx: Any) -> dict[str, Any]:
    """The unit of work of the security job for one connector."""
    connector = ctx.connector
    if connector is None:
        raise ValidationFailedError("security runs per connector")
    now = datetime.now(UTC)
    counts: dict[str, Any] = {}
    with open_session(ctx.settings, connector) as sf:
        try:
            counts.update(extract(conn, sf, connector.id, ctx.run_id, now))
        finally:
            counts["statements"] = sf.statements
            ctx.rows.update(counts)
    counts.update(evaluate_and_record(conn, connector, now, ctx.settings))
    ctx.rows.update(counts)
    metrics.add_metric(name="security_findings", unit="Count", value=counts["findings"])
    return counts


# ---------------------------------------------------------------- API use cases
def _alert_out(row: Mapping[str, Any]) -> AlertOut:
    data = dict(row)
    if isinstance(data.get("evidence"), str):
        data["evidence"] = json.loads(data["evidence"])
    return AlertOut.model_validate(data)


def summary(conn: Connection, connector_id: UUID, now: datetime | None = None) -> SecuritySummary:
    now = now or datetime.now(UTC)
    counts = repo.open_alert_counts(conn, connector_id)
    mfa = repo.mfa_adoption(conn, connector_id)
    password_users, with_mfa = int(mfa["password_users"]), int(mfa["with_mfa"])
    percent = (
        (Decimal(with_mfa) * 100 / Decimal(password_users)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        if password_users
        else None
    )
    admins = {r["user_name"] for r in repo.effective_admins(conn, connector_id)}
    last = repo.last_security_run(conn, connector_id)
    extraction = None
    if last is not None:
        rows = last["rows"] if isinstance(last["rows"], dict) else json.loads(last["rows"] or "{}")
        skipped = sorted(
            f"{k.removeprefix('security.')}: {v.removeprefix('skipped: ')}"
            for k, v in rows.items()
            if isinstance(v, str) and v.startswith("skipped")
        )
        extraction = ExtractionInfo(
            run_id=last["id"], status=last["status"], finished_at=last["finished_at"], skipped=skipped
        )
    return SecuritySummary(
        open_alerts=SeverityCounts(**counts),
        open_alerts_total=sum(counts.values()),
        mfa_adoption_percent=percent,
        password_users=password_users,
        password_users_with_mfa=with_mfa,
        admins=len(admins),
        stale_users=repo.stale_user_count(conn, connector_id),
        failed_logins_24h=repo.failed_logins_count(conn, connector_id, now - timedelta(hours=24)),
        security_score=security_score(counts),
        score_formula=SCORE_FORMULA,
        last_extraction=extraction,
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
) -> Page[AlertOut]:
    rows, total = repo.list_alerts(
        conn, connector_id, status=status, severity=severity, rule=rule, limit=limit, offset=offset
    )
    return Page[AlertOut](items=[_alert_out(r) for r in rows], total=total, limit=limit, offset=offset)


def resolve_alert(conn: Connection, caller: Caller, connector_id: UUID, alert_id: str, note: str) -> AlertOut:
    """Resolve an alert of this connector (the route already checked the connector belongs to the caller's
    org); an unknown, malformed or other connector's alert id is 404."""
    try:
        aid = UUID(alert_id)
    except ValueError as exc:
        raise NotFoundError("alert not found") from exc
    if not note or not note.strip():
        raise ValidationFailedError("a resolution note is required")
    if not repo.resolve_alert(conn, connector_id, aid, caller.user_id, note.strip()):
        raise NotFoundError("alert not found")
    row = repo.get_alert(conn, connector_id, aid)
    if row is None:
        raise NotFoundError("alert not found")
    logger.info("security alert resolved", extra={"alert_id": str(aid), "rule_id": row["rule_id"]})
    return _alert_out(row)


def stale_users(conn: Connection, connector_id: UUID, limit: int, offset: int) -> Page[StaleUserOut]:
    rows, total = repo.stale_user_rows(conn, connector_id, limit, offset)
    return Page[StaleUserOut](
        items=[StaleUserOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


def failed_logins(conn: Connection, connector_id: UUID, window_hours: int, now: datetime | None = None) -> FailedLogins:
    since = (now or datetime.now(UTC)) - timedelta(hours=window_hours)
    data = repo.failed_logins(conn, connector_id, since)
    return FailedLogins(
        window_hours=window_hours,
        since=since,
        total=data["total"],
        by_user=[FailedLoginsByUser.model_validate(r) for r in data["by_user"]],
        by_ip=[FailedLoginsByIp.model_validate(r) for r in data["by_ip"]],
    )


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
) -> Page[LoginEventOut]:
    if start is not None and end is not None and start > end:
        raise ValidationFailedError("start must be before end")
    rows, total = repo.login_history(
        conn, connector_id, user=user, ip=ip, success=success, start=start, end=end, limit=limit, offset=offset
    )
    return Page[LoginEventOut](
        items=[LoginEventOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


def no_mfa(conn: Connection, connector_id: UUID, limit: int, offset: int) -> Page[NoMfaUserOut]:
    rows = repo.password_users_without_mfa(conn, connector_id)
    return Page[NoMfaUserOut](
        items=[NoMfaUserOut.model_validate(r) for r in rows[offset : offset + limit]],
        total=len(rows),
        limit=limit,
        offset=offset,
    )


def admin_access(conn: Connection, connector_id: UUID) -> AdminAccess:
    grouped: dict[str, AdminAccessOut] = {}
    for r in repo.effective_admins(conn, connector_id):
        out = grouped.get(r["user_name"])
        if out is None:
            out = grouped[r["user_name"]] = AdminAccessOut(
                user_name=r["user_name"],
                type=r["type"],
                default_role=r["default_role"],
                has_password=r["has_password"],
                has_mfa=bool(r["has_mfa"] or r["ext_authn_duo"]),
                last_success_login=r["last_success_login"],
                grants=[],
            )
        out.grants.append(AdminGrantPath(admin_role=r["admin_role"], path=list(r["path"])))
    admins = list(grouped.values())
    return AdminAccess(
        admins=admins,
        total=len(admins),
        within_recommended_range=rules.ADMINS_MIN <= len(admins) < rules.ADMINS_MAX_EXCLUSIVE,
    )


def start_extract(conn: Connection, caller: Caller, settings: ApiSettings, connector_id: UUID) -> Accepted:
    """Queue a security run for the connector (202 with the run id; 409 while one runs)."""
    from snowwatch.services import jobs

    return jobs.start(conn, caller, settings, "security", RunRequest(connector_id=connector_id))
