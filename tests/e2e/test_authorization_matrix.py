"""The authorization matrix, generated from the route table.

Every route × {no token, malformed token, expired token, wrongly signed token, another org's caller, a
member on an admin route}: the status is right and no foreign data appears. Every id in a path is one that
exists (a demo-org budget, alert and run), so a missing ownership check shows up as a leak, not as a 404
for an id that was never there. References inside request bodies (a connector id, a secret reference) and
foreign ids under the caller's own connector are covered too. Runs over real HTTP against the local server
(authorizer, gateway emulation, API handler).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import jwt
import pytest

from snowwatch import routes as route_table
from snowwatch_local.stack import ADMIN, MEMBER, OTHER_ADMIN
from tests.conftest import count

pytestmark = pytest.mark.e2e

SAMPLE_BODY: dict[str, object] = {}
PROTECTED = [r for r in route_table.ROUTES if r.auth != "public"]


def _call(base: str, method: str, path: str, token: str | None, body: Any = SAMPLE_BODY) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if method in ("POST", "PUT", "PATCH") else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _token(stack: Any, **changes: object) -> str:
    body = {"sub": ADMIN["subject"], "email": ADMIN["email"], "org": ADMIN["org"], "role": "admin"}
    return jwt.encode({**body, "exp": int(time.time()) + 600, **changes}, stack.jwt_secret, algorithm="HS256")


@pytest.fixture(scope="module")
def tokens(stack) -> dict[str, str | None]:
    return {
        "none": None,
        "malformed": "not-a-jwt",
        "expired": _token(stack, exp=int(time.time()) - 3600),
        "wrong_signature": jwt.encode(
            {"sub": "x", "email": "x@y.z", "org": "demo", "role": "admin", "exp": int(time.time()) + 600},
            "another-secret-entirely-32-bytes!",
            algorithm="HS256",
        ),
        "admin": stack.token(ADMIN),
        "other_org": stack.token(OTHER_ADMIN),
        "member": stack.token(MEMBER),
    }


@pytest.fixture(scope="module")
def demo_ids(server, stack, db, tokens) -> dict[str, str]:
    """Ids that exist in the demo org: its connector, a budget, a security alert, a login event, an incident,
    a cost finding, a job run."""
    cid = str(stack.connector_id)
    status, body = _call(server, "POST", f"/api/connectors/{cid}/budgets", tokens["admin"],
                         {"name": "matrix budget", "amount": 100})  # fmt: skip
    assert status in (201, 409), body
    budget = db.run("SELECT id FROM enterprise.snowflake_budgets WHERE connector_id = :c LIMIT 1", c=stack.connector_id)
    if not db.run("SELECT 1 FROM enterprise.snowflake_security_alerts WHERE connector_id = :c", c=stack.connector_id):
        assert stack.run_job("security", connector_id=cid)["status"] == "succeeded"
    alert = db.run("SELECT id FROM enterprise.snowflake_security_alerts WHERE connector_id = :c LIMIT 1", c=cid)
    run = db.run("SELECT id FROM enterprise.job_runs WHERE connector_id = :c LIMIT 1", c=stack.connector_id)
    incident = db.run("SELECT id FROM enterprise.snowflake_security_incidents WHERE connector_id = :c LIMIT 1", c=cid)
    login = db.run(
        "SELECT event_id FROM enterprise.snowflake_login_history WHERE connector_id = :c AND is_success LIMIT 1", c=cid
    )
    finding = db.run(
        """INSERT INTO enterprise.cost_findings (connector_id, finding_key, kind, subject)
           VALUES (:c, 'matrix:finding', 'matrix', 'finding')
           ON CONFLICT (connector_id, finding_key) DO UPDATE SET kind = EXCLUDED.kind RETURNING id""",
        c=stack.connector_id,
    )
    if not incident:
        incident = db.run(
            """INSERT INTO enterprise.snowflake_security_incidents
                   (connector_id, subject, keys, severity, title, first_seen_at, last_seen_at)
               VALUES (:c, 'user:MATRIX', ARRAY['user:MATRIX'], 'high', 'matrix incident', now(), now())
               RETURNING id""",
            c=cid,
        )
    return {
        "finding_id": str(finding[0][0]),
        "connector_id": cid,
        "budget_id": str(budget[0][0]),
        "alert_id": str(alert[0][0]),
        "run_id": str(run[0][0]),
        "incident_id": str(incident[0][0]),
        "event_id": str(login[0][0]),
        "job": "sync",
    }


def _url(route: route_table.Route, ids: dict[str, str], connector_id: str | None = None) -> str:
    path = route.path
    for name in route.path_params:
        value = connector_id if (name == "connector_id" and connector_id) else ids[name]
        path = path.replace("{" + name + "}", value)
    return path


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: r.name)
@pytest.mark.parametrize("who", ["none", "malformed", "expired", "wrong_signature"])
def test_bad_credentials_answer_401(server, demo_ids, tokens, route, who) -> None:
    """Given a route that needs a caller, when the token is missing or bad, then 401 with the envelope."""
    status, body = _call(server, route.method, _url(route, demo_ids), tokens[who])
    count("authorization matrix")
    assert status == 401, (route.name, who, body)
    assert json.loads(body)["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("route", [r for r in PROTECTED if "{connector_id}" in r.path], ids=lambda r: r.name)
def test_another_orgs_connector_is_404_everywhere(server, demo_ids, tokens, route) -> None:
    """Given the demo org's connector and its real budget, alert and run ids, when another org's admin calls
    any of its routes, then 404 and nothing of the demo org leaks."""
    status, body = _call(server, route.method, _url(route, demo_ids), tokens["other_org"])
    count("authorization matrix")
    assert status == 404, (route.name, body)
    assert "Demo account" not in body and all(
        v not in body for k, v in demo_ids.items() if k not in ("job", "event_id")
    )


@pytest.mark.parametrize(
    "route",
    [r for r in PROTECTED if "{connector_id}" in r.path and len(r.path_params) > 1],
    ids=lambda r: r.name,
)
def test_another_orgs_item_under_the_callers_own_connector_is_404(server, stack, demo_ids, tokens, route) -> None:
    """Given the other org's own connector, when its admin names a demo-org budget or alert under it, then
    404: every nested id is checked against the connector, not only the connector against the org."""
    path = _url(route, demo_ids, connector_id=str(stack.other_connector_id))
    status, body = _call(server, route.method, path, tokens["other_org"])
    count("authorization matrix")
    assert status == 404, (route.name, body)
    assert demo_ids["budget_id"] not in body and demo_ids["alert_id"] not in body


@pytest.mark.parametrize(
    "route", [r for r in PROTECTED if "{connector_id}" not in r.path and r.method == "GET"], ids=lambda r: r.name
)
def test_org_wide_reads_show_only_the_callers_org(server, demo_ids, tokens, route) -> None:
    """Given org-wide routes (and a demo-org run id in the path), when another org reads them, then none of the
    demo org's data appears; the demo org's own admin does see its run (so the check can fail)."""
    path = _url(route, demo_ids)
    status, body = _call(server, route.method, path, tokens["other_org"])
    count("authorization matrix")
    assert status in (200, 404), (route.name, status, body)
    assert demo_ids["connector_id"] not in body and demo_ids["run_id"] not in body
    assert "admin@demo.snowwatch.local" not in body
    if "{run_id}" in route.path:
        assert status == 404
        own_status, own_body = _call(server, route.method, path, tokens["admin"])
        assert own_status == 200 and demo_ids["run_id"] in own_body


@pytest.mark.parametrize("route", [r for r in PROTECTED if r.auth == "admin"], ids=lambda r: r.name)
def test_members_get_403_on_admin_routes(server, demo_ids, tokens, route) -> None:
    """Given a member of the demo org, when calling an admin route of their own connector, then 403."""
    status, body = _call(server, route.method, _url(route, demo_ids), tokens["member"])
    count("authorization matrix")
    assert status == 403, (route.name, body)
    assert json.loads(body)["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("POST", "/api/jobs/sync/run", {"connector_id": "{connector_id}"}, 404),
        ("POST", "/api/jobs/security/run", {"connector_id": "{connector_id}"}, 404),
        ("GET", "/api/jobs/runs?connector_id={connector_id}", None, 200),
        ("POST", "/api/connectors", {"name": "borrowed", "account_identifier": "a", "username": "U",
                                     "warehouse": "W", "secret_arn": "{secret_ref}"}, 422),
    ],
)  # fmt: skip
def test_references_inside_requests_are_checked_against_the_callers_org(
    server, stack, db, demo_ids, tokens, method, path, body, expected
) -> None:
    """Given the demo org's connector id and its secret reference, when another org's admin puts them in a
    body or a query string, then refused (or an empty list), and nothing of the demo org comes back."""
    secret_ref = db.run("SELECT secret_ref FROM enterprise.connectors WHERE id = :c", c=stack.connector_id)[0][0]
    values = {"connector_id": demo_ids["connector_id"], "secret_ref": secret_ref}
    path = path.format(**values)
    if body is not None:
        body = {k: v.format(**values) for k, v in body.items()}
    status, answer = _call(server, method, path, tokens["other_org"], body)
    count("authorization matrix")
    assert status == expected, answer
    assert demo_ids["run_id"] not in answer and secret_ref not in answer
    if status == 200:
        assert json.loads(answer)["items"] == []
