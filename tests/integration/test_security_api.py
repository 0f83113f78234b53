"""The 9 security endpoints through the local API Gateway (authorizer, proxy event, stage cache)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from snowwatch.services import security_reads
from tests.integration.conftest import security_base

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("extracted")]


def test_summary(api, connector_id) -> None:
    """Given the extracted account, then counts by severity, MFA adoption, admins, stale users, failed logins
    in 24 h and the score with its formula."""
    answer = api.get(f"{security_base(connector_id)}/summary")
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["open_alerts"]["critical"] >= 4
    assert body["open_alerts_total"] == sum(body["open_alerts"].values())
    assert body["admins"] == 11
    assert body["stale_users"] == 2
    assert body["failed_logins_24h"] > 0
    assert 0 <= body["mfa_adoption_percent"] <= 100
    assert body["password_users_with_mfa"] < body["password_users"]
    assert body["security_score"] == 0  # this account is in bad shape on purpose
    assert "100" in body["score_formula"]


def test_alerts_filters_and_pagination(api, connector_id) -> None:
    """Given open alerts, when filtered by severity, rule and paginated, then the filters hold."""
    crit = api.get(f"{security_base(connector_id)}/alerts", query={"severity": "critical", "status": "open"}).json()
    assert crit["total"] >= 4 and all(a["severity"] == "critical" for a in crit["items"])
    one = api.get(f"{security_base(connector_id)}/alerts", query={"rule": "stale_user"}).json()
    assert {a["subject"] for a in one["items"]} == {"HENRY_STALE", "IVY_NEVER"}
    assert all(a["remediation_sql"] and a["evidence"] for a in one["items"])
    page = api.get(f"{security_base(connector_id)}/alerts", query={"limit": 2, "offset": 1}).json()
    assert len(page["items"]) == 2 and page["limit"] == 2 and page["offset"] == 1
    assert api.get(f"{security_base(connector_id)}/alerts", query={"severity": "nope"}).status == 422


def test_stale_users(api, connector_id) -> None:
    body = api.get(f"{security_base(connector_id)}/stale-users").json()
    assert [u["user_name"] for u in body["items"]] == ["IVY_NEVER", "HENRY_STALE"]


def test_failed_logins_window(api, connector_id) -> None:
    """Given failures in the last hours, then by user and by IP; noise codes excluded; a 1 h window is smaller."""
    day = api.get(f"{security_base(connector_id)}/failed-logins", query={"window_hours": 24}).json()
    users = {u["user_name"]: u["failures"] for u in day["by_user"]}
    assert users["CAROL_ANALYST"] == 7  # 6 burst + 1 from the sprayer
    assert "SVC_KEYONLY" not in users  # 394304 noise
    assert "0.0.0.0" not in {i["client_ip"] for i in day["by_ip"]}  # 390156 noise
    hour = api.get(f"{security_base(connector_id)}/failed-logins", query={"window_hours": 1}).json()
    assert hour["total"] < day["total"]
    assert api.get(f"{security_base(connector_id)}/failed-logins", query={"window_hours": 0}).status == 422


def test_login_history_filters(api, connector_id) -> None:
    """Given login events, when filtered by user, IP and success, then only matching events, newest first."""
    bob = api.get(f"{security_base(connector_id)}/login-history", query={"user": "admin_bob"}).json()
    assert bob["total"] == 4 and {e["user_name"] for e in bob["items"]} == {"ADMIN_BOB"}
    times = [e["event_timestamp"] for e in bob["items"]]
    assert times == sorted(times, reverse=True)
    spray = api.get(
        f"{security_base(connector_id)}/login-history", query={"ip": "203.0.113.99", "success": "false"}
    ).json()
    assert spray["total"] == 8
    assert sum(1 for e in spray["items"] if e["user_name"] is None) == 2
    page = api.get(f"{security_base(connector_id)}/login-history", query={"limit": 5}).json()
    assert len(page["items"]) == 5 and page["total"] > 5
    bad = api.get(
        f"{security_base(connector_id)}/login-history",
        query={"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
    )
    assert bad.status == 422


def test_no_mfa(api, connector_id) -> None:
    body = api.get(f"{security_base(connector_id)}/no-mfa").json()
    assert [(u["user_name"], u["is_admin"]) for u in body["items"]] == [("ADMIN_BOB", True), ("CAROL_ANALYST", False)]


def test_admin_access_has_grant_paths(api, connector_id) -> None:
    body = api.get(f"{security_base(connector_id)}/admin-access").json()
    assert body["total"] == 11 and body["within_recommended_range"] is False
    sam = next(a for a in body["admins"] if a["user_name"] == "SAM_DEEP")
    assert sam["grants"] == [{"admin_role": "SECURITYADMIN", "path": ["ROLE_A", "ROLE_B", "SEC_OPS", "SECURITYADMIN"]}]
    alice = next(a for a in body["admins"] if a["user_name"] == "ADMIN_ALICE")
    assert {g["admin_role"] for g in alice["grants"]} == {"ACCOUNTADMIN", "SECURITYADMIN"}


def test_gets_are_cached_per_route_table(api, connector_id) -> None:
    first = api.get(f"{security_base(connector_id)}/admin-access", query={})
    second = api.get(f"{security_base(connector_id)}/admin-access")
    assert first.headers.get("X-Cache") in ("HIT", "MISS") and second.headers["X-Cache"] == "HIT"


def test_the_freshness_key_gets_a_copy_newer_than_a_change(api, connector_id) -> None:
    """Given a cached alert list that predates a resolve
    When the client re-reads it with the freshness key `v` set to the time of its change
    Then the API accepts `v`, the stage cache misses, and the answer shows the resolution at once."""
    url = f"{security_base(connector_id)}/alerts"
    query = {"rule": "mfa_password_user", "status": "open"}
    alert = api.get(url, query=query).json()["items"][0]
    assert api.get(url, query=query).headers["X-Cache"] == "HIT"
    api.call("PUT", f"{url}/{alert['id']}/resolve", json_body={"note": "freshness"})
    stale = api.get(url, query=query)
    fresh = api.get(url, query={**query, "v": "1700000000000"})
    assert stale.headers["X-Cache"] == "HIT" and alert["id"] in {a["id"] for a in stale.json()["items"]}
    assert fresh.status == 200 and fresh.headers["X-Cache"] == "MISS"
    assert alert["id"] not in {a["id"] for a in fresh.json()["items"]}


def test_extract_is_admin_only_and_returns_a_run(api, connector_id) -> None:
    """Given an admin, when POST extract, then 202 with a run id that reads back; a member gets 403."""
    assert api.post(f"{security_base(connector_id)}/extract", as_="member").status == 403
    answer = api.post(f"{security_base(connector_id)}/extract")
    assert answer.status == 202, answer.body
    body = answer.json()
    assert body["job"] == "security"
    run = api.get(f"/api/jobs/runs/{body['run_id']}").json()
    assert run["status"] == "succeeded" and run["connector_id"] == connector_id


def test_other_org_cannot_see_or_resolve(api, connector_id, other_connector_id) -> None:
    """Given another org's admin, then this connector's security routes are 404, and resolving one of our
    alerts through their own connector is 404 too."""
    assert api.get(f"{security_base(connector_id)}/summary", as_="other").status == 404
    alert = api.get(f"{security_base(connector_id)}/alerts", query={"rule": "mfa_admin"}).json()["items"][0]
    answer = api.call(
        "PUT",
        f"{security_base(other_connector_id)}/alerts/{alert['id']}/resolve",
        as_="other",
        json_body={"note": "mine"},
    )
    assert answer.status == 404
    answer = api.call(
        "PUT", f"{security_base(connector_id)}/alerts/{alert['id']}/resolve", as_="other", json_body={"note": "x"}
    )
    assert answer.status == 404


def test_resolve_records_who_and_when_and_reads_back(api, connector_id) -> None:
    """Given an open alert, when an admin resolves it with a note, then it reads back resolved with who and
    when; a member gets 403, a missing note 422, a malformed or unknown id 404."""
    alert = api.get(f"{security_base(connector_id)}/alerts", query={"rule": "admin_default_role"}).json()["items"][0]
    path = f"{security_base(connector_id)}/alerts/{alert['id']}/resolve"
    assert api.call("PUT", path, as_="member", json_body={"note": "x"}).status == 403
    assert api.call("PUT", path, json_body={}).status == 422
    assert api.call("PUT", path, json_body={"note": "   "}).status == 422
    assert (
        api.call("PUT", f"{security_base(connector_id)}/alerts/not-a-uuid/resolve", json_body={"note": "x"}).status
        == 404
    )
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (
        api.call("PUT", f"{security_base(connector_id)}/alerts/{unknown}/resolve", json_body={"note": "x"}).status
        == 404
    )
    answer = api.call("PUT", path, json_body={"note": "default role changed to SYSADMIN"})
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["status"] == "resolved" and body["resolution_note"] == "default role changed to SYSADMIN"
    assert body["resolved_by_email"] == "admin@demo.snowwatch.local" and body["resolved_at"]
    listed = api.get(
        f"{security_base(connector_id)}/alerts", query={"status": "resolved", "rule": "admin_default_role"}
    )
    assert [a["id"] for a in listed.json()["items"]] == [alert["id"]]


def _stale_alert(api: Any, connector_id: str, subject: str) -> dict[str, Any]:
    items = api.get(f"{security_base(connector_id)}/alerts", query={"rule": "stale_user", "limit": 10}).json()["items"]
    return next(a for a in items if a["subject"] == subject)


def test_reopened_alert_keeps_its_resolution_history(api, stack, connector_id) -> None:
    """Given a stale-user alert resolved with a note while the user is still stale, when the job runs again,
    then the alert reopens and its detail shows who resolved it, when, the note, why and when it reopened, and
    the reopen count; a second resolve and reopen keeps both resolutions."""
    alert = _stale_alert(api, connector_id, "HENRY_STALE")
    path = f"{security_base(connector_id)}/alerts/{alert['id']}"
    assert api.call("PUT", f"{path}/resolve", json_body={"note": "first: asked HR"}).status == 200
    stack.run_job("security", connector_id=connector_id)
    assert api.call("PUT", f"{path}/resolve", json_body={"note": "second: disabled soon"}).status == 200
    stack.run_job("security", connector_id=connector_id)
    answer = api.get(path)
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["status"] == "open" and body["reopened_count"] == 2
    kinds = [(e["kind"], e["note"]) for e in body["history"]]
    assert kinds[0] == ("opened", None)
    resolved = [e for e in body["history"] if e["kind"] == "resolved"]
    assert [e["note"] for e in resolved] == ["first: asked HR", "second: disabled soon"]
    assert all(e["actor_email"] == "admin@demo.snowwatch.local" and e["at"] for e in resolved)
    reopened = [e for e in body["history"] if e["kind"] == "reopened"]
    assert len(reopened) == 2 and all("observed again" in e["note"] for e in reopened)
    assert body["reopened_at"] == reopened[-1]["at"]


def test_acknowledge_and_snooze(api, db, connector_id) -> None:
    """Given an open alert, when an admin acknowledges it, then it reads back acknowledged with who and when and
    still counts as open; when snoozed until a day, then it leaves the open counts until then; a member gets 403,
    a past or far day 422, acknowledging twice 409, and the history lists both with the snooze date."""
    alert = _stale_alert(api, connector_id, "IVY_NEVER")
    path = f"{security_base(connector_id)}/alerts/{alert['id']}"
    before = security_reads.summary(db, UUID(connector_id)).open_alerts.low
    assert api.call("PUT", f"{path}/acknowledge", as_="member", json_body={}).status == 403
    answer = api.call("PUT", f"{path}/acknowledge", json_body={"note": "HR asked"})
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["status"] == "acknowledged" and body["acknowledged_by_email"] == "admin@demo.snowwatch.local"
    assert api.call("PUT", f"{path}/acknowledge", json_body={}).status == 409
    assert api.call("PUT", f"{path}/snooze", json_body={"until": "2020-01-01"}).status == 422
    assert api.call("PUT", f"{path}/snooze", json_body={"until": "2099-01-01"}).status == 422
    until = (date.today() + timedelta(days=7)).isoformat()
    body = api.call("PUT", f"{path}/snooze", json_body={"until": until, "note": "leave"}).json()
    assert body["snoozed_until"].startswith(until)
    events = [(e["kind"], e["note"]) for e in body["history"]]
    assert events[-2:] == [("acknowledged", "HR asked"), ("snoozed", "leave")]
    assert body["history"][-1]["until"].startswith(until)
    assert security_reads.summary(db, UUID(connector_id)).open_alerts.low == before - 1


def test_authentication_posture(api, connector_id) -> None:
    """Given the cast, then per user the flags (HAS_PAT and HAS_WORKLOAD_IDENTITY stored), the sign-in methods over
    90 days and a verdict with the fix: SVC_LEGACY and CAROL blocked (single-factor password sign-ins), SVC_ETL at
    risk (a SERVICE user holding a password), SVC_KEYONLY, ERIN (password + TOTP) and FRANK (SSO) ready; blocked
    users come first; a verdict filter narrows the list."""
    answer = api.get(f"{security_base(connector_id)}/authentication-posture", query={"limit": 500})
    assert answer.status == 200, answer.body
    body = answer.json()
    users = {u["user_name"]: u for u in body["users"]}
    assert body["window_days"] == 90 and sum(body["counts"].values()) == body["total"] == len(users)
    legacy = users["SVC_LEGACY"]
    assert (legacy["type"], legacy["verdict"]) == ("LEGACY_SERVICE", "blocked")
    assert "SET TYPE = SERVICE" in legacy["fix_sql"] and "RSA_PUBLIC_KEY" in legacy["fix_sql"]
    carol = users["CAROL_ANALYST"]
    assert carol["verdict"] == "blocked" and "AUTHENTICATION POLICY" in carol["fix_sql"]
    assert next(m for m in carol["sign_in_methods"] if m["method"] == "PASSWORD")["logins"] >= 2
    assert (users["SVC_ETL"]["verdict"], users["SVC_ETL"]["has_pat"]) == ("at_risk", True)
    assert (users["SVC_KEYONLY"]["verdict"], users["SVC_KEYONLY"]["has_workload_identity"]) == ("ready", True)
    assert users["ERIN_TOTP"]["verdict"] == "ready"
    assert {m["method"] for m in users["ERIN_TOTP"]["sign_in_methods"]} == {"PASSWORD+TOTP"}
    assert users["FRANK_SSO"]["verdict"] == "ready" and users["FRANK_SSO"]["fix_sql"] is None
    assert body["users"][0]["verdict"] == "blocked"
    blocked = api.get(f"{security_base(connector_id)}/authentication-posture", query={"verdict": "blocked"}).json()
    assert blocked["total"] == body["counts"]["blocked"]
    assert {u["verdict"] for u in blocked["users"]} == {"blocked"}
    assert api.get(f"{security_base(connector_id)}/authentication-posture", query={"verdict": "nope"}).status == 422


def test_daily_snapshot_trend(api, db, stack, connector_id) -> None:
    """Given a security run today and two snapshots planted 3 and 100 days ago, when the trend is read for 30
    days, then today's point carries the current score and open counts and the 3-day-old point comes first; the
    100-day-old one is outside; days outside 1..366 are 422."""
    cid = UUID(connector_id)
    stack.run_job("security", connector_id=connector_id)
    for ago, score in ((3, 40), (100, 10)):
        db.run(
            """INSERT INTO enterprise.snowflake_security_snapshots (connector_id, day, score, critical)
               VALUES (:c, CURRENT_DATE - CAST(:ago AS int), :s, 1) ON CONFLICT DO NOTHING""",
            c=cid, ago=ago, s=score,
        )  # fmt: skip
    answer = api.get(f"{security_base(connector_id)}/trend", query={"days": 30})
    assert answer.status == 200, answer.body
    points = answer.json()["points"]
    assert [p["score"] for p in points][:1] == [40] and len(points) == 2
    summary = security_reads.summary(db, cid)
    assert points[-1]["score"] == summary.security_score
    assert points[-1]["critical"] == summary.open_alerts.critical
    assert api.get(f"{security_base(connector_id)}/trend", query={"days": 0}).status == 422
    assert api.get(f"{security_base(connector_id)}/trend", query={"days": 367}).status == 422
