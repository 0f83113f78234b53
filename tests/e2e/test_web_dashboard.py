"""The dashboard in a real browser against the local stack over HTTP.

Debian's chromium driven by the npm package playwright-core: ONE browser for the module
(web/e2e/driver.mjs reads one scenario a line and answers one RESULT line), a fresh context per
scenario. pytest prepares everything (chromium from apt, `npm ci && npm run build` when web/dist is
missing or older than its sources), serves the stack over HTTP, runs a scenario and checks what the
browser saw against the API. Screenshots of each page land in docs/screenshots/.

The tests use their own organization (an admin token for org `web-e2e`) with their own connectors, so
resolving an alert or adding a budget never touches the data other suites assert on. Their server runs
the stage cache at 1/30 of the route table's TTLs (alerts 6 s instead of 180 s): the dashboard re-reads
a stale section every 10 s until the cache answers fresh, so "after an extract the page shows the
server's state" is observed in seconds instead of minutes, through the same cache logic.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import os
import queue
import secrets
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from snowwatch_local.apigw import StageCache
from snowwatch_local.gateway import Gateway
from snowwatch_local.server import LocalServer
from snowwatch_local.stack import LocalStack, new_private_key_pem

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
WEB_ADMIN = {"subject": "web-e2e-admin", "email": "admin@web-e2e.snowwatch.local", "org": "web-e2e", "role": "admin"}
WEB_MEMBER = {**WEB_ADMIN, "subject": "web-e2e-member", "email": "member@web-e2e.snowwatch.local", "role": "member"}
SEVERITIES = ("critical", "high", "medium", "low")
TIMEZONE = "America/New_York"


# ---------------------------------------------------------------- what the tests need installed
def ensure_chromium() -> None:
    """Debian's chromium (the browser playwright-core drives); installed with apt when missing."""
    if CHROMIUM.exists():
        return
    install = ["apt-get", "install", "-y", "-q", "chromium"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(install, check=True)


def _newest(paths: list[Path]) -> float:
    files = [p for base in paths for p in ([base] if base.is_file() else base.rglob("*")) if p.is_file()]
    return max((p.stat().st_mtime for p in files), default=0.0)


def ensure_web_build() -> None:
    """`npm ci` when node_modules is missing or older than the lock file; `npm run build` when web/dist is
    older than its sources, the API description it is typed from (docs/openapi.json) included."""
    npm = shutil.which("npm")
    assert npm, "npm is needed to build the dashboard (Node 20+)"
    lock = WEB / "package-lock.json"
    installed = WEB / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    index = WEB / "dist" / "index.html"
    sources = [WEB / "src", WEB / "public", WEB / "scripts", WEB / "index.html", lock, WEB / "vite.config.ts"]
    sources += [WEB / "tsconfig.json", ROOT / "docs" / "openapi.json"]
    if not index.exists() or index.stat().st_mtime < _newest(sources):
        subprocess.run([npm, "run", "build"], cwd=WEB, check=True)


# ---------------------------------------------------------------- HTTP, the browser and a test IdP
def http(base: str, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as res:
            text = res.read().decode()
            return res.status, json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        text = err.read().decode()
        return err.code, json.loads(text) if text else None


class Browser:
    """The driver process: one chromium, one scenario at a time over stdin/stdout."""

    def __init__(self) -> None:
        env = {**os.environ, "SCREENSHOTS": str(SHOTS), "CHROMIUM": str(CHROMIUM)}
        self.proc = subprocess.Popen(
            ["node", "e2e/driver.mjs"],
            cwd=WEB,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._pump_errors, daemon=True).start()
        self.ids = itertools.count(1)
        assert self._next(60) == "READY", "the browser driver did not start:\n" + "".join(self.errors[-20:])

    @staticmethod
    def _pump(stream: Any, into: queue.Queue[str]) -> None:
        for line in stream:
            into.put(line.rstrip("\n"))

    def _pump_errors(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.errors.append(line)

    def _next(self, timeout: float) -> str:
        for _ in range(int(timeout)):
            try:
                return self.lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    pytest.fail("the browser driver died:\n" + "".join(self.errors[-30:]))
        pytest.fail("the browser driver did not answer in time:\n" + "".join(self.errors[-30:]))

    def run(self, base: str, token: str, scenario: str, args: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
        rid = next(self.ids)
        assert self.proc.stdin is not None
        request = {"id": rid, "scenario": scenario, "args": args, "token": token, "base": base}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self._next(timeout)
            if line.startswith("RESULT "):
                answer: dict[str, Any] = json.loads(line[len("RESULT ") :])
                if answer["id"] == rid:
                    break
        if not answer["ok"]:
            shot = answer.get("screenshot")
            pytest.fail(f"browser scenario {scenario} failed: {answer['error']}\nscreenshot: {shot}")
        assert answer["pageErrors"] == [], "uncaught errors in the page"
        result: dict[str, Any] = answer["result"]
        return result

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ShortTtlCache(StageCache):
    """The stage cache with every TTL divided by 30 (see the module docstring)."""

    def put(self, key: str, ttl: int, response: dict[str, Any], *args: Any) -> None:
        super().put(key, max(1, ttl // 30), response, *args)


class FakeIdp:
    """An OIDC provider for the browser: discovery, authorize (already signed in: redirects at once with a
    code), token (authorization_code with PKCE S256 checked, refresh_token), CORS for the dashboard."""

    def __init__(self, stack: LocalStack, ttl: int) -> None:
        self.stack, self.ttl = stack, ttl
        self.codes: dict[str, dict[str, str]] = {}
        self.grants: list[str] = []
        self.refuse_refresh = False
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: int, body: Any = None, location: str | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Type", "application/json")
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                q = {k: v[-1] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    endpoints = {"authorization_endpoint": f"{idp.url}/authorize", "token_endpoint": f"{idp.url}/token"}
                    self._send(200, {"issuer": idp.url, **endpoints})
                elif url.path == "/authorize":
                    assert q["response_type"] == "code" and q["code_challenge_method"] == "S256"
                    code = secrets.token_urlsafe(16)
                    idp.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"]}
                    self._send(302, location=f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}")
                else:
                    self._send(404, {"error": "not_found"})

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if url.path == "/refuse-refresh":
                    idp.refuse_refresh = True
                    self._send(204)
                    return
                grant = form.get("grant_type", "")
                idp.grants.append(grant)
                if grant == "authorization_code":
                    pending = idp.codes.pop(form.get("code", ""), None)
                    digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                    challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
                    same_redirect = pending is not None and pending["redirect_uri"] == form.get("redirect_uri")
                    if not pending or pending["challenge"] != challenge or not same_redirect:
                        self._send(400, {"error": "invalid_grant"})
                        return
                elif grant != "refresh_token" or idp.refuse_refresh:
                    self._send(400, {"error": "invalid_grant"})
                    return
                token = idp.stack.token(WEB_ADMIN, ttl_seconds=idp.ttl)
                refresh = secrets.token_urlsafe(16)
                self._send(
                    200, {"id_token": token, "access_token": token, "refresh_token": refresh, "expires_in": idp.ttl}
                )

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ensure_chromium()
    ensure_web_build()
    b = Browser()
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def server_for_browser(stack: LocalStack) -> Iterator[str]:
    """The local server (API + web/dist) with the short-TTL stage cache."""
    local = LocalServer(Gateway(cache=ShortTtlCache()), port=0).start()
    try:
        yield local.url
    finally:
        local.stop()


def new_connector(base: str, token: str, name: str, **extra: Any) -> str:
    body = {
        "name": name,
        "account_identifier": "fakesnow",
        "username": "SNOWWATCH",
        "warehouse": "SNOWWATCH_WH",
        "private_key": new_private_key_pem(),
        **extra,
    }
    status, created = http(base, "POST", "/api/connectors", token, body)
    assert status == 201, created
    return str(created["id"])


@pytest.fixture(scope="module")
def web(stack: LocalStack, server_for_browser: str, browser: Browser) -> Iterator[dict[str, Any]]:
    """A built dashboard served with the API, a tenant of its own with a synced and extracted connector
    (in New York time) and a second, empty connector."""
    server = server_for_browser
    token = stack.token(WEB_ADMIN)
    connector_id = new_connector(server, token, "Web e2e account", timezone=TIMEZONE)
    second_id = new_connector(server, token, "Web e2e second account")
    for job in ("sync", "security"):
        stack.run_job(job, connector_id=connector_id)
    try:
        yield {"base": server, "token": token, "connector_id": connector_id, "second_id": second_id, "browser": browser}
    finally:
        for cid in (connector_id, second_id):
            http(server, "DELETE", f"/api/connectors/{cid}", token)


def browse(
    web: dict[str, Any], scenario: str, args: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    b: Browser = web["browser"]
    return b.run(web["base"], token or web["token"], scenario, {"connector": web["connector_id"], **(args or {})})


def sec(web: dict[str, Any], what: str) -> str:
    return f"/api/connectors/{web['connector_id']}/security/snowflake/{what}"


def alerts(web: dict[str, Any], **query: str) -> list[dict[str, Any]]:
    qs = "&".join(f"{k}={v}" for k, v in {"limit": "497", **query}.items())
    status, page = http(web["base"], "GET", sec(web, "alerts") + "?" + qs, web["token"])
    assert status == 200, page
    items: list[dict[str, Any]] = page["items"]
    return items


def searchable(a: dict[str, Any]) -> str:
    """What the alert search looks in (web/src/format.ts `matches`)."""
    return " ".join([a["rule_id"], a["title"], a["subject"]]).lower().replace("_", " ")


def in_default_range(a: dict[str, Any]) -> bool:
    """Seen in the last 30 UTC days (the security page's default range)."""
    start = (datetime.now(UTC).date() - timedelta(days=29)).isoformat()
    return a["last_seen_at"][:10] >= start or a["first_seen_at"][:10] >= start


# ---------------------------------------------------------------- sign-in
def test_login_with_token_shows_security_summary(web: dict[str, Any]) -> None:
    """Given the dashboard and a valid token,
    when a user pastes the token on the sign-in page and opens Security,
    then the overview shows the open alerts per severity the API reports, the URL names the connector,
    and the token is kept in sessionStorage only."""
    seen = browse(web, "login")
    assert seen["tokenInSessionStorage"] is True
    assert seen["connector"] == web["connector_id"]
    assert seen["url"].startswith(f"/connectors/{web['connector_id']}/security")
    assert "admin@web-e2e.snowwatch.local" in seen["whoami"]
    open_ = alerts(web, status="open")
    for severity in SEVERITIES:
        expected = sum(1 for a in open_ if a["severity"] == severity)
        assert seen["cards"][severity] == f"{expected:,}", (severity, seen["cards"])
    assert seen["cards"]["score"] not in (None, "—")
    assert seen["gauge"] not in (None, "no data")


def test_login_with_a_bad_token_is_refused(web: dict[str, Any]) -> None:
    """Given the sign-in page, when a wrong token is pasted, then the form says it was not accepted."""
    seen = browse(web, "bad_login")
    assert "not accepted" in seen["error"]


def test_oidc_sign_in_with_pkce_renews_and_an_expired_session_keeps_the_url(
    web: dict[str, Any], stack: LocalStack
) -> None:
    """Given a runtime config naming an OIDC provider (the test IdP) and tokens that live 8 seconds,
    when a user opens a deep link, signs in, and stays past a token's lifetime,
    then the code flow with PKCE lands on that link, the token is renewed before it expires (the user stays
    signed in), and once the IdP refuses renewals the page returns to sign-in on the same URL, and
    signing in again continues there."""
    idp = FakeIdp(stack, ttl=8)
    try:
        auth = {"mode": "oidc", "issuer": idp.url, "client_id": "snowwatch-web", "api_token": "id_token"}
        seen = browse(web, "oidc", {"auth": auth, "idp": idp.url, "ttl": idp.ttl})
    finally:
        idp.stop()
    cid = web["connector_id"]
    assert seen["landed"] == f"/connectors/{cid}/cost?days=7"
    assert seen["afterRenewal"] == {"url": f"/connectors/{cid}/budgets", "signedIn": True}
    assert idp.grants[0] == "authorization_code" and "refresh_token" in idp.grants
    assert seen["expired"]["url"] == seen["expired"]["before"] == f"/connectors/{cid}/budgets"
    assert seen["back"] == f"/connectors/{cid}/budgets"


def test_a_lapsed_token_returns_to_sign_in_keeping_the_url(web: dict[str, Any], stack: LocalStack) -> None:
    """Given a pasted token that expires in a few seconds, on a filtered page,
    when it lapses, then the page says the session expired and shows sign-in on the same URL, and after
    signing in again the same page and filters are back."""
    short = stack.token(WEB_ADMIN, ttl_seconds=6)
    seen = browse(web, "token_expiry", {"fresh": web["token"]}, token=short)
    assert "expired" in seen["message"]
    assert seen["before"] == seen["during"] == seen["after"]
    assert "severity=high" in seen["after"] and seen["severity"] == "high"


# ---------------------------------------------------------------- URL state and deep links
def test_alert_filters_search_and_sort_live_in_the_url(web: dict[str, Any]) -> None:
    """Given alerts of several severities,
    when the user filters by each severity and by status, searches one word of a rule id, and sorts by title,
    then the list shows exactly the API's alerts for each filter, the word finds every alert whose rule id or
    title holds it, the URL carries every choice, and a reload shows the same list."""
    every = alerts(web)
    assert every, "the synthetic account plants security findings: expected alerts"
    severities = sorted({a["severity"] for a in every})
    word = next(a["rule_id"] for a in every if "_" in a["rule_id"]).split("_")[0]
    seen = browse(web, "filter_alerts", {"severities": severities, "search": word})
    for severity in severities:
        assert {a["id"] for a in seen["bySeverity"][severity]} <= {a["id"] for a in every if a["severity"] == severity}
        assert {a["severity"] for a in seen["bySeverity"][severity]} == {severity}
    assert {a["status"] for a in seen["byStatus"]["open"]} == {"open"}
    expected = [a for a in alerts(web, status="open") if in_default_range(a) and word in searchable(a)]
    assert len(seen["bySearch"]) == min(25, len(expected)) and seen["bySearch"]
    assert all(word in (a["rule"] + " " + a["title"].lower()) for a in seen["bySearch"])
    assert f"alerts.q={word}" in seen["url"] and "status" not in seen["url"]  # open is the default
    assert seen["afterReload"] == seen["bySearch"] and seen["searchAfterReload"] == word
    assert seen["sortedTitles"] == sorted(seen["sortedTitles"], key=str.lower)
    assert "alerts.sort=title" in seen["sortUrl"]


def test_an_alert_email_link_opens_that_alert_on_its_connector(web: dict[str, Any], db: Any) -> None:
    """Given the notification the security job wrote for an alert,
    when its email is rendered and its link opened in the browser,
    then the page is that connector's Security page with that alert opened and in view."""
    from snowwatch.models.notifications import Notification
    from snowwatch.notify.render import render
    from snowwatch.repositories import notifications as outbox

    row = db.run(
        "SELECT id FROM enterprise.notifications WHERE connector_id = :c AND source_type = 'security_alert' "
        "AND channel = 'email' ORDER BY created_at LIMIT 1",
        c=web["connector_id"],
    )
    assert row, "the security job writes an email notification for each critical or high alert"
    note = Notification.model_validate(outbox.get(db, row[0][0]))
    email = render(note, web["base"])
    assert email.link in email.text and html.escape(email.link) in email.html
    seen = browse(web, "open_link", {"link": email.link, "alert": note.payload["alert_id"], "shot": "deep-link-alert"})
    assert seen["connector"] == web["connector_id"]
    assert seen["url"].startswith(f"/connectors/{web['connector_id']}/security?alert={note.payload['alert_id']}")
    assert seen["expanded"] == "true" and seen["inView"] is True
    assert seen["title"] == note.payload["title"]


def test_a_budget_email_link_for_a_second_connector_opens_that_budget(web: dict[str, Any]) -> None:
    """Given a budget on the org's second connector and its alert email (rendered from the payload
    budget_check writes),
    when the link is opened, then the page is the second connector's Budgets page with that budget opened
    (not the first connector, not the Security page)."""
    from snowwatch.models.notifications import Notification
    from snowwatch.notify.render import render

    second = web["second_id"]
    body = {"name": "Second account guardrail", "amount": 900}
    status, budget = http(web["base"], "POST", f"/api/connectors/{second}/budgets", web["token"], body)
    assert status == 201, budget
    payload = {
        "budget_name": budget["name"],
        "connector_name": "Web e2e second account",
        "period": "monthly",
        "threshold": {"type": "percent", "value": 80, "basis": "actual"},
        "kind": "actual",
        "percent": 81,
        "dashboard_path": f"/connectors/{second}/budgets/{budget['id']}",  # as repositories/budgets.py writes it
    }
    now = datetime.now(UTC)
    note = Notification.model_validate(
        {
            "id": budget["id"], "org_id": budget["id"], "connector_id": second, "source_type": "budget_alert",
            "source_id": budget["id"], "channel": "email", "recipients": ["a@example.com"], "payload": payload,
            "status": "sending", "attempts": 1, "dedupe_key": "k", "created_at": now,
        }
    )  # fmt: skip
    link = render(note, web["base"]).link
    seen = browse(web, "open_link", {"link": link, "budget": budget["id"], "shot": "deep-link-budget"})
    assert seen["connector"] == second
    assert seen["url"] == f"/connectors/{second}/budgets/{budget['id']}"
    assert seen["heading"] == "Budget guardrails"
    assert seen["selected"] == "true" and seen["name"] == "Second account guardrail"


# ---------------------------------------------------------------- state stays true after actions
def test_resolve_then_extract_shows_the_alert_reopened_with_its_history(web: dict[str, Any]) -> None:
    """Given an open alert whose condition still holds (a password user without MFA),
    when an admin resolves it with a note (the note is required), then presses Extract now,
    then right after the resolve the alert shows resolved with the note and its severity's open count is
    one lower; after the extract the page re-reads until the server's answer is fresh and shows the alert
    open again, reopened once, with the earlier resolution and note, and the count the API reports."""
    target = next(a for a in alerts(web, status="open") if a["rule_id"] == "mfa_password_user")
    note = "Asked the user to enrol MFA (e2e)"
    args = {"alert": target["id"], "rule": target["rule_id"], "severity": target["severity"], "note": note}
    seen = browse(web, "resolve_and_extract", args)
    assert "note is required" in seen["noteRequired"]
    assert int(seen["afterResolve"]["count"]) == int(seen["countBefore"]) - 1
    assert note in seen["afterResolve"]["history"]
    assert "succeeded" in seen["extract"]
    assert seen["status"] == "open" and seen["reopenedCount"] == "1"
    assert "reopened 1×" in seen["history"] and note in seen["history"] and "Last resolved" in seen["history"]
    server = [a for a in alerts(web, status="open") if a["severity"] == target["severity"]]
    assert seen["countAfter"] == f"{len(server):,}"


# ---------------------------------------------------------------- budgets and forms
def test_create_a_budget_with_custom_emails_and_see_it_listed(web: dict[str, Any]) -> None:
    """Given the budgets page,
    when an admin creates a monthly budget with two custom alert emails,
    then it is listed and opened (its URL names it) with those emails, the page says snowwatch never changes
    warehouses and that an empty list falls back to the org admins, and the API has stored the emails."""
    emails = ["finops@example.com", "data-lead@example.com"]
    seen = browse(web, "create_budget", {"name": "E2E monthly guardrail", "amount": 6000, "emails": emails})
    for email in emails:
        assert email in seen["text"]
    assert "never suspends" in seen["notice"]
    assert "admins" in seen["fallback"]
    status, page = http(web["base"], "GET", f"/api/connectors/{web['connector_id']}/budgets?limit=200", web["token"])
    assert status == 200, page
    stored = [b for b in page["items"] if b["name"] == "E2E monthly guardrail"]
    assert len(stored) == 1 and stored[0]["alert_emails"] == emails
    assert str(stored[0]["id"]) == seen["id"]
    assert seen["url"].endswith(f"/budgets/{seen['id']}")


def test_add_a_connector_beside_its_snowflake_setup(web: dict[str, Any]) -> None:
    """Given an admin on the dashboard
    When they open "Add connector", rename the role, submit a malformed account identifier, fix it and submit
    Then the Snowflake setup (docs/snowflake-setup.md) follows the form's role name with a Copy button per
    step, the server's 422 sits on the account field, and the created connector's page shows its details
    and its setup; the API has it, in this org."""
    name = "E2E added account"
    seen = browse(
        web,
        "add_connector",
        {"name": name, "role": "FINOPS_READER", "account": "ACME-E2E", "key": new_private_key_pem()},
    )
    try:
        assert "GRANT DATABASE ROLE SNOWFLAKE.USAGE_VIEWER" in seen["before"] and "SNOWWATCH_READER" in seen["before"]
        assert "TO ROLE FINOPS_READER" in seen["after"] and "SNOWWATCH_READER" not in seen["after"]
        assert "CREATE USER IF NOT EXISTS SNOWWATCH" in seen["after"]
        assert seen["copyButtons"] >= 5
        assert seen["refused"]["invalid"] == "true" and "ORGNAME-ACCOUNTNAME" in seen["refused"]["text"]
        assert seen["violations"] == []
        created = seen["picker"]
        assert seen["url"] == f"/connectors/{created}/connector"
        assert name in seen["details"] and "ACME-E2E" in seen["details"] and "not synced yet" in seen["details"]
        assert "TO ROLE FINOPS_READER" in seen["setup"]
        status, body = http(web["base"], "GET", f"/api/connectors/{created}", web["token"])
        assert status == 200 and body["name"] == name and body["role_name"] == "FINOPS_READER"
    finally:
        status, page = http(web["base"], "GET", "/api/connectors?limit=500", web["token"])
        for c in page["items"]:
            if c["name"] == name:
                http(web["base"], "DELETE", f"/api/connectors/{c['id']}", web["token"])


def test_budget_form_errors_sit_next_to_their_fields(web: dict[str, Any]) -> None:
    """Given the new-budget form,
    when it is sent with no name and no amount, then each field is marked with its own message;
    when the server answers 422 (an amount over its maximum, a 5000% threshold in the second row),
    then the amount shows the server's detail under it, the second threshold row is marked and named
    "Threshold 2", and no raw validator text is shown."""
    seen = browse(web, "budget_form_errors", {"name": "Too big (e2e)"})
    assert seen["local"]["name"] == {"invalid": "true", "text": "Give the budget a name."}
    assert seen["local"]["amount"]["invalid"] == "true" and "positive" in seen["local"]["amount"]["text"]
    assert seen["server"]["amount"] == {"invalid": "true", "text": "Must be at most 1,000,000,000,000."}
    assert "Threshold 2" in seen["server"]["threshold"] and "at most 1000" in seen["server"]["threshold"]
    assert seen["server"]["thresholdInvalid"] == "true"
    assert "Threshold 2:" in seen["server"]["summary"] and "Value error" not in seen["server"]["summary"]


def test_a_member_sees_no_admin_actions(web: dict[str, Any], stack: LocalStack) -> None:
    """Given a member of the same organization, when they open each page,
    then they see the data but no Extract now, Resolve, New budget, Edit or Run now buttons."""
    seen = browse(web, "member_view", token=stack.token(WEB_MEMBER))
    assert "member" in seen["whoami"]
    assert seen["extract"] == 0
    assert seen.get("resolve", 0) == 0
    assert seen.get("adminsOnly", True) is True
    assert seen["newBudget"] == 0 and seen["editBudget"] == 0
    assert seen["runNow"] == 0


# ---------------------------------------------------------------- jobs
def test_jobs_page_has_a_connector_column_and_the_summary_agrees_with_the_list(web: dict[str, Any]) -> None:
    """Given the jobs page filtered to one connector,
    when an admin runs the security job for it,
    then the page follows the run until it ends, the jobs table's last run and the newest run in the list
    agree (neither says running), and the list names each run's connector."""
    seen = browse(web, "jobs", {"job": "security"})
    assert any(h.startswith("Connector") for h in seen["header"])
    assert f"connector={web['connector_id']}" in seen["url"]
    newest = next(r for r in seen["runs"] if r[0] == "security")
    assert newest[1] == "Web e2e account"
    status = newest[2].split()[0]
    assert status in ("succeeded", "partial") and status in seen["last"] and "running" not in seen["last"]


# ---------------------------------------------------------------- charts, units and time zones
def test_failed_logins_chart_spans_its_window_and_sums_to_its_total(web: dict[str, Any]) -> None:
    """Given failed logins in the synthetic account,
    when the security page's range is one day,
    then the chart has one bar per hour of that day, its total equals the stated count (the API's count for
    that window), its axis names the unit and time zone, and no two axis labels overlap."""
    today = datetime.now(UTC).date()
    day = today.isoformat()
    seen = browse(web, "failed_logins", {"day": day})
    start, end = f"{day}T00:00:00Z", f"{today + timedelta(days=1)}T00:00:00Z"
    status, page = http(
        web["base"], "GET", sec(web, "login-history") + f"?success=false&start={start}&end={end}&limit=1", web["token"]
    )
    assert status == 200, page
    assert seen["total"].startswith(f"{page['total']:,} failed logins from {day} to {day}")
    if page["total"]:
        assert seen["bars"] == 24
        assert f"total {page['total']:,}" in seen["summary"].replace(".0 ", " ")
        assert seen["unit"] == "failed logins per hour (UTC)"
    bottom = max((x["top"] for x in seen["labels"]), default=0)
    xs = [lab for lab in seen["labels"] if lab["top"] == bottom]
    for a, b in itertools.pairwise(sorted(xs, key=lambda x: x["left"])):
        assert a["right"] <= b["left"], (a, b)


def test_units_time_zones_and_one_range_for_every_block(web: dict[str, Any]) -> None:
    """Given the cost page with a custom range,
    when it loads, then every ranged block asks the API for exactly that range, the charts name their units,
    the range names the connector's time zone, and the footer no longer claims everything is UTC."""
    seen = browse(web, "units", {"from": "2026-10-01", "to": "2026-10-31"})
    blocks = ("overview", "daily", "warehouses", "waste", "storage", "queries", "users", "anomalies")
    ranged = [u for u in seen["requests"] if any(f"/cost/{w}?" in u for w in blocks)]
    assert len({u.split("/cost/")[1].split("?")[0] for u in ranged}) == 8
    assert all("start=2026-10-01" in u and "end=2026-10-31" in u for u in ranged)
    assert TIMEZONE in seen["zone"]
    assert all(seen["units"]) and any(u.startswith("credits per day") and TIMEZONE in u for u in seen["units"])
    assert "UTC" not in seen["footer"]


def test_cost_headline_equals_the_sum_of_its_rows_and_the_api(web: dict[str, Any]) -> None:
    """Given the cost page with a custom range, when it loads, then the billed headline shows the API's overview for
    that range, and its service-type rows (and its top warehouses, against the warehouses' total) add up to it to the
    cent. Before: the month-to-date card ignored the range and its rows (credits used) summed to more."""
    today = datetime.now(UTC).date()
    start = today - timedelta(days=20)
    seen = browse(web, "costHeadline", {"from": start.isoformat(), "to": today.isoformat()})
    path = f"/api/connectors/{web['connector_id']}/cost/overview?start={start}&end={today}"
    status, api = http(web["base"], "GET", path, web["token"])
    assert status == 200, api
    assert Decimal(seen["amount"]) == Decimal(str(api["amount"]))
    assert Decimal(seen["credits"]) == Decimal(str(api["credits_billed"]))
    assert seen["services"] and sum(Decimal(a) for a in seen["services"]) == Decimal(seen["amount"])
    assert sum(Decimal(a) for a in seen["warehouses"]) == Decimal(str(api["warehouses"]["amount"]))


def test_org_home_total_equals_the_sum_of_its_connectors(web: dict[str, Any]) -> None:
    """Given the org home, when it loads, then it lists every connector of the org from GET /api/org/overview and
    its month-to-date total equals the sum of the connectors' rows and the API's total."""
    seen = browse(web, "orgHome")
    status, api = http(web["base"], "GET", "/api/org/overview?limit=500", web["token"])
    assert status == 200, api
    assert Decimal(seen["credits"]) == Decimal(str(api["totals"]["month_to_date_credits"]))
    assert len(seen["rows"]) == api["page"]["total"] == len(seen["names"])
    assert sum(Decimal(c) for c in seen["rows"]) == Decimal(seen["credits"])


# ---------------------------------------------------------------- phone, accessibility, screenshots
def test_phone_accessibility_contrast_and_dark_mode(web: dict[str, Any]) -> None:
    """Given every page at 390 px,
    then nothing scrolls sideways, Sign out is on screen, alert titles keep their width, axe-core finds no
    serious or critical violation; every Details and Export button has its own name; the focus ring is at
    least 3:1 against the panel and the top bar and badge text at least 4.5:1; and with the system in dark
    mode the page is dark and still passes axe."""
    seen = browse(web, "a11y")
    for name, page in seen["pages"].items():
        assert page["overflow"] <= 0, (name, page)
        assert page["signOutRight"] is not None and page["signOutRight"] <= 390, (name, page)
        assert page["axe"] == [], (name, page["axe"])
    assert seen["titleWidths"] and min(seen["titleWidths"]) >= 250
    names = seen["detailsNames"]
    assert len(names) == len(set(names)) and all(n.startswith("Details: ") for n in names)
    assert len(seen["exportNames"]) == len(set(seen["exportNames"]))
    assert seen["contrast"]["focusOnPanel"] >= 3 and seen["contrast"]["focusOnTopbar"] >= 3
    for key, ratio in seen["contrast"].items():
        if key.startswith("badge_"):
            assert ratio >= 4.5, (key, ratio)
    r, g, b = (int(x) for x in seen["dark"]["background"].split("(")[1].split(")")[0].split(",")[:3])
    assert max(r, g, b) < 60, seen["dark"]
    assert seen["dark"]["axe"] == []


def test_every_page_renders_without_errors_at_laptop_and_tablet_widths(web: dict[str, Any], stack: LocalStack) -> None:
    """Given the synced tenant with a fired budget, when each page is opened at 1366 px and the main ones
    at 820 px, then no section shows an error, nothing overflows sideways, and a screenshot of each is saved."""
    status, body = http(
        web["base"],
        "POST",
        f"/api/connectors/{web['connector_id']}/budgets",
        web["token"],
        {
            "name": "Ad-hoc warehouse (e2e)",
            "scope_type": "warehouses",
            "warehouses": ["ADHOC_WH"],
            "amount": 1500,
            "thresholds": [{"type": "percent", "value": 50}, {"type": "percent", "value": 100}],
            "alert_emails": ["adhoc-owner@example.com"],
        },
    )
    assert status == 201, body
    for job in ("budget_check", "snapshot", "notify"):
        stack.run_job(job, connector_id=web["connector_id"])
    seen = browse(web, "screenshots")
    assert seen["problems"] == []
    for path in seen["taken"]:
        assert Path(path).stat().st_size > 10_000


# ---------------------------------------------------------------- investigations (issue 15)
def test_an_alert_opens_the_timeline_of_its_sign_in(web: dict[str, Any]) -> None:
    """Given CAROL's exfiltration-chain alert, when its details are open and the timeline link of her password
    sign-in is followed, then the timeline shows the login (user, IP, client, single factor), the three queries
    of her session with the stage steps flagged, the other logins from the IP, and the alert's own history;
    the login is in the URL."""
    from snowwatch_local.synthetic.security import STORY_LOGIN

    target = next(a for a in alerts(web, status="open") if a["rule_id"] == "exfiltration_chain")
    seen = browse(web, "timeline_from_alert", {"alert": target["id"], "rule": target["rule_id"], "login": STORY_LOGIN})
    assert f"login={STORY_LOGIN}" in seen["url"]
    assert "CAROL_ANALYST" in seen["login"] and "198.51.100.7" in seen["login"] and "single factor" in seen["login"]
    assert seen["flagged"] == "3" and len(seen["queries"]) == 3
    assert "unload to a stage" in seen["queries"][1] and "COPY INTO @tmp_exfil" in seen["queries"][1]
    status, api_view = http(web["base"], "GET", sec(web, f"logins/{STORY_LOGIN}/timeline"), web["token"])
    assert status == 200 and len(seen["sameIp"]) == len(api_view["same_ip_logins"]) == 2
    assert "opened" in seen["history"]


def test_an_incident_lists_its_alerts_and_is_acknowledged(web: dict[str, Any]) -> None:
    """Given CAROL's incident (five related alerts), when it is opened, then its alerts and history show, and an
    admin's acknowledgement appears in its history and through the API."""
    status, page = http(web["base"], "GET", sec(web, "incidents") + "?limit=200", web["token"])
    assert status == 200
    carol = next(i for i in page["items"] if "user:CAROL_ANALYST" in i["keys"] and i["alert_count"] == 5)
    seen = browse(web, "incident", {"incident": carol["id"]})
    assert len(seen["alerts"]) == 5 and any("password_spraying" in a for a in seen["alerts"])
    assert "Acknowledged by" in seen["history"]
    status, detail = http(web["base"], "GET", sec(web, f"incidents/{carol['id']}"), web["token"])
    assert detail["status"] == "acknowledged"


def test_authentication_posture_panel_agrees_with_the_api(web: dict[str, Any]) -> None:
    """Given the posture filtered to blocked users, then the three counts equal the API's, every row is blocked,
    and SVC_LEGACY's row carries its fix (SET TYPE = SERVICE)."""
    status, body = http(web["base"], "GET", sec(web, "authentication-posture") + "?limit=500", web["token"])
    assert status == 200
    seen = browse(web, "posture")
    assert (seen["blocked"], seen["atRisk"], seen["ready"]) == tuple(
        f"{body['counts'][k]:,}" for k in ("blocked", "at_risk", "ready")
    )
    assert len(seen["rows"]) == min(15, body["counts"]["blocked"])
    assert all(r.lower().startswith("blocked") for r in seen["rows"])
    legacy = next(r for r in seen["rows"] if "SVC_LEGACY" in r)
    assert "SET TYPE = SERVICE" in legacy


# ---------------------------------------------------------------- large accounts (issue 14)
def test_jobs_page_shows_live_progress_of_a_running_sync(web: dict[str, Any], db: Any) -> None:
    """Given a sync running for the connector, committing windows (its progress moves, as the extraction writes
    it after each window), when the jobs page is open, then the run shows windows done and left, rows and the
    date reached, and the page follows it (the text changes without a reload)."""
    import threading

    from snowwatch.repositories import jobs as jobs_repo

    cid = web["second_id"]
    run_id = db.run(
        """INSERT INTO enterprise.job_runs (job, connector_id, org_id, trigger, mode, status, started_at, heartbeat_at)
           SELECT 'sync', id, org_id, 'manual', 'full', 'running', now(), now() FROM enterprise.connectors
           WHERE id = CAST(:c AS uuid) RETURNING id""",
        c=cid,
    )[0][0]
    stop = threading.Event()

    def windows() -> None:  # the running extraction, one committed window at a time
        from snowwatch.db import connect
        from snowwatch.settings import JobSettings, get_settings

        conn = connect(get_settings(JobSettings))
        done = 0
        while not stop.wait(0.4):
            done += 1
            progress = {"windows_done": done, "windows_left": 90 - done, "rows": done * 1000, "view": "QUERY_HISTORY",
                        "reached": f"2026-01-{done % 28 + 1:02d}T00:00:00+00:00"}  # fmt: skip
            jobs_repo.set_progress(conn, run_id, progress)
        conn.close()

    beat = threading.Thread(target=windows, daemon=True)
    beat.start()
    try:
        seen = browse(web, "run_progress", {"connector": cid})
    finally:
        stop.set()
        beat.join(5)
        db.run("UPDATE enterprise.job_runs SET status = 'succeeded', finished_at = now() WHERE id = :i", i=run_id)
    assert "windows done" in seen["during"] and "left" in seen["during"] and "rows" in seen["during"]
    assert "reached" in seen["during"] and "QUERY_HISTORY" in seen["during"]
    assert seen["later"] != seen["during"]


def test_connector_page_shows_what_the_role_can_read_and_the_grant_that_fixes_it(
    web: dict[str, Any], stack: LocalStack
) -> None:
    """Given a connector whose role cannot read WAREHOUSE_LOAD_HISTORY (its last sync ended partial), when its
    connector page is open, then the access check lists that view as unreadable with what it powers and the exact
    grant, the readable views as readable, and the same grant as the API's /access."""
    from tests.integration.test_sync_scale import hidden

    cid = web["second_id"]
    with hidden(stack, "WAREHOUSE_LOAD_HISTORY"):
        assert stack.run_job("sync", connector_id=cid)["status"] == "partial"
    seen = browse(web, "connector_access", {"connector": cid})
    status, access = http(web["base"], "GET", f"/api/connectors/{cid}/access", web["token"])
    assert status == 200
    rows = {r[0]: r for r in seen["rows"]}
    wlh = rows["SNOWFLAKE.ACCOUNT_USAGE.WAREHOUSE_LOAD_HISTORY"]
    assert wlh[1] == "unreadable" and "warehouse load" in wlh[2] and wlh[3] == "SNOWFLAKE.USAGE_VIEWER"
    grant = "GRANT DATABASE ROLE SNOWFLAKE.USAGE_VIEWER TO ROLE SNOWWATCH_READER;"
    assert access["missing_grants"] == [wlh[4]] == [grant]
    assert rows["SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY"][1] == "readable"
    assert "Some views cannot be read" in seen["text"]
