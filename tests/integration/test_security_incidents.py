"""Incidents: findings sharing a user or an IP within 24 h are one incident with one notification, and an
incident has its own lifecycle (acknowledge, resolve with a note, visible reopen) while alerts keep their ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from snowwatch.db import query, transaction
from snowwatch.models.connectors import Connector
from snowwatch.models.security import Finding
from snowwatch.services import security_alerts
from tests.integration.conftest import security_base

pytestmark = pytest.mark.integration


def _incidents(db: Any, cid: str) -> dict[str, dict[str, Any]]:
    rows = query(
        db,
        """SELECT i.id, i.subject, i.severity, i.notified_round,
                  (SELECT array_agg(a.rule_id || ':' || a.subject ORDER BY a.rule_id)
                   FROM enterprise.snowflake_security_alerts a WHERE a.incident_id = i.id) AS alerts
           FROM enterprise.snowflake_security_incidents i WHERE i.connector_id = :c""",
        c=UUID(cid),
    )
    return {r["subject"]: r for r in rows}


def _notes(db: Any, incident_id: UUID) -> list[dict[str, Any]]:
    return query(
        db,
        "SELECT * FROM enterprise.notifications WHERE source_type = 'security_incident' AND source_id = :i",
        i=incident_id,
    )


def test_related_findings_are_one_incident(db, extracted) -> None:
    """Given CAROL's failed-login burst, the spraying and burst from 203.0.113.99 (which tried CAROL), CAROL's
    attack tooling and exfiltration chain, and BOB's failures-then-success and tooling, then CAROL's five alerts
    are one incident, BOB's two another, and the unrelated burst from 192.0.2.66 stays on its own."""
    found = _incidents(db, extracted)
    carol = next(i for i in found.values() if "attack_tooling:CAROL_ANALYST" in i["alerts"])
    assert carol["alerts"] == [
        "attack_tooling:CAROL_ANALYST",
        "exfiltration_chain:CAROL_ANALYST",
        "failed_login_burst_ip:203.0.113.99",
        "failed_login_burst_user:CAROL_ANALYST",
        "password_spraying:203.0.113.99",
    ]
    assert carol["severity"] == "critical"
    bob = next(i for i in found.values() if "attack_tooling:ADMIN_BOB" in i["alerts"])
    assert bob["alerts"] == ["attack_tooling:ADMIN_BOB", "failures_then_success:ADMIN_BOB"]
    assert found["192.0.2.66"]["alerts"] == ["failed_login_burst_ip:192.0.2.66"]


def test_one_notification_per_incident_updated_not_repeated(stack, db, extracted) -> None:
    """Given CAROL's incident (five alerts, three of them critical/high), then exactly one outbox row, listing all
    five alerts; the grouped alerts send none of their own; a second run adds no notification."""
    carol = next(i for i in _incidents(db, extracted).values() if "attack_tooling:CAROL_ANALYST" in i["alerts"])
    notes = _notes(db, carol["id"])
    assert len(notes) == 1 and len(notes[0]["payload"]["alert_ids"]) == 5
    per_alert = query(
        db,
        """SELECT n.id FROM enterprise.notifications n
           JOIN enterprise.snowflake_security_alerts a ON a.id = n.source_id
           WHERE n.source_type = 'security_alert' AND a.incident_id = :i""",
        i=carol["id"],
    )
    assert per_alert == []
    stack.run_job("security", connector_id=extracted)
    assert len(_notes(db, carol["id"])) == 1


def test_incidents_api_lifecycle(api, db, extracted) -> None:
    """Given BOB's incident, when listed, read, acknowledged and resolved with a note through the API, then the
    list shows it, the detail lists its alerts (with their own ids) and history, the resolution resolves its
    alerts too, a member cannot act (403) and a malformed or unknown id is 404."""
    listed = api.get(f"{security_base(extracted)}/incidents").json()
    assert listed["total"] >= 4 and listed["items"][0]["severity"] == "critical"
    bob = next(i for i in listed["items"] if "user:ADMIN_BOB" in i["keys"])
    path = f"{security_base(extracted)}/incidents/{bob['id']}"
    detail = api.get(path).json()
    assert {a["rule_id"] for a in detail["alerts"]} == {"attack_tooling", "failures_then_success"}
    assert [e["kind"] for e in detail["history"]][:1] == ["opened"]
    assert sum(e["kind"] == "alert_joined" for e in detail["history"]) == 2
    assert api.call("PUT", f"{path}/acknowledge", as_="member", json_body={}).status == 403
    assert api.call("PUT", f"{path}/acknowledge", json_body={"note": "on it"}).json()["status"] == "acknowledged"
    assert api.call("PUT", f"{path}/resolve", json_body={}).status == 422
    done = api.call("PUT", f"{path}/resolve", json_body={"note": "BOB's laptop reimaged"})
    assert done.status == 200, done.body
    body = done.json()
    assert body["status"] == "resolved" and body["resolved_by_email"] == "admin@demo.snowwatch.local"
    assert {a["status"] for a in body["alerts"]} == {"resolved"}
    assert [e["kind"] for e in body["history"]][-2:] == ["acknowledged", "resolved"]
    assert api.get(f"{security_base(extracted)}/incidents/not-a-uuid").status == 404
    assert api.get(f"{security_base(extracted)}/incidents/00000000-0000-4000-8000-000000000000").status == 404


def test_other_org_cannot_see_an_incident(api, extracted, other_connector_id) -> None:
    incident = api.get(f"{security_base(extracted)}/incidents").json()["items"][0]
    assert api.get(f"{security_base(other_connector_id)}/incidents/{incident['id']}", as_="other").status == 404


def _finding(rule: str, subject: str, at: datetime, links: list[str], severity: str = "high") -> Finding:
    return Finding(rule_id=rule, severity=severity, subject=subject, title=f"{rule} {subject}", description="d",
                   evidence=[], remediation_sql=None, observed_at=at, links=links)  # fmt: skip


def _apply(db: Any, connector: Connector, findings: list[Finding]) -> dict[str, int]:
    with transaction(db):
        return security_alerts.apply_findings(db, connector, findings, datetime.now(UTC))


def test_medium_incident_notifies_when_a_high_alert_joins_and_reopens_visibly(db, lone_connector) -> None:
    """Given a medium burst on EVE (no notification), when a high failures-then-success of EVE joins, then the
    incident notifies once; a finding more than 24 h later opens a second incident; after the first incident is
    resolved, newer evidence reopens it with a 'reopened' event and a second notification."""
    t0 = datetime.now(UTC) - timedelta(days=2)
    _apply(db, lone_connector, [_finding("failed_login_burst_user", "EVE", t0, ["user:EVE"], "medium")])
    (incident,) = _incidents(db, str(lone_connector.id)).values()
    assert _notes(db, incident["id"]) == []
    joined = _finding("failures_then_success", "EVE", t0 + timedelta(minutes=5), ["ip:9.9.9.9", "user:EVE"])
    _apply(db, lone_connector, [joined])
    assert len(_notes(db, incident["id"])) == 1
    _apply(db, lone_connector, [_finding("password_spraying", "8.8.8.8", t0 + timedelta(hours=30), ["ip:8.8.8.8"])])
    assert len(_incidents(db, str(lone_connector.id))) == 2

    db.run(
        """UPDATE enterprise.snowflake_security_incidents SET status = 'resolved', resolved_at = :t,
           resolution_note = 'done' WHERE id = :i""",
        t=t0 + timedelta(hours=1), i=incident["id"],
    )  # fmt: skip
    db.run("UPDATE enterprise.snowflake_security_alerts SET status = 'resolved', resolved_at = :t, "
           "resolution_note = 'done' WHERE incident_id = :i", t=t0 + timedelta(hours=1), i=incident["id"])  # fmt: skip
    again = _finding("failures_then_success", "EVE", t0 + timedelta(hours=2), ["user:EVE"])
    assert _apply(db, lone_connector, [again])["alerts_reopened"] == 1
    row = query(
        db,
        "SELECT status, reopened_count FROM enterprise.snowflake_security_incidents WHERE id = :i",
        i=incident["id"],
    )[0]
    assert (row["status"], row["reopened_count"]) == ("open", 1)
    kinds = [
        r["kind"]
        for r in query(
            db,
            "SELECT kind FROM enterprise.snowflake_security_incident_events WHERE incident_id = :i ORDER BY at, id",
            i=incident["id"],
        )
    ]
    assert kinds == ["opened", "alert_joined", "alert_joined", "reopened"]
    assert len(_notes(db, incident["id"])) == 2
