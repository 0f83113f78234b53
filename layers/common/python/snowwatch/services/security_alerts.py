"""The alert lifecycle: every rule's findings become alerts (fingerprint = rule + subject), with their
transitions (:func:`transition`) and an outbox notification for each critical/high alert that is new or
reopened, all in one transaction per evaluation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from snowwatch.db import Connection, transaction
from snowwatch.models.connectors import Connector
from snowwatch.models.notifications import OutboxDelivery
from snowwatch.models.security import Finding
from snowwatch.repositories import security as extraction_repo
from snowwatch.repositories import security_alerts as alerts_repo
from snowwatch.repositories import security_identity as identity
from snowwatch.services import notifications
from snowwatch.services import security_incidents as incidents
from snowwatch.services import security_rules as rules
from snowwatch.services.security_rules.users import STALE_DAYS
from snowwatch.settings import JobSettings

NOTIFY_SEVERITIES = ("critical", "high")


def fingerprint(rule_id: str, subject: str) -> str:
    """Alert identity: the rule and the subject (sha256, so any subject fits the column and index)."""
    return hashlib.sha256(f"{rule_id}\x1f{subject}".encode()).hexdigest()


Transition = Literal["insert", "recur", "reopen", "keep_resolved"]


def transition(existing: Mapping[str, Any] | None, observed_at: datetime) -> Transition:
    """What a finding does to its alert.

    - no alert with this fingerprint: ``insert`` (open, occurrences 1);
    - an open or acknowledged alert: ``recur`` (last_seen_at moves forward; occurrences +1 when
      observed_at is newer);
    - a resolved alert and the finding observed AFTER resolved_at: ``reopen`` (open again,
      reopened_count +1, a ``reopened`` event saying why; every earlier resolution stays in the history);
    - a resolved alert and the finding observed at or before resolved_at (old evidence still inside
      the lookback): ``keep_resolved``, nothing changes.
    """
    if existing is None:
        return "insert"
    if existing["status"] in ("open", "acknowledged"):
        return "recur"
    resolved_at = existing.get("resolved_at")
    if resolved_at is not None and observed_at > resolved_at:
        return "reopen"
    return "keep_resolved"


def reopen_reason(finding: Finding, resolved_at: datetime) -> str:
    return (
        f"{finding.rule_id} observed again at {finding.observed_at.isoformat()}, after the resolution at "
        f"{resolved_at.isoformat()}: {finding.description}"
    )[:2000]


def snoozed(alert: Mapping[str, Any], now: datetime) -> bool:
    """Whether the alert is snoozed at ``now`` (a snoozed alert reopens silently and does not count as open)."""
    until = alert.get("snoozed_until")
    return until is not None and until > now


def notification_payload(alert_id: UUID, finding: Finding, connector: Connector, action: str) -> dict[str, Any]:
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
    conn: Connection, connector: Connector, findings: list[Finding], now: datetime, outbox_ids: list[UUID] | None = None
) -> dict[str, int]:
    """Upsert alerts for ``findings`` and enqueue notifications, in the caller's transaction (the outbox
    row ids written are appended to ``outbox_ids``: publish them after the commit)."""
    by_fp: dict[str, Finding] = {}
    for f in findings:
        fp = fingerprint(f.rule_id, f.subject)
        kept = by_fp.get(fp)
        if kept is None or f.observed_at > kept.observed_at:
            by_fp[fp] = f
    existing = alerts_repo.alerts_by_fingerprint(conn, connector.id, list(by_fp))
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
            alert_id = alerts_repo.insert_alert(conn, connector.id, fp, data)
            counts["alerts_new"] += 1
        elif action == "keep_resolved":
            counts["alerts_kept_resolved"] += 1
            continue
        else:
            assert current is not None
            alert_id = current["id"]
            alerts_repo.update_alert(
                conn, alert_id, data, new_evidence=f.observed_at > current["last_seen_at"], reopen=action == "reopen"
            )
            counts["alerts_reopened" if action == "reopen" else "alerts_recurring"] += 1
            if action == "reopen":
                alerts_repo.add_event(conn, alert_id, "reopened", note=reopen_reason(f, current["resolved_at"]))
        quiet = action == "recur" or (current is not None and snoozed(current, now))
        if f.links:  # grouped: the incident notifies, once per opening
            written: list[UUID] = []
            counts["notifications"] += incidents.attach(
                conn, connector, current, alert_id, f, written, notify=not quiet
            )
            if outbox_ids is not None:
                outbox_ids.extend(written)
            continue
        if quiet or f.severity not in NOTIFY_SEVERITIES:
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
    conn: Connection, connector: Connector, now: datetime, settings: JobSettings | None = None
) -> dict[str, Any]:
    """Evaluate every rule; in one transaction replace the stale users, upsert the alerts and write their
    outbox rows; after the commit, publish those rows to the notify queue (the relay retries failures)."""
    evaluation = rules.evaluate(conn, connector.id, now)
    findings = evaluation.findings
    stale = identity.stale_users(conn, connector.id, now, STALE_DAYS)
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
        extraction_repo.replace(conn, extraction_repo.STALE_USERS, connector.id, stale_rows)
        counts: dict[str, Any] = apply_findings(conn, connector, findings, now, outbox_ids)
    if outbox_ids and settings is not None:
        counts["published"] = notifications.publish_pending(conn, settings, outbox_ids)
    return {
        "findings": len(findings),
        "stale_users": len(stale_rows),
        **counts,
        "rules": {k: v for k, v in evaluation.per_rule.items() if v},
        "rule_errors": evaluation.errors,
    }
