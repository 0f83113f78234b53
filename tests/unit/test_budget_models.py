"""Budget contracts, rendering and the senders, without services (the Slack sender talks to an in-test stub)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from snowwatch.models.budgets import BudgetIn, SlackTargetIn, Threshold
from snowwatch.models.notifications import Notification
from snowwatch.notify import PermanentSendError, SendError
from snowwatch.notify.render import render
from snowwatch.settings import NotifySettings
from tests.budget_support import SlackStub


def _budget(**kw: Any) -> BudgetIn:
    return BudgetIn.model_validate({"name": "b", "amount": 10, **kw})


def test_threshold_key_is_stable_across_spellings() -> None:
    assert Threshold(value=Decimal("80")).key == Threshold(value=Decimal("80.00")).key == "percent:80"
    assert Threshold(type="absolute", value=Decimal("12.5")).key == "absolute:12.5"


@pytest.mark.parametrize(
    "kw",
    [
        {"amount": -1},
        {"thresholds": [{"value": 50}, {"value": 50.0}]},
        {"thresholds": [{"value": 5000}]},
        {"thresholds": [{"value": i + 1} for i in range(11)]},
        {"alert_emails": ["x@y"]},
        {"alert_emails": ["a b@example.com"]},
        {"scope_type": "warehouses"},
        {"scope_type": "account", "warehouses": ["WH"]},
        {"scope_type": "query_tag"},
        {"unknown": 1},
    ],
)
def test_bad_budgets_are_rejected(kw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _budget(**kw)


def test_same_value_on_actual_and_forecast_is_not_a_duplicate() -> None:
    b = _budget(thresholds=[{"value": 100}, {"value": 100, "basis": "forecast"}], alert_emails=["A@x.io", "a@x.io"])
    assert len(b.thresholds) == 2
    assert b.alert_emails == ["A@x.io"]


def test_slack_target_needs_exactly_one_credential() -> None:
    with pytest.raises(ValidationError):
        SlackTargetIn(channel="#x")
    with pytest.raises(ValidationError):
        SlackTargetIn(bot_token="xoxb-1")  # type: ignore[arg-type]
    target = SlackTargetIn(webhook_url="https://hooks.slack.com/services/T/B/X")  # type: ignore[arg-type]
    assert "hooks.slack.com" not in repr(target)
    assert target.secret_payload() == {"webhook_url": "https://hooks.slack.com/services/T/B/X"}


def _note(channel: str = "email", **payload: Any) -> Notification:
    base = {
        "budget_name": "Prod <compute>",
        "connector_name": "acme",
        "period": "monthly",
        "period_start": "2026-03-01",
        "period_end": "2026-03-31",
        "threshold": {"type": "percent", "value": 80, "basis": "actual"},
        "kind": "actual",
        "spend": 812.5,
        "forecast": 1200,
        "amount": 1000,
        "unit": "currency",
        "currency": "EUR",
        "percent": 81.25,
        "dashboard_path": "/connectors/c/budgets/b",
    }
    base.update(payload)
    return Notification(
        id=uuid.uuid4(),
        org_id=uuid.uuid4(),
        connector_id=uuid.uuid4(),
        source_type="budget_alert",
        source_id=uuid.uuid4(),
        channel=channel,  # type: ignore[arg-type]
        recipients=["a@example.com"] if channel == "email" else ["#c"],
        payload=base,
        status="sending",
        attempts=1,
        dedupe_key="k",
        created_at=datetime.now(UTC),
    )


def test_render_has_subject_with_budget_and_percent_text_html_link_and_blocks() -> None:
    r = render(_note(), "https://app.example.com/")
    assert r.subject == "[snowwatch] Budget 'Prod <compute>' has reached 81.2% (monthly)"
    assert "812.50 EUR" in r.text and "https://app.example.com/connectors/c/budgets/b" in r.text
    assert "&lt;compute&gt;" in r.html and "href='https://app.example.com/connectors/c/budgets/b'" in r.html
    assert r.blocks[0]["type"] == "header"
    forecast = render(_note(kind="forecast", threshold={"type": "absolute", "value": 900, "basis": "forecast"}), "x")
    assert "is forecast to reach" in forecast.subject and "absolute threshold 900.00 EUR" in forecast.text


def test_security_alert_link_opens_that_alert_and_names_its_rule() -> None:
    """Given a security alert notification, when it is rendered, then its link is the dashboard's URL of the
    alert on its connector with the rule named (so the dashboard finds it whatever the list filters)."""
    note = _note(title="No MFA", severity="high", rule_id="password_no_mfa", subject="BOB")
    note = note.model_copy(update={"source_type": "security_alert"})
    note.payload["dashboard_path"] = "/connectors/c1/security?alert=a1"
    r = render(note, "https://app.example.com")
    assert r.link == "https://app.example.com/connectors/c1/security?alert=a1&rule=password_no_mfa"
    assert r.link in r.text and r.blocks[-1]["elements"][0]["url"] == r.link


def test_ses_sender_sends_html_and_text_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.stub import Stubber

    from snowwatch import aws
    from snowwatch.notify import email

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    settings = NotifySettings(DATABASE_URL="postgresql://x@y/z", SES_SENDER="alerts@acme.io")  # type: ignore[call-arg]
    client = aws.client("ses", settings.aws_region, settings.send_timeout_seconds)  # the one SesSender uses
    with Stubber(client) as stub:
        stub.add_response("send_email", {"MessageId": "m1"})
        email.SesSender(settings).send(_note())
        stub.add_client_error("send_email", service_error_code="MessageRejected")
        with pytest.raises(PermanentSendError):
            email.SesSender(settings).send(_note())
        stub.add_client_error("send_email", service_error_code="Throttling", http_status_code=400)
        with pytest.raises(SendError):
            email.SesSender(settings).send(_note())


def test_ses_request_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    from snowwatch.notify import email

    seen: dict[str, Any] = {}

    class Fake:
        def send_email(self, **kw: Any) -> None:
            seen.update(kw)

    monkeypatch.setattr(email.aws, "client", lambda *a: Fake())
    settings = NotifySettings(DATABASE_URL="postgresql://x@y/z", SES_SENDER="alerts@acme.io")  # type: ignore[call-arg]
    email.SesSender(settings).send(_note())
    assert seen["Source"] == "alerts@acme.io"
    assert seen["Destination"] == {"ToAddresses": ["a@example.com"]}
    assert set(seen["Message"]["Body"]) == {"Text", "Html"}
    assert "81.2%" in seen["Message"]["Subject"]["Data"]


def test_slack_sender_bot_and_webhook_with_retries_on_429_and_500() -> None:
    from snowwatch.notify.slack import SlackSender

    faults = {1: 429, 2: 500}
    stub = SlackStub(fault=faults.get).start()
    try:
        settings = NotifySettings(  # type: ignore[call-arg]
            DATABASE_URL="postgresql://x@y/z",
            SLACK_BASE_URL=stub.api_url,
            NOTIFY_SLACK_RETRY_BACKOFF_SECONDS=0.01,
            EGRESS_EXEMPT_HOSTS=stub.exempt_host,
        )
        secrets = {"bot": {"bot_token": "xoxb-1"}, "hook": {"webhook_url": stub.webhook_url()}}
        sender = SlackSender(settings, read_secret=lambda ref, org: secrets[ref])
        sender.send(_note("slack", slack={"secret_ref": "bot", "channel": "#finops"}))
        sender.send(_note("slack", slack={"secret_ref": "hook", "channel": None}))
        assert [m["kind"] for m in stub.messages] == ["bot", "webhook"]
        assert stub.messages[0]["channel"] == "#finops" and stub.requests == 4
        secrets["bad"] = {"bot_token": "not-a-bot"}
        with pytest.raises(PermanentSendError):
            sender.send(_note("slack", slack={"secret_ref": "bad", "channel": "#finops"}))
        secrets["gone"] = {"webhook_url": stub.webhook_url("gone")}
        with pytest.raises(PermanentSendError):
            sender.send(_note("slack", slack={"secret_ref": "gone"}))
        stub.fault = lambda n: 500
        with pytest.raises(SendError):
            sender.send(_note("slack", slack={"secret_ref": "hook"}))
    finally:
        stub.stop()


def test_backoff_doubles_and_caps() -> None:
    from snowwatch.services.notifications import backoff_seconds

    s = NotifySettings(DATABASE_URL="postgresql://x@y/z")  # type: ignore[call-arg]
    assert [backoff_seconds(s, a) for a in (1, 2, 3, 10)] == [30, 60, 120, 900]
