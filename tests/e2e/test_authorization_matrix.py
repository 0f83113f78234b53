"""The authorization matrix, generated from the route table.

Every route × {no token, malformed token, expired token, wrongly signed token, another org's
caller, a member on an admin route}: the status is right and no foreign data appears.
Runs over real HTTP against the local server (authorizer, gateway emulation, API handler).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import jwt
import pytest

from snowwatch import routes as route_table
from snowwatch_local.stack import ADMIN, MEMBER, OTHER_ADMIN
from tests.conftest import count

pytestmark = pytest.mark.e2e

SAMPLE_BODY: dict[str, object] = {}


def _url(route: route_table.Route, connector_id: str) -> str:
    values = {"connector_id": connector_id, "job": "sync"}
    path = route.path
    for name in route.path_params:
        path = path.replace("{" + name + "}", values.get(name, str(uuid.uuid4())))
    return path


def _call(base: str, method: str, path: str, token: str | None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(SAMPLE_BODY).encode() if method in ("POST", "PUT", "PATCH") else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _forged(stack, **changes: object) -> str:
    body = {
        "sub": ADMIN["subject"],
        "email": ADMIN["email"],
        "org": ADMIN["org"],
        "role": "admin",
        "exp": int(time.time()) + 600,
    }
    body.update(changes)
    return jwt.encode(
        body, changes.pop("_key", stack.jwt_secret) if "_key" in changes else stack.jwt_secret, algorithm="HS256"
    )


PROTECTED = [r for r in route_table.ROUTES if r.auth != "public"]


@pytest.fixture(scope="module")
def tokens(stack) -> dict[str, str | None]:
    return {
        "none": None,
        "malformed": "not-a-jwt",
        "expired": _forged(stack, exp=int(time.time()) - 3600),
        "wrong_signature": jwt.encode(
            {"sub": "x", "email": "x@y.z", "org": "demo", "role": "admin", "exp": int(time.time()) + 600},
            "another-secret-entirely-32-bytes!",
            algorithm="HS256",
        ),
        "other_org": stack.token(OTHER_ADMIN),
        "member": stack.token(MEMBER),
    }


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: r.name)
@pytest.mark.parametrize("who", ["none", "malformed", "expired", "wrong_signature"])
def test_bad_credentials_answer_401(server, connector_id, tokens, route, who) -> None:
    """Given a route that needs a caller, when the token is missing or bad, then 401 with the envelope."""
    status, body = _call(server, route.method, _url(route, connector_id), tokens[who])
    count("authorization matrix")
    assert status == 401, (route.name, who, body)
    assert json.loads(body)["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("route", [r for r in PROTECTED if "{connector_id}" in r.path], ids=lambda r: r.name)
def test_another_orgs_connector_is_404_everywhere(server, stack, connector_id, tokens, route) -> None:
    """Given the demo org's connector, when another org's admin calls any of its routes, then 404, nothing leaks."""
    status, body = _call(server, route.method, _url(route, connector_id), tokens["other_org"])
    count("authorization matrix")
    assert status == 404, (route.name, body)
    assert "Demo account" not in body and connector_id not in body


@pytest.mark.parametrize(
    "route", [r for r in PROTECTED if "{connector_id}" not in r.path and r.method == "GET"], ids=lambda r: r.name
)
def test_org_wide_reads_show_only_the_callers_org(server, connector_id, tokens, route) -> None:
    """Given org-wide listings, when another org reads them, then none of the demo org's data appears."""
    status, body = _call(server, route.method, _url(route, connector_id), tokens["other_org"])
    count("authorization matrix")
    assert status in (200, 404), (route.name, status, body)
    assert connector_id not in body and "admin@demo.snowwatch.local" not in body


@pytest.mark.parametrize("route", [r for r in PROTECTED if r.auth == "admin"], ids=lambda r: r.name)
def test_members_get_403_on_admin_routes(server, connector_id, tokens, route) -> None:
    """Given a member of the demo org, when calling an admin route of their own connector, then 403."""
    status, body = _call(server, route.method, _url(route, connector_id), tokens["member"])
    count("authorization matrix")
    assert status == 403, (route.name, body)
    assert json.loads(body)["error"]["code"] == "forbidden"
