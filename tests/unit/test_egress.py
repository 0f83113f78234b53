"""Issue 11 item 2: the egress policy (snowwatch.egress) on its own — URL checks, address checks on connect,
no redirects — against real sockets on loopback (a tiny HTTP server plays the hostile endpoint)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from uuid import uuid4

import pytest

from snowwatch import egress
from snowwatch.models.notifications import Notification
from snowwatch.notify import SendError
from snowwatch.notify.slack import SlackSender
from snowwatch.settings import NotifySettings

SLACK = egress.Policy(frozenset({"hooks.slack.com"}), frozenset())


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.slack.com/services/T/B/X",  # not https
        "https://hooks.slack.com.evil.example/services/T/B/X",  # look-alike host
        "https://evil.example/hooks.slack.com",
        "https://127.0.0.1/services",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/",
        "https://[::1]/",
        "https://user:pw@hooks.slack.com/services/T/B/X",  # user-info
        "https://hooks.slack.com:8443/services/T/B/X",  # another port
        "https://hooks.slack.com/services/T/B/X\r\nHost: evil",  # header injection
        "file:///etc/passwd",
        "gopher://hooks.slack.com/",
        "https://hooks.slack.com" + "/x" * 2000,
    ],
)
def test_urls_off_the_allow_list_are_refused(url: str) -> None:
    """Given a URL that is not https on an allowed host, when checked, then refused without echoing it."""
    with pytest.raises(egress.EgressRefusedError) as refused:
        egress.check_url(url, SLACK)
    assert "evil" not in refused.value.message and "169.254" not in refused.value.message


def test_an_allowed_https_url_passes() -> None:
    egress.check_url("https://hooks.slack.com/services/T000/B000/XXXX", SLACK)
    egress.check_url("https://HOOKS.SLACK.COM/services/T000/B000/XXXX", SLACK)


def test_a_host_resolving_to_a_private_address_is_refused_on_connect() -> None:
    """Given an allowed host name that resolves to loopback (DNS pointing inside), when connecting, then refused
    before any byte is sent."""
    policy = egress.Policy(frozenset({"localhost"}), frozenset())
    egress.check_url("https://localhost/x", policy)  # the name itself is allowed...
    with pytest.raises(egress.EgressRefusedError, match="private or reserved"):
        egress.opener(policy).open("https://localhost/x", timeout=2)  # ...its address is not


class _Hostile(BaseHTTPRequestHandler):
    hits = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        type(self).hits += 1
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        body = b"secret-internal-reply"
        self.send_response(500 if self.path == "/leaky" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_plain_http_to_loopback_is_refused_unless_exempt(hostile: str) -> None:
    """Given a local endpoint, when not listed as exempt, then no connection; when exempt (the local stub),
    then it answers."""
    closed = egress.Policy(frozenset({"hooks.slack.com"}), frozenset())
    with pytest.raises(egress.EgressRefusedError):
        egress.check_url(f"http://{hostile}/hook", closed)
    with pytest.raises(egress.EgressRefusedError):
        egress.opener(closed).open(urllib.request.Request(f"http://{hostile}/hook", data=b"{}"), timeout=2)
    exempt = egress.Policy(frozenset({"hooks.slack.com"}), frozenset({hostile}))
    egress.check_url(f"http://{hostile}/hook", exempt)
    with egress.opener(exempt).open(urllib.request.Request(f"http://{hostile}/hook", data=b"{}"), timeout=2) as r:
        assert r.status == 200


def test_redirects_are_not_followed(hostile: str) -> None:
    """Given an endpoint that redirects to the metadata service, when posted to, then the 302 surfaces as an
    error and nothing follows it."""
    exempt = egress.Policy(frozenset(), frozenset({hostile}))
    _Hostile.hits = 0
    with pytest.raises(urllib.error.HTTPError) as answer:
        egress.opener(exempt).open(urllib.request.Request(f"http://{hostile}/redirect", data=b"{}"), timeout=2)
    assert answer.value.code == 302 and _Hostile.hits == 1


def test_a_failed_delivery_keeps_the_status_and_a_fixed_reason_never_the_reply(hostile: str) -> None:
    """Given a webhook (an exempt local stub) that answers 500 with an internal body
    When the Slack sender delivers to it
    Then the failure says the status code and a reason from the fixed vocabulary, and nothing of the reply."""
    settings = NotifySettings.model_validate(
        {
            "DATABASE_URL": "postgresql://unused/x",
            "EGRESS_EXEMPT_HOSTS": hostile,
            "NOTIFY_SLACK_RETRY_BACKOFF_SECONDS": 0,
        }
    )
    sender = SlackSender(settings, read_secret=lambda ref, org: {"webhook_url": f"http://{hostile}/leaky"})
    notification = Notification(
        id=uuid4(), org_id=uuid4(), connector_id=uuid4(), source_type="budget_alert", source_id=uuid4(),
        channel="slack", recipients=[], payload={"slack": {"secret_ref": "ref"}, "budget_name": "b"},
        status="sending", attempts=1, dedupe_key="k", created_at=datetime.now(UTC),
    )  # fmt: skip
    with pytest.raises(SendError) as failure:
        sender.send(notification)
    assert str(failure.value) == "Slack webhook 500 error"
    assert "secret" not in str(failure.value) and "internal" not in str(failure.value)
