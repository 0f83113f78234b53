"""Fault test: 220 budget alerts (440 deliveries) while ~30% of SES and Slack calls fail (errors and timeouts).

Faults are injected deterministically at the sender seam (every call whose sequence number ends in 1, 4
or 7 fails, alternating an error and a timeout, before the provider is reached) and at the Slack stub
(429s, 500s and slow answers past the client timeout, which slack-sdk's retry handlers absorb or surface).
Three budgets point at a bounced address and a deleted webhook: permanent failures.
The notify consumer (real handler, Powertools batch) and the relay run until quiescent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from snowwatch_local.sqs import pump_once
from tests.budget_support import SlackStub, add_metering, demo_org_id, job_ctx, make_connector
from tests.conftest import env_override

pytestmark = pytest.mark.integration

N_BUDGETS = 220
PERMANENT = {"FAULT-007", "FAULT-100", "FAULT-150"}
NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)


class FaultySender:
    """Wraps a real sender; deterministically fails 30% of calls before they reach the provider."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0
        self.injected = Counter[str]()

    def send(self, notification: Any) -> None:
        from snowwatch.notify import PermanentSendError, SendError

        self.calls += 1
        if any("bounce" in r for r in notification.recipients) and notification.channel == "email":
            raise PermanentSendError("SES MessageRejected (injected bounce)")
        if self.calls % 10 in (1, 4, 7):
            if self.calls % 2:
                self.injected["error"] += 1
                raise SendError("injected 503")
            self.injected["timeout"] += 1
            raise TimeoutError("injected read timeout")
        self.inner.send(notification)


def _stub_fault(n: int) -> int | str | None:
    if n % 53 == 0:
        return "slow"
    if n % 7 == 0:
        return 500
    if n % 29 == 0:
        return 429  # Retry-After: 0 (slack-sdk still adds up to 1 s)
    return None


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackStub]:
    stub = SlackStub(fault=_stub_fault, slow_seconds=2.0).start()
    yield stub
    stub.stop()


@pytest.fixture(scope="module")
def env(stack, slack) -> Iterator[None]:
    values = {
        "SLACK_BASE_URL": slack.api_url,
        "EGRESS_EXEMPT_HOSTS": slack.exempt_host,
        "NOTIFY_BACKOFF_BASE_SECONDS": "0",
        "NOTIFY_RELAY_AFTER_SECONDS": "0",
        "NOTIFY_SEND_TIMEOUT_SECONDS": "1",
        "NOTIFY_MAX_ATTEMPTS": "8",
        "NOTIFY_SLACK_RETRY_BACKOFF_SECONDS": "0.01",
    }
    with env_override(values):
        yield


def _secret(name: str, value: dict[str, str], org: Any) -> str:
    """A Slack secret tagged with the org, as snowwatch writes them (the notifier checks the tag)."""
    from snowwatch.services import secrets
    from snowwatch.settings import NotifySettings, get_settings

    return secrets.put_owned(get_settings(NotifySettings), name, value, {secrets.TAG_ORG: str(org)})


def test_every_alert_is_delivered_exactly_once_per_channel_despite_faults(stack, slack, env) -> None:
    """Given 220 crossed budgets (email + Slack each) and ~30% failing sends, when the notifier and the
    relay run until nothing is left, then every delivery is sent exactly once or, for the permanent
    failures, visible as failed; failed attempts were retried; nothing is lost or doubled."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from snowwatch.db import get_connection
    from snowwatch.notify.email import SesSender
    from snowwatch.notify.slack import SlackSender
    from snowwatch.repositories import budgets as budgets_repo
    from snowwatch.services import notifications
    from snowwatch.services.budgets import check_budgets
    from snowwatch.settings import JobSettings, NotifySettings, get_settings
    from snowwatch_local.handlers import load
    from snowwatch_local.stack import FakeLambdaContext

    settings = get_settings(NotifySettings)
    db = get_connection(settings)
    cid = make_connector(db, demo_org_id(db), name="fault budgets")
    add_metering(db, cid, datetime(2026, 6, 1, tzinfo=UTC), 24 * 20, 1)
    org = demo_org_id(db)
    bot = _secret("test/fault/bot", {"bot_token": "xoxb-fault"}, org)
    hook = _secret("test/fault/hook", {"webhook_url": slack.webhook_url("T9/B9/fault")}, org)
    gone = _secret("test/fault/gone", {"webhook_url": slack.webhook_url("T9/B9/gone")}, org)
    for i in range(N_BUDGETS):
        name = f"FAULT-{i:03d}"
        budgets_repo.insert(
            db,
            {
                "connector_id": cid,
                "name": name,
                "scope_type": "account",
                "period": "monthly",
                "amount": Decimal(100),
                "amount_unit": "credits",
                "thresholds": [{"type": "percent", "value": 50, "basis": "actual"}],
                "alert_emails": [f"bounce{i}@example.com" if name in PERMANENT else f"owner{i}@example.com"],
                "slack_channel": f"#team-{i}" if i % 2 else None,
                "slack_secret_ref": (gone if name in PERMANENT else bot if i % 2 else hook),
            },
        )

    result = check_budgets(db, job_ctx(db, cid, get_settings(JobSettings)), now=NOW)
    assert result["alerts"] == N_BUDGETS
    assert result["notifications"] == 2 * N_BUDGETS

    faulty = {"email": FaultySender(SesSender(settings)), "slack": FaultySender(SlackSender(settings))}
    notifications.use_senders(faulty)
    handler = load("notify").lambda_handler
    assert stack.moto is not None
    queue = stack.moto.notify_queue_url

    def mine() -> dict[str, int]:
        rows = db.run(
            """SELECT status, count(*) FROM enterprise.notifications WHERE connector_id = :c GROUP BY status""",
            c=cid,
        )
        return {r[0]: int(r[1]) for r in rows}

    try:
        for _ in range(60):
            pump_once(queue, lambda event: handler(event, FakeLambdaContext("notify")))
            relayed = handler({"trigger": "schedule"}, FakeLambdaContext("notify"))
            state = mine()
            if not state.get("pending") and not state.get("sending"):
                break
            assert relayed["status"] == "succeeded"
        pump_once(queue, lambda event: handler(event, FakeLambdaContext("notify")))  # leftovers are no-ops
    finally:
        notifications.use_senders(None)

    state = mine()
    assert set(state) <= {"sent", "failed"}, state
    assert sum(state.values()) == 2 * N_BUDGETS

    rows = db.run(
        """SELECT n.channel, n.status, n.attempts, n.last_error, n.payload->>'budget_name'
           FROM enterprise.notifications n WHERE n.connector_id = :c""",
        c=cid,
    )
    failed = {(r[4], r[0]) for r in rows if r[1] == "failed"}
    # the permanent failures are failed, on first try, with a reason
    for name in PERMANENT:
        assert (name, "email") in failed and (name, "slack") in failed
    assert all(r[3] for r in rows if r[1] == "failed")
    reasons = {r[0]: r[3] for r in rows if r[1] == "failed" and r[4] in PERMANENT}
    assert "bounce" in reasons["email"] and "no_active_hooks" in reasons["slack"]
    # transient failures were retried and then delivered
    retried_then_sent = [r for r in rows if r[1] == "sent" and r[2] > 1]
    assert len(retried_then_sent) > 50
    assert faulty["email"].injected["error"] > 0 and faulty["email"].injected["timeout"] > 0
    assert faulty["slack"].calls > 2 * N_BUDGETS * 0.5

    # exactly once per channel: what SES and the Slack stub received
    sent = {(r[4], r[0]) for r in rows if r[1] == "sent"}
    emails = Counter(
        m.subject.split("'")[1]
        for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        if "Budget 'FAULT-" in m.subject
    )
    posts = Counter(m["text"].split("'")[1] for m in slack.messages if "Budget 'FAULT-" in m.get("text", ""))
    for name in (f"FAULT-{i:03d}" for i in range(N_BUDGETS)):
        assert emails[name] == (1 if (name, "email") in sent else 0), name
        assert posts[name] == (1 if (name, "slack") in sent else 0), name
    assert len(sent) >= 2 * N_BUDGETS - 2 * len(PERMANENT) - 4  # at most a couple exhaust their attempts
    assert slack.requests > len([p for p in posts.values() if p])  # the stub's own faults were retried
