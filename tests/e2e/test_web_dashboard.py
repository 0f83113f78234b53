"""The dashboard in a real browser against the local stack over HTTP.

Debian's chromium driven by the npm package playwright-core (web/e2e/driver.mjs, one scenario per
run); pytest prepares everything (chromium from apt, `npm ci && npm run build` when web/dist is
missing or older than its sources), serves the stack over HTTP, runs a scenario and checks what the
browser saw against the API. Screenshots of each page land in docs/screenshots/.

The tests use their own organization (an admin token for org `web-e2e`) with their own connector,
synced from the same synthetic account, so resolving an alert or adding a budget never touches the
data other suites assert on; the connector is deleted at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from snowwatch_local.stack import LocalStack, new_private_key_pem

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
WEB_ADMIN = {"subject": "web-e2e-admin", "email": "admin@web-e2e.snowwatch.local", "org": "web-e2e", "role": "admin"}
WEB_MEMBER = {**WEB_ADMIN, "subject": "web-e2e-member", "email": "member@web-e2e.snowwatch.local", "role": "member"}
SEVERITIES = ("critical", "high", "medium", "low")


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
    """`npm ci` when node_modules is missing or older than the lock file; `npm run build` when web/dist is stale."""
    npm = shutil.which("npm")
    assert npm, "npm is needed to build the dashboard (Node 20+)"
    lock = WEB / "package-lock.json"
    installed = WEB / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    index = WEB / "dist" / "index.html"
    sources = [WEB / "src", WEB / "index.html", lock, WEB / "vite.config.ts", WEB / "tsconfig.json"]
    if not index.exists() or index.stat().st_mtime < _newest(sources):
        subprocess.run([npm, "run", "build"], cwd=WEB, check=True)


# ---------------------------------------------------------------- HTTP and the browser
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


def browse(
    web: dict[str, str], scenario: str, args: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    """Run one driver scenario; its RESULT line as a dict. A failing scenario fails the test with its log."""
    env = {
        **os.environ,
        "BASE_URL": web["base"],
        "TOKEN": token or web["token"],
        "SCREENSHOTS": str(SHOTS),
        "CHROMIUM": str(CHROMIUM),
    }
    cmd = ["node", "e2e/driver.mjs", scenario, json.dumps(args or {})]
    done = subprocess.run(cmd, cwd=WEB, env=env, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        pytest.fail(f"browser scenario {scenario} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line[len("RESULT ") :])
    assert result.pop("pageErrors") == [], "uncaught errors in the page"
    return result


@pytest.fixture(scope="module")
def server_for_browser(server: str) -> str:
    """The local server (API + web/dist); it serves one API call at a time like a warm Lambda instance and
    frees idle keep-alive connections, so a browser's parallel requests are served."""
    return server


@pytest.fixture(scope="module")
def web(stack: LocalStack, server_for_browser: str) -> Iterator[dict[str, str]]:
    """A built dashboard served with the API, a tenant of its own with a synced and extracted connector."""
    ensure_chromium()
    ensure_web_build()
    server = server_for_browser
    token = stack.token(WEB_ADMIN)
    status, created = http(
        server,
        "POST",
        "/api/connectors",
        token,
        {
            "name": "Web e2e account",
            "account_identifier": "fakesnow",
            "username": "SNOWWATCH",
            "warehouse": "SNOWWATCH_WH",
            "private_key": new_private_key_pem(),
        },
    )
    assert status == 201, created
    connector_id = str(created["id"])
    for job in ("sync", "security"):
        stack.run_job(job, connector_id=connector_id)
    try:
        yield {"base": server, "token": token, "connector_id": connector_id}
    finally:
        http(server, "DELETE", f"/api/connectors/{connector_id}", token)


def sec(web: dict[str, str], what: str) -> str:
    return f"/api/connectors/{web['connector_id']}/security/snowflake/{what}"


def open_alerts(web: dict[str, str], **query: str) -> list[dict[str, Any]]:
    qs = "&".join(f"{k}={v}" for k, v in {"status": "open", "limit": "499", **query}.items())
    status, page = http(web["base"], "GET", sec(web, "alerts") + "?" + qs, web["token"])
    assert status == 200, page
    items: list[dict[str, Any]] = page["items"]
    return items


# ---------------------------------------------------------------- the tests
def test_login_with_token_shows_security_summary(web: dict[str, str]) -> None:
    """Given the dashboard and a valid token,
    when a user pastes the token on the login page,
    then the security overview shows the open alerts per severity the API reports, and the token is kept
    in sessionStorage only."""
    seen = browse(web, "login")
    assert seen["tokenInSessionStorage"] is True
    assert seen["connector"] == web["connector_id"]
    assert "admin@web-e2e.snowwatch.local" in seen["whoami"]
    alerts = open_alerts(web)
    for severity in SEVERITIES:
        expected = sum(1 for a in alerts if a["severity"] == severity)
        assert seen["cards"][severity] == f"{expected:,}", (severity, seen["cards"])
    assert seen["cards"]["score"] not in (None, "—")
    assert seen["gauge"] not in (None, "no data")


def test_login_with_a_bad_token_is_refused(web: dict[str, str]) -> None:
    """Given the login page, when a wrong token is pasted, then the form says it was not accepted."""
    seen = browse(web, "bad_login")
    assert "not accepted" in seen["error"]


def test_filter_alerts_by_severity_status_and_rule(web: dict[str, str]) -> None:
    """Given open alerts of several severities,
    when the user filters by each severity, by status and by one rule,
    then the list shows exactly the API's alerts for that filter."""
    alerts = open_alerts(web)
    assert alerts, "the synthetic account plants security findings: expected open alerts"
    severities = sorted({a["severity"] for a in alerts})
    rule = alerts[0]["rule_id"]
    seen = browse(web, "filter_alerts", {"severities": severities, "statuses": ["open"], "rule": rule})
    for severity in severities:
        shown = seen["bySeverity"][severity]
        assert shown, severity
        assert {a["severity"] for a in shown} == {severity}
    assert {a["status"] for a in seen["byStatus"]["open"]} == {"open"}
    expected_rule = open_alerts(web, rule=rule)
    assert {a["id"] for a in seen["byRule"]} == {str(a["id"]) for a in expected_rule[:25]}


def test_resolve_an_alert_with_a_note_and_see_it_resolved(web: dict[str, str]) -> None:
    """Given an open alert,
    when an admin resolves it from the list (a note is required),
    then the list shows it resolved with the note, the overview's open count drops by one at once (the
    cached summary is corrected from the PUT's answer), and the API reads it back resolved."""
    note = "Rotated the password and enabled MFA (e2e)"
    seen = browse(web, "resolve_alert", {"note": note})
    assert "note is required" in seen["noteRequired"]
    assert seen["status"] == "resolved"
    assert note in seen["details"]
    if seen["severity"] in SEVERITIES:  # the overview's open count follows the resolve at once
        assert int(seen["countAfter"].replace(",", "")) == int(seen["countBefore"].replace(",", "")) - 1
    status, page = http(web["base"], "GET", sec(web, "alerts") + "?status=resolved&limit=498", web["token"])
    assert status == 200, page
    mine = [a for a in page["items"] if str(a["id"]) == seen["id"]]
    assert mine and mine[0]["status"] == "resolved"


def test_extract_now_shows_the_job_progress(web: dict[str, str]) -> None:
    """Given an admin on the security page, when they press "Extract now",
    then the page follows the job run until it has succeeded."""
    seen = browse(web, "extract")
    assert "succeeded" in seen["status"], seen


def test_create_a_budget_with_custom_emails_and_see_it_listed(web: dict[str, str]) -> None:
    """Given the budgets page,
    when an admin creates a monthly budget with two custom alert emails,
    then it is listed with those emails, the page says snowwatch never changes warehouses and that an
    empty list falls back to the org admins, and the API has stored the emails."""
    emails = ["finops@example.com", "data-lead@example.com"]
    seen = browse(web, "create_budget", {"name": "E2E monthly guardrail", "amount": 6000, "emails": emails})
    for email in emails:
        assert email in seen["text"]
    assert "never suspends" in seen["notice"]
    assert "admins" in seen["fallback"]
    status, page = http(web["base"], "GET", f"/api/connectors/{web['connector_id']}/budgets?limit=200", web["token"])
    assert status == 200, page
    stored = [b for b in page["items"] if b["name"] == "E2E monthly guardrail"]
    assert len(stored) == 1
    assert stored[0]["alert_emails"] == emails
    assert str(stored[0]["id"]) == seen["id"]


def test_a_member_sees_no_admin_actions(web: dict[str, str], stack: LocalStack) -> None:
    """Given a member of the same organization, when they open each page,
    then they see the data but no Extract now, Resolve, New budget, Edit or Run now buttons."""
    seen = browse(web, "member_view", token=stack.token(WEB_MEMBER))
    assert "member" in seen["whoami"]
    assert seen["extract"] == 0
    assert seen.get("resolve", 0) == 0
    assert seen.get("adminsOnly", True) is True
    assert seen["newBudget"] == 0
    assert seen["editBudget"] == 0
    assert seen["runNow"] == 0


def test_every_page_renders_without_errors_at_laptop_and_tablet_widths(web: dict[str, str], stack: LocalStack) -> None:
    """Given the synced tenant, when each page is opened at 1366 px and the main ones at 820 px,
    then no section shows an error, nothing overflows sideways, and a screenshot of each is saved."""
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
