"""The security extraction through the real client: every statement passes the guard, re-runs never
duplicate, watermarks move, ACCESS_HISTORY is skipped cleanly when absent and read when present,
and the alert lifecycle (dedupe, recurrence, resolve, reopen) with its outbox notifications."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from snowwatch.db import query, query_one, transaction
from snowwatch.models.connectors import Connector
from snowwatch.models.security import Finding
from snowwatch.repositories import security_alerts as alerts_repo
from snowwatch.services import security_alerts, security_reads
from snowwatch.snowflake import guard

pytestmark = pytest.mark.integration


class _Cursor:
    def __init__(self, cursor: Any, seen: list[str]) -> None:
        self._cursor, self._seen = cursor, seen

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self._seen.append(sql)
        return self._cursor.execute(sql, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _Connection:
    def __init__(self, connection: Any, seen: list[str]) -> None:
        self._connection, self._seen = connection, seen

    def cursor(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self._connection.cursor(*args, **kwargs), self._seen)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def test_every_statement_the_extraction_sends_passes_the_guard(stack, monkeypatch) -> None:
    """Given the connector library wrapped to record what reaches Snowflake, when the security job runs,
    then every statement sent is read-only per the guard and each security view was read."""
    import snowflake.connector

    seen: list[str] = []
    real_connect = snowflake.connector.connect
    monkeypatch.setattr(snowflake.connector, "connect", lambda **kw: _Connection(real_connect(**kw), seen))
    out = stack.run_job("security", connector_id=str(stack.connector_id))
    assert out["status"] == "succeeded", out
    assert seen, "nothing was captured"
    for sql in seen:
        assert guard.check(sql) in ("SELECT", "WITH", "SHOW", "DESCRIBE"), sql
    assert len(seen) == out["rows"]["statements"]
    text = "\n".join(seen)
    for view in ("USERS", "LOGIN_HISTORY", "GRANTS_TO_USERS", "GRANTS_TO_ROLES", "NETWORK_POLICIES",
                 "POLICY_REFERENCES", "SESSIONS", "QUERY_HISTORY", "ACCESS_HISTORY"):  # fmt: skip
        assert f"SNOWFLAKE.ACCOUNT_USAGE.{view}" in text, view


def test_rerun_is_idempotent_and_watermarks_are_recorded(stack, db) -> None:
    """Given two security runs, then no event row is duplicated and each event view has a watermark."""
    cid = stack.connector_id
    stack.run_job("security", connector_id=str(cid))
    before = query_one(db, "SELECT count(*) AS n FROM enterprise.snowflake_login_history WHERE connector_id = :c",
                       c=cid)  # fmt: skip
    out = stack.run_job("security", connector_id=str(cid))
    after = query_one(db, "SELECT count(*) AS n FROM enterprise.snowflake_login_history WHERE connector_id = :c",
                      c=cid)  # fmt: skip
    assert before == after
    assert out["rows"]["security.LOGIN_HISTORY"] < after["n"]  # incremental: only the lookback was re-read
    marks = {r["view_name"] for r in query(db, "SELECT view_name FROM enterprise.sync_state WHERE connector_id = :c",
                                           c=cid)}  # fmt: skip
    assert {"security.LOGIN_HISTORY", "security.SESSIONS", "security.QUERY_HISTORY"} <= marks
    users = query_one(db, "SELECT count(*) AS n, count(*) FILTER (WHERE disabled) AS d "
                      "FROM enterprise.snowflake_users WHERE connector_id = :c", c=cid)  # fmt: skip
    assert users["d"] == 1  # KATE_DISABLED: DISABLED 'true' as VARIANT text


def test_access_history_is_skipped_when_absent(stack, db) -> None:
    """Given the Standard-edition test account (no ACCESS_HISTORY), then the run says so and succeeds."""
    out = stack.run_job("security", connector_id=str(stack.connector_id))
    assert out["status"] == "succeeded"
    assert out["rows"]["security.ACCESS_HISTORY"].startswith("skipped")
    summary = security_reads.summary(db, stack.connector_id)
    assert summary.last_extraction is not None
    assert any(s.startswith("ACCESS_HISTORY") for s in summary.last_extraction.skipped)


def test_access_history_is_read_when_present(stack, db) -> None:
    """Given ACCESS_HISTORY appears (Enterprise), when the job runs, then its rows land in Postgres."""
    from snowwatch_local import services

    with contextlib.closing(services.snowflake_connection(stack.fakesnow)) as sf:
        cur = sf.cursor()
        cur.execute(
            """CREATE TABLE SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY (QUERY_ID VARCHAR, QUERY_START_TIME TIMESTAMP_LTZ,
               USER_NAME VARCHAR, DIRECT_OBJECTS_ACCESSED VARCHAR, BASE_OBJECTS_ACCESSED VARCHAR,
               OBJECTS_MODIFIED VARCHAR, POLICIES_REFERENCED VARCHAR)"""
        )
        cur.execute(
            """INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY
               SELECT 'ah-test-' || SEQ4(), DATEADD('hour', -SEQ4(), CURRENT_TIMESTAMP()), 'CAROL_ANALYST',
                      '[{"objectName":"A.B.C"}]', '[]', '[]', '[]'
               FROM TABLE(GENERATOR(ROWCOUNT => 5))"""
        )
        try:
            out = stack.run_job("security", connector_id=str(stack.connector_id))
        finally:
            cur.execute("DROP TABLE SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY")
    assert out["rows"]["security.ACCESS_HISTORY"] == 5
    row = query_one(
        db,
        """SELECT direct_objects_accessed FROM enterprise.snowflake_access_history
           WHERE connector_id = :c AND query_id = 'ah-test-0'""",
        c=stack.connector_id,
    )
    assert row is not None and row["direct_objects_accessed"] == [{"objectName": "A.B.C"}]


# ---------------------------------------------------------------- alert lifecycle


def _finding(at: datetime, severity: str = "high", subject: str = "EVE") -> Finding:
    return Finding(rule_id="failures_then_success", severity=severity, subject=subject, title=f"t {subject}",
                   description="d", evidence=[{"at": at.isoformat()}], remediation_sql="SELECT 1;",
                   observed_at=at)  # fmt: skip


def _apply(db: Any, connector: Connector, findings: list[Finding]) -> dict[str, int]:
    with transaction(db):
        return security_alerts.apply_findings(db, connector, findings, datetime.now(UTC))


def _alert(db: Any, connector: Connector) -> dict[str, Any]:
    row = query_one(db, "SELECT * FROM enterprise.snowflake_security_alerts WHERE connector_id = :c", c=connector.id)
    assert row is not None
    return row


def _outbox(db: Any, alert_id: UUID) -> list[dict[str, Any]]:
    return query(
        db,
        "SELECT * FROM enterprise.notifications WHERE source_type = 'security_alert' AND source_id = :a",
        a=alert_id,
    )


def test_alert_lifecycle_dedupe_recur_resolve_reopen(db, lone_connector) -> None:
    """Given a high finding, when it recurs, is resolved, is seen again with old evidence, then with new
    evidence: one alert throughout; occurrences and last_seen_at move with new evidence only; it stays
    resolved on old evidence and reopens on evidence newer than resolved_at; admins are notified on open
    and on reopen, never on a mere recurrence."""
    t0 = datetime.now(UTC) - timedelta(hours=3)
    assert _apply(db, lone_connector, [_finding(t0)])["alerts_new"] == 1
    alert = _alert(db, lone_connector)
    assert (alert["status"], alert["occurrences"]) == ("open", 1)
    notes = _outbox(db, alert["id"])
    assert len(notes) == 1 and notes[0]["recipients"] == ["admin@demo.snowwatch.local"]
    assert notes[0]["dedupe_key"].endswith(":email")
    assert notes[0]["payload"]["severity"] == "high"

    _apply(db, lone_connector, [_finding(t0)])  # the same evidence again: no new occurrence
    assert _alert(db, lone_connector)["occurrences"] == 1
    t1 = t0 + timedelta(hours=1)
    assert _apply(db, lone_connector, [_finding(t1)])["alerts_recurring"] == 1
    alert = _alert(db, lone_connector)
    assert (alert["occurrences"], alert["last_seen_at"]) == (2, t1)
    assert len(_outbox(db, alert["id"])) == 1

    admin = query_one(db, "SELECT id FROM enterprise.users WHERE subject = 'demo-admin'")
    assert admin is not None
    db.run(
        """UPDATE enterprise.snowflake_security_alerts SET status = 'resolved', resolved_at = :t, resolved_by = :u,
           resolution_note = 'fixed' WHERE id = :id""",
        t=t1 + timedelta(minutes=30), u=admin["id"], id=alert["id"],
    )  # fmt: skip
    assert _apply(db, lone_connector, [_finding(t1)])["alerts_kept_resolved"] == 1
    assert _alert(db, lone_connector)["status"] == "resolved"

    t2 = t1 + timedelta(hours=1)
    assert _apply(db, lone_connector, [_finding(t2)])["alerts_reopened"] == 1
    alert = _alert(db, lone_connector)
    assert (alert["status"], alert["reopened_count"], alert["occurrences"]) == ("open", 1, 3)
    assert len(_outbox(db, alert["id"])) == 2


def test_medium_findings_are_not_notified(db, lone_connector) -> None:
    """Given a medium finding, then an alert but no outbox row."""
    _apply(db, lone_connector, [_finding(datetime.now(UTC), severity="medium", subject="M")])
    assert _outbox(db, _alert(db, lone_connector)["id"]) == []


def test_a_snoozed_alert_reopens_without_a_notification(db, lone_connector) -> None:
    """Given a high alert snoozed for a week and then resolved, when newer evidence reopens it, then it is open
    again with a 'reopened' event but no second outbox row; the history holds opened, snoozed, resolved,
    reopened in order."""
    t0 = datetime.now(UTC) - timedelta(hours=2)
    _apply(db, lone_connector, [_finding(t0, subject="SNOOZY")])
    alert = _alert(db, lone_connector)
    admin = query_one(db, "SELECT id FROM enterprise.users WHERE subject = 'demo-admin'")
    assert admin is not None
    with transaction(db):
        assert alerts_repo.snooze_alert(
            db, lone_connector.id, alert["id"], admin["id"], datetime.now(UTC) + timedelta(days=7), None
        )
        assert alerts_repo.resolve_alert(db, lone_connector.id, alert["id"], admin["id"], "looked at it")
    assert (
        _apply(db, lone_connector, [_finding(datetime.now(UTC) + timedelta(seconds=1), subject="SNOOZY")])[
            "alerts_reopened"
        ]
        == 1
    )
    assert _alert(db, lone_connector)["status"] == "open"
    assert len(_outbox(db, alert["id"])) == 1
    kinds = [e["kind"] for e in alerts_repo.alert_history(db, alert["id"])]
    assert kinds == ["opened", "snoozed", "resolved", "reopened"]
