"""The security API's use cases: summary and score, alerts and their resolution, and the reads over
the extracted tables."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, transaction
from snowwatch.errors import ConflictError, NotFoundError, ValidationFailedError
from snowwatch.models.common import Accepted, Caller, Page
from snowwatch.models.jobs import RunRequest
from snowwatch.models.security import (
    AcknowledgeRequest,
    AdminAccess,
    AdminAccessOut,
    AdminGrantPath,
    AlertDetail,
    AlertEventOut,
    AlertOut,
    ExtractionInfo,
    FailedLogins,
    FailedLoginsByIp,
    FailedLoginsByUser,
    LoginEventOut,
    NoMfaUserOut,
    SecuritySummary,
    SecurityTrend,
    SeverityCounts,
    SnapshotOut,
    SnoozeRequest,
    StaleUserOut,
)
from snowwatch.observability import logger
from snowwatch.repositories import security_alerts as alerts_repo
from snowwatch.repositories import security_identity as identity
from snowwatch.repositories import security_reads as reads_repo
from snowwatch.services import jobs, security_timeline
from snowwatch.services.security_rules.admins import ADMINS_MAX_EXCLUSIVE, ADMINS_MIN
from snowwatch.settings import ApiSettings

MAX_SNOOZE = timedelta(days=90)
SCORE_WEIGHTS = {"critical": 20, "high": 8, "medium": 3, "low": 1, "info": 0}
SCORE_FORMULA = (
    "max(0, 100 - (20 x open critical + 8 x open high + 3 x open medium + 1 x open low)); info alerts weigh 0"
)


def security_score(open_counts: Mapping[str, int]) -> int:
    """100 minus the weighted open alerts, floored at 0 (see SCORE_FORMULA)."""
    penalty = sum(SCORE_WEIGHTS.get(sev, 0) * int(n) for sev, n in open_counts.items())
    return max(0, 100 - penalty)


def _alert_out(row: Mapping[str, Any]) -> AlertOut:
    data = dict(row)
    if isinstance(data.get("evidence"), str):
        data["evidence"] = json.loads(data["evidence"])
    return AlertOut.model_validate(data)


def record_snapshot(conn: Connection, connector_id: UUID, now: datetime) -> int:
    """Write today's (UTC) snapshot of the score and the open counts; the day's last run wins."""
    counts = alerts_repo.open_alert_counts(conn, connector_id)
    score = security_score(counts)
    reads_repo.upsert_snapshot(
        conn, connector_id, now.date(), score, counts, reads_repo.open_incident_count(conn, connector_id)
    )
    return score


def trend(conn: Connection, connector_id: UUID, days: int, today: date | None = None) -> SecurityTrend:
    since = (today or datetime.now(UTC).date()) - timedelta(days=days - 1)
    points = [SnapshotOut.model_validate(r) for r in reads_repo.snapshots(conn, connector_id, since)]
    return SecurityTrend(days=days, since=since, points=points)


def summary(conn: Connection, connector_id: UUID, now: datetime | None = None) -> SecuritySummary:
    now = now or datetime.now(UTC)
    counts = alerts_repo.open_alert_counts(conn, connector_id)
    mfa = reads_repo.mfa_adoption(conn, connector_id)
    password_users, with_mfa = int(mfa["password_users"]), int(mfa["with_mfa"])
    percent = (
        (Decimal(with_mfa) * 100 / Decimal(password_users)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        if password_users
        else None
    )
    admins = {r["user_name"] for r in identity.effective_admins(conn, connector_id)}
    last = reads_repo.last_security_run(conn, connector_id)
    extraction = None
    if last is not None:
        rows = last["rows"] if isinstance(last["rows"], dict) else json.loads(last["rows"] or "{}")
        skipped = sorted(
            f"{k.removeprefix('security.')}: {v.removeprefix('skipped: ')}"
            for k, v in rows.items()
            if isinstance(v, str) and v.startswith("skipped")
        )
        extraction = ExtractionInfo(
            run_id=last["id"],
            status=last["status"],
            finished_at=last["finished_at"],
            skipped=skipped,
            failed_rules=rows.get("rule_errors") or {},
        )
    return SecuritySummary(
        open_alerts=SeverityCounts(**counts),
        open_alerts_total=sum(counts.values()),
        mfa_adoption_percent=percent,
        password_users=password_users,
        password_users_with_mfa=with_mfa,
        admins=len(admins),
        stale_users=reads_repo.stale_user_count(conn, connector_id),
        failed_logins_24h=reads_repo.failed_logins_count(conn, connector_id, now - timedelta(hours=24)),
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
    rows, total = alerts_repo.list_alerts(
        conn, connector_id, status=status, severity=severity, rule=rule, limit=limit, offset=offset
    )
    return Page[AlertOut](items=[_alert_out(r) for r in rows], total=total, limit=limit, offset=offset)


def _alert_id(alert_id: str) -> UUID:
    try:
        return UUID(alert_id)
    except ValueError as exc:
        raise NotFoundError("alert not found") from exc


def get_alert(conn: Connection, connector_id: UUID, alert_id: str) -> AlertDetail:
    """One alert with its history (every transition, oldest first)."""
    aid = _alert_id(alert_id)
    row = alerts_repo.get_alert(conn, connector_id, aid)
    if row is None:
        raise NotFoundError("alert not found")
    history = [AlertEventOut.model_validate(e) for e in alerts_repo.alert_history(conn, aid)]
    timelines = security_timeline.alert_timelines(conn, connector_id, row)
    return AlertDetail(**_alert_out(row).model_dump(), history=history, timeline_event_ids=timelines)


def _changed(conn: Connection, connector_id: UUID, aid: UUID, done: bool, refused: str) -> AlertDetail:
    if not done:
        if alerts_repo.get_alert(conn, connector_id, aid) is None:
            raise NotFoundError("alert not found")
        raise ConflictError(refused)
    return get_alert(conn, connector_id, str(aid))


def resolve_alert(conn: Connection, caller: Caller, connector_id: UUID, alert_id: str, note: str) -> AlertDetail:
    """Resolve an open or acknowledged alert of this connector (the route already checked the connector
    belongs to the caller's org); an unknown, malformed or other connector's alert id is 404, a resolved one 409."""
    aid = _alert_id(alert_id)
    if not note or not note.strip():
        raise ValidationFailedError("a resolution note is required")
    with transaction(conn):
        done = alerts_repo.resolve_alert(conn, connector_id, aid, caller.user_id, note.strip())
    logger.info("security alert resolved", extra={"alert_id": str(aid), "done": done})
    return _changed(conn, connector_id, aid, done, "the alert is already resolved")


def acknowledge_alert(
    conn: Connection, caller: Caller, connector_id: UUID, alert_id: str, body: AcknowledgeRequest
) -> AlertDetail:
    """Acknowledge an open alert (409 when it is not open)."""
    aid = _alert_id(alert_id)
    with transaction(conn):
        done = alerts_repo.acknowledge_alert(conn, connector_id, aid, caller.user_id, body.note)
    return _changed(conn, connector_id, aid, done, "only an open alert can be acknowledged")


def snooze_alert(
    conn: Connection, caller: Caller, connector_id: UUID, alert_id: str, body: SnoozeRequest, today: date | None = None
) -> AlertDetail:
    """Snooze an unresolved alert until a day in the next 90 days (409 when it is resolved)."""
    aid = _alert_id(alert_id)
    today = today or datetime.now(UTC).date()
    if not today < body.until <= today + MAX_SNOOZE:
        raise ValidationFailedError(f"until must be after today and at most {MAX_SNOOZE.days} days ahead")
    until = datetime.combine(body.until, time.min, tzinfo=UTC)
    with transaction(conn):
        done = alerts_repo.snooze_alert(conn, connector_id, aid, caller.user_id, until, body.note)
    return _changed(conn, connector_id, aid, done, "a resolved alert cannot be snoozed")


def stale_users(conn: Connection, connector_id: UUID, limit: int, offset: int) -> Page[StaleUserOut]:
    rows, total = reads_repo.stale_user_rows(conn, connector_id, limit, offset)
    return Page[StaleUserOut](
        items=[StaleUserOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


def failed_logins(conn: Connection, connector_id: UUID, window_hours: int, now: datetime | None = None) -> FailedLogins:
    since = (now or datetime.now(UTC)) - timedelta(hours=window_hours)
    data = reads_repo.failed_logins(conn, connector_id, since)
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
    rows, total = reads_repo.login_history(
        conn, connector_id, user=user, ip=ip, success=success, start=start, end=end, limit=limit, offset=offset
    )
    return Page[LoginEventOut](
        items=[LoginEventOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


def no_mfa(conn: Connection, connector_id: UUID, limit: int, offset: int) -> Page[NoMfaUserOut]:
    rows = identity.password_users_without_mfa(conn, connector_id)
    return Page[NoMfaUserOut](
        items=[NoMfaUserOut.model_validate(r) for r in rows[offset : offset + limit]],
        total=len(rows),
        limit=limit,
        offset=offset,
    )


def admin_access(conn: Connection, connector_id: UUID) -> AdminAccess:
    grouped: dict[str, AdminAccessOut] = {}
    for r in identity.effective_admins(conn, connector_id):
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
        within_recommended_range=ADMINS_MIN <= len(admins) < ADMINS_MAX_EXCLUSIVE,
    )


def start_extract(conn: Connection, caller: Caller, settings: ApiSettings, connector_id: UUID) -> Accepted:
    """Queue a security run for the connector (202 with the run id; 409 while one runs)."""
    return jobs.start(conn, caller, settings, "security", RunRequest(connector_id=connector_id))
