"""The security routes (see snowwatch.routes): reads, the manual extraction and the alert lifecycle."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from routers._context import caller, conn, connector, settings
from snowwatch.models.common import Accepted, Instant, Page
from snowwatch.models.security import (
    AcknowledgeRequest,
    AdminAccess,
    AlertDetail,
    AlertOut,
    AlertStatus,
    AuthenticationPosture,
    FailedLogins,
    IncidentDetail,
    IncidentOut,
    LoginEventOut,
    LoginTimeline,
    NoMfaUserOut,
    PostureVerdict,
    ResolveRequest,
    SecuritySummary,
    SecurityTrend,
    Severity,
    SnoozeRequest,
    StaleUserOut,
)
from snowwatch.routes import path_of
from snowwatch.services import security_incidents, security_posture, security_timeline
from snowwatch.services import security_reads as security

router = Router()

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


def _connector_id(_path_id: str) -> UUID:
    """The path's connector, resolved and org-checked once by admission."""
    return connector(router).id


@router.get(
    path_of("security_summary"),
    summary="Open alerts by severity, MFA adoption, admins, stale users, failed logins (24 h), security score",
)
def summary(connector_id: str) -> SecuritySummary:
    return security.summary(conn(router), _connector_id(connector_id))


@router.get(path_of("security_alerts"), summary="Security alerts, open first, most severe first")
def alerts(
    connector_id: str,
    status: Annotated[AlertStatus | None, Query()] = None,
    severity: Annotated[Severity | None, Query()] = None,
    rule: Annotated[str | None, Query(pattern=r"^[a-z0-9_]{1,64}$", description="A rule id")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AlertOut]:
    return security.list_alerts(
        conn(router),
        _connector_id(connector_id),
        status=status,
        severity=severity,
        rule=rule,
        limit=limit,
        offset=offset,
    )


@router.get(path_of("security_stale_users"), summary="Users without a successful login for 90 days")
def stale_users(connector_id: str, limit: Limit = 50, offset: Offset = 0) -> Page[StaleUserOut]:
    return security.stale_users(conn(router), _connector_id(connector_id), limit, offset)


@router.get(path_of("security_failed_logins"), summary="Failed logins by user and by IP over a window")
def failed_logins(connector_id: str, window_hours: Annotated[int, Query(ge=1, le=2160)] = 24) -> FailedLogins:
    return security.failed_logins(conn(router), _connector_id(connector_id), window_hours)


@router.get(path_of("security_login_history"), summary="Login events, newest first")
def login_history(
    connector_id: str,
    user: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    ip: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    success: Annotated[bool | None, Query()] = None,
    start: Annotated[Instant | None, Query(description="Inclusive, ISO 8601")] = None,
    end: Annotated[Instant | None, Query(description="Exclusive, ISO 8601")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[LoginEventOut]:
    return security.login_history(
        conn(router),
        _connector_id(connector_id),
        user=user,
        ip=ip,
        success=success,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )


@router.get(path_of("security_no_mfa"), summary="Enabled human password users without MFA (admins first)")
def no_mfa(connector_id: str, limit: Limit = 50, offset: Offset = 0) -> Page[NoMfaUserOut]:
    return security.no_mfa(conn(router), _connector_id(connector_id), limit, offset)


@router.get(
    path_of("security_admin_access"), summary="Effective ACCOUNTADMIN/SECURITYADMIN holders with the grant path"
)
def admin_access(connector_id: str) -> AdminAccess:
    return security.admin_access(conn(router), _connector_id(connector_id))


@router.post(path_of("security_extract"), summary="Run the security extraction now (admin); 202 with the run id")
def extract(connector_id: str) -> tuple[Accepted, int]:
    cid = _connector_id(connector_id)
    return security.start_extract(conn(router), caller(router), settings(router), cid), 202


@router.get(path_of("security_alert"), summary="One alert with its history (resolutions, reopens, acknowledgements)")
def alert(connector_id: str, alert_id: str) -> AlertDetail:
    return security.get_alert(conn(router), _connector_id(connector_id), alert_id)


@router.put(path_of("security_resolve"), summary="Resolve an alert (admin); a note is required")
def resolve(connector_id: str, alert_id: str, body: Annotated[ResolveRequest, Body()]) -> AlertDetail:
    return security.resolve_alert(conn(router), caller(router), _connector_id(connector_id), alert_id, body.note)


@router.put(path_of("security_acknowledge"), summary="Acknowledge an open alert (admin)")
def acknowledge(connector_id: str, alert_id: str, body: Annotated[AcknowledgeRequest, Body()]) -> AlertDetail:
    return security.acknowledge_alert(conn(router), caller(router), _connector_id(connector_id), alert_id, body)


@router.put(path_of("security_snooze"), summary="Snooze an unresolved alert until a day (admin)")
def snooze(connector_id: str, alert_id: str, body: Annotated[SnoozeRequest, Body()]) -> AlertDetail:
    return security.snooze_alert(conn(router), caller(router), _connector_id(connector_id), alert_id, body)


@router.get(path_of("security_incidents"), summary="Incidents: alerts sharing a user or IP within 24 h, open first")
def incidents(
    connector_id: str,
    status: Annotated[AlertStatus | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[IncidentOut]:
    return security_incidents.list_incidents(
        conn(router), _connector_id(connector_id), status=status, limit=limit, offset=offset
    )


@router.get(path_of("security_incident"), summary="One incident with its alerts and history")
def incident(connector_id: str, incident_id: str) -> IncidentDetail:
    return security_incidents.get_incident(conn(router), _connector_id(connector_id), incident_id)


@router.put(path_of("security_incident_acknowledge"), summary="Acknowledge an open incident (admin)")
def acknowledge_incident(
    connector_id: str, incident_id: str, body: Annotated[AcknowledgeRequest, Body()]
) -> IncidentDetail:
    cid = _connector_id(connector_id)
    return security_incidents.acknowledge_incident(conn(router), caller(router), cid, incident_id, body)


@router.put(path_of("security_incident_resolve"), summary="Resolve an incident and its alerts (admin); note required")
def resolve_incident(connector_id: str, incident_id: str, body: Annotated[ResolveRequest, Body()]) -> IncidentDetail:
    cid = _connector_id(connector_id)
    return security_incidents.resolve_incident(conn(router), caller(router), cid, incident_id, body.note)


@router.get(
    path_of("security_login_timeline"),
    summary="What a login led to: its sessions, their queries (stage/unload/GET/PUT flagged), objects read and "
    "written, other logins from the same IP within 24 h",
)
def login_timeline(connector_id: str, event_id: str) -> LoginTimeline:
    return security_timeline.timeline(conn(router), _connector_id(connector_id), int(event_id))


@router.get(
    path_of("security_authentication_posture"),
    summary="Per user: type, password/MFA/key/PAT/workload identity, sign-in methods over 90 days, and a verdict "
    "under the password deprecation with the fix SQL",
)
def authentication_posture(
    connector_id: str,
    verdict: Annotated[PostureVerdict | None, Query()] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AuthenticationPosture:
    cid = _connector_id(connector_id)
    return security_posture.posture(conn(router), cid, verdict_filter=verdict, limit=limit, offset=offset)


@router.get(path_of("security_trend"), summary="Daily snapshots of the security score and open counts")
def trend(connector_id: str, days: Annotated[int, Query(ge=1, le=366)] = 90) -> SecurityTrend:
    return security.trend(conn(router), _connector_id(connector_id), days)
