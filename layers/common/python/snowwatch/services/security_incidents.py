"""Incidents: grouping, notification and the API's use cases. Alerts of event rules that share a user or
an IP within ``WINDOW`` are one incident.

Called by the alert lifecycle for every grouped finding (``Finding.links`` not empty), inside its
transaction. An incident has one notification per opening (open, then each reopen): written when the
incident first reaches critical/high, refreshed in place while it is still pending as alerts join, and
never repeated for a join after it was sent. The grouped alerts do not notify on their own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, transaction
from snowwatch.errors import ConflictError, NotFoundError
from snowwatch.models.common import Caller, Page
from snowwatch.models.connectors import Connector
from snowwatch.models.notifications import OutboxDelivery
from snowwatch.models.security import (
    AcknowledgeRequest,
    AlertOut,
    Finding,
    IncidentDetail,
    IncidentEventOut,
    IncidentOut,
)
from snowwatch.repositories import security_alerts as alerts_repo
from snowwatch.repositories import security_incidents as repo
from snowwatch.services import notifications

WINDOW = timedelta(hours=24)
NOTIFY_SEVERITIES = ("critical", "high")
MAX_LISTED_ALERTS = 20


def title(alerts: Sequence[Mapping[str, Any]]) -> str:
    """The most severe alert's title, and how many joined it."""
    top = str(alerts[0]["title"]) if alerts else "Security incident"
    more = len(alerts) - 1
    return f"{top} (+{more} related alert{'s' if more > 1 else ''})" if more > 0 else top


def payload(incident: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]], connector: Connector) -> dict[str, Any]:
    listed = alerts[:MAX_LISTED_ALERTS]
    return {
        "kind": "security_incident",
        "incident_id": str(incident["id"]),
        "connector_id": str(connector.id),
        "connector_name": connector.name,
        "severity": incident["severity"],
        "subject": ", ".join(incident["keys"][:10]),
        "title": title(alerts),
        "description": "\n".join(f"- [{a['severity']}] {a['title']}" for a in listed)
        + (f"\n... and {len(alerts) - len(listed)} more" if len(alerts) > len(listed) else ""),
        "remediation_sql": alerts[0]["remediation_sql"] if alerts else None,
        "alert_ids": [str(a["id"]) for a in alerts],
        "event": "reopened" if incident["reopened_count"] else "opened",
        "dashboard_path": f"/connectors/{connector.id}/security?incident={incident['id']}",
    }


def attach(
    conn: Connection,
    connector: Connector,
    alert: Mapping[str, Any] | None,
    alert_id: UUID,
    finding: Finding,
    outbox_ids: list[UUID],
    *,
    notify: bool,
) -> int:
    """Put a new, reopened or recurring grouped alert in its incident (joining, reopening or opening one) and
    write or refresh the incident's notification; returns the outbox rows written."""
    incident = None
    if alert is not None and alert.get("incident_id"):
        incident = repo.get_for_update(conn, alert["incident_id"])
    if incident is None:
        incident = repo.related(conn, connector.id, finding.links, finding.observed_at - WINDOW)
    reopen = False
    if incident is not None and incident["status"] == "resolved":
        reopen = finding.observed_at > incident["resolved_at"]
        if not reopen:
            incident = None  # old evidence of a resolved incident: a new finding starts a new one
    joined = incident is None or alert is None or alert.get("incident_id") != incident["id"]
    if incident is None:
        incident_id = repo.insert(
            conn,
            connector.id,
            subject=f"{finding.subject}",
            keys=finding.links,
            severity=finding.severity,
            title=finding.title,
            seen=finding.observed_at,
        )
        repo.add_event(conn, incident_id, "opened", alert_id=alert_id)
    else:
        incident_id = incident["id"]
    if joined:
        repo.link_alert(conn, alert_id, incident_id)
        repo.add_event(conn, incident_id, "alert_joined", alert_id=alert_id, note=finding.title)
    if reopen:
        repo.add_event(
            conn,
            incident_id,
            "reopened",
            alert_id=alert_id,
            note=f"{finding.rule_id} observed at {finding.observed_at.isoformat()} after the resolution: "
            f"{finding.title}",
        )
    members = repo.alerts(conn, incident_id)
    severity = members[0]["severity"] if members else finding.severity
    repo.update(
        conn,
        incident_id,
        keys=finding.links,
        severity=severity,
        title=title(members),
        seen=finding.observed_at,
        reopen=reopen,
    )
    current = repo.get_for_update(conn, incident_id)
    assert current is not None
    if not notify or current["severity"] not in NOTIFY_SEVERITIES:
        return 0
    body = payload(current, members, connector)
    key = f"security_incident:{incident_id}:{current['reopened_count']}"
    if current["notified_round"] == current["reopened_count"]:
        repo.update_pending_notification(conn, key, json.dumps(body, default=str))
        return 0
    ids = notifications.enqueue_in_tx(
        conn,
        org_id=connector.org_id,
        connector_id=connector.id,
        source_type="security_incident",
        source_id=incident_id,
        deliveries=[OutboxDelivery(channel="email", recipients=[])],  # empty: the org's admins
        payload=body,
        dedupe_key=key,
    )
    repo.set_notified(conn, incident_id, current["reopened_count"])
    outbox_ids.extend(ids)
    return len(ids)


# ---------------------------------------------------------------- API use cases
def _incident_id(incident_id: str) -> UUID:
    try:
        return UUID(incident_id)
    except ValueError as exc:
        raise NotFoundError("incident not found") from exc


def list_incidents(
    conn: Connection, connector_id: UUID, *, status: str | None, limit: int, offset: int
) -> Page[IncidentOut]:
    rows, total = repo.list_incidents(conn, connector_id, status=status, limit=limit, offset=offset)
    return Page[IncidentOut](
        items=[IncidentOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


def get_incident(conn: Connection, connector_id: UUID, incident_id: str) -> IncidentDetail:
    iid = _incident_id(incident_id)
    row = repo.get(conn, connector_id, iid)
    if row is None:
        raise NotFoundError("incident not found")
    return IncidentDetail(
        **IncidentOut.model_validate(row).model_dump(),
        alerts=[AlertOut.model_validate(a) for a in repo.alerts(conn, iid)],
        history=[IncidentEventOut.model_validate(e) for e in repo.history(conn, iid)],
    )


def _changed(conn: Connection, connector_id: UUID, iid: UUID, done: bool, refused: str) -> IncidentDetail:
    if not done:
        if repo.get(conn, connector_id, iid) is None:
            raise NotFoundError("incident not found")
        raise ConflictError(refused)
    return get_incident(conn, connector_id, str(iid))


def acknowledge_incident(
    conn: Connection, caller: Caller, connector_id: UUID, incident_id: str, body: AcknowledgeRequest
) -> IncidentDetail:
    """Acknowledge an open incident (its alerts keep their own status)."""
    iid = _incident_id(incident_id)
    with transaction(conn):
        done = repo.acknowledge(conn, connector_id, iid, caller.user_id)
        if done:
            repo.add_event(conn, iid, "acknowledged", actor=caller.user_id, note=body.note)
    return _changed(conn, connector_id, iid, done, "only an open incident can be acknowledged")


def resolve_incident(
    conn: Connection, caller: Caller, connector_id: UUID, incident_id: str, note: str
) -> IncidentDetail:
    """Resolve an incident and, with the same note, each of its alerts still unresolved."""
    iid = _incident_id(incident_id)
    with transaction(conn):
        done = repo.resolve(conn, connector_id, iid, caller.user_id, note)
        if done:
            repo.add_event(conn, iid, "resolved", actor=caller.user_id, note=note)
            for alert_id in repo.unresolved_alert_ids(conn, iid):
                alerts_repo.resolve_alert(conn, connector_id, alert_id, caller.user_id, note)
    return _changed(conn, connector_id, iid, done, "the incident is already resolved")
