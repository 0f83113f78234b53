"""Budget alerts end to end: API -> budget_check (real job runner) -> outbox -> moto SQS -> notify handler
(Powertools batch) -> moto SES and a local Slack stub; time is driven by an injected `now`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from snowwatch_local.sqs import pump_once
from tests.budget_support import SlackStub, add_metering, demo_org_id, make_connector
from tests.conftest import env_override

pytestmark = pytest.mark.e2e

T0 = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackStub]:
    stub = SlackStub().start()
    yield stub
    stub.stop()


@pytest.fixture(scope="module")
def notify_env(stack, slack) -> Iterator[None]:
    """The notifier talks to the Slack stub and retries without waiting."""
    values = {"SLACK_BASE_URL": slack.api_url, "EGRESS_EXEMPT_HOSTS": slack.exempt_host}
    values["NOTIFY_BACKOFF_BASE_SECONDS"] = "0"
    with env_override(values):
        yield


def _sent_emails(subject_part: str) -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [m for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages if subject_part in m.subject]


def _check(stack, db, connector_id: UUID, now: datetime) -> dict[str, Any]:
    """budget_check through the shared job runner (recorded in job_runs), scoped to our connector, at `now`."""
    from snowwatch.services import jobs
    from snowwatch.services.budgets import check_budgets
    from snowwatch.settings import JobSettings, get_settings

    return jobs.handle(
        db,
        get_settings(JobSettings),
        "budget_check",
        {"connector_id": str(connector_id), "trigger": "manual"},
        lambda conn, ctx: check_budgets(conn, ctx, now=now),
    )


def _deliver(stack) -> int:
    """Play the SQS event source mapping into the real notify handler until the queue is empty."""
    from snowwatch_local.handlers import load
    from snowwatch_local.stack import FakeLambdaContext

    handler = load("notify").lambda_handler
    assert stack.moto is not None
    return pump_once(stack.moto.notify_queue_url, lambda event: handler(event, FakeLambdaContext("notify")))


def test_threshold_crossing_sends_one_email_and_one_slack_message_then_once_per_period(
    api, stack, db, slack, notify_env
) -> None:
    """Given two budgets crossing 80% (one with alert_emails and a bot-token Slack channel, one with no
    emails and an incoming webhook), when budget_check and the notifier run, then each sends exactly one
    email (to alert_emails / to the org admins) and one Slack message; a second check sends nothing new;
    the next month fires again."""
    cid = make_connector(db, demo_org_id(db), name="e2e budgets")
    add_metering(db, cid, datetime(2026, 4, 1, tzinfo=UTC), 24 * 60, 1)  # 1 credit/hour, April and May
    base = f"/api/connectors/{cid}/budgets"
    common = {"period": "monthly", "amount": 250, "thresholds": [{"type": "percent", "value": 80}]}
    named = api.post(
        base,
        json_body={
            **common,
            "name": "E2E named",
            "alert_emails": ["finops@example.com", "cto@example.com"],
            "slack": {"channel": "#finops", "bot_token": "xoxb-e2e-token"},
        },
    )
    assert named.status == 201, named.body
    admins = api.post(
        base, json_body={**common, "name": "E2E admins", "slack": {"webhook_url": slack.webhook_url("T1/B1/e2e")}}
    )
    assert admins.status == 201, admins.body

    # April 10 12:00: 228 credits = 91% of 250
    result = _check(stack, db, cid, T0)
    assert result["status"] == "succeeded"
    assert {k: result["rows"][k] for k in ("alerts", "notifications", "published")} == {
        "alerts": 2,
        "notifications": 4,
        "published": 4,
    }
    assert _deliver(stack) >= 4

    named_mail = _sent_emails("Budget 'E2E named' has reached")
    assert len(named_mail) == 1
    assert sorted(named_mail[0].destinations["ToAddresses"]) == ["cto@example.com", "finops@example.com"]
    assert "91.2%" in named_mail[0].subject
    assert f"http://localhost:3001/connectors/{cid}/budgets/{named.json()['id']}" in named_mail[0].body
    admin_mail = _sent_emails("Budget 'E2E admins' has reached")
    assert len(admin_mail) == 1
    assert admin_mail[0].destinations["ToAddresses"] == ["admin@demo.snowwatch.local"]

    bot = [m for m in slack.messages if m["kind"] == "bot" and "E2E named" in m["text"]]
    hook = [m for m in slack.messages if m["kind"] == "webhook" and "E2E admins" in m["text"]]
    assert len(bot) == 1 and bot[0]["channel"] == "#finops"
    assert any(b["type"] == "header" for b in bot[0]["blocks"])
    assert len(hook) == 1

    alerts = api.get(f"{base}/{named.json()['id']}/alerts", as_="member").json()["items"]
    assert len(alerts) == 1
    assert {d["channel"]: d["status"] for d in alerts[0]["deliveries"]} == {"email": "sent", "slack": "sent"}

    # a second run in the same period: nothing new
    again = _check(stack, db, cid, T0 + timedelta(hours=5))
    assert again["rows"]["alerts"] == 0
    _deliver(stack)
    assert len(_sent_emails("Budget 'E2E named'")) == 1
    assert len([m for m in slack.messages if "E2E named" in m["text"]]) == 1

    # a redelivered SQS message for a sent notification sends nothing
    from snowwatch.services.notifications import publish_pending

    ids = [UUID(d["id"]) for d in alerts[0]["deliveries"]]
    from snowwatch.settings import JobSettings, get_settings

    assert publish_pending(db, get_settings(JobSettings), ids) == 2
    _deliver(stack)
    assert len(_sent_emails("Budget 'E2E named'")) == 1
    assert len([m for m in slack.messages if "E2E named" in m["text"]]) == 1

    # May 9 12:00: 204 credits = 81.6% -> fires again for the new period
    may = _check(stack, db, cid, datetime(2026, 5, 9, 12, 0, tzinfo=UTC))
    assert may["rows"]["alerts"] == 2
    _deliver(stack)
    assert len(_sent_emails("Budget 'E2E named' has reached")) == 2
    assert len([m for m in slack.messages if m["kind"] == "bot" and "E2E named" in m["text"]]) == 2
    assert len([m for m in slack.messages if m["kind"] == "webhook" and "E2E admins" in m["text"]]) == 2
    periods = [a["period_start"] for a in api.get(f"{base}/{named.json()['id']}/alerts").json()["items"]]
    assert periods == ["2026-05-01", "2026-04-01"]
