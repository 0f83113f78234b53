"""The post-login timeline over the synthetic story: CAROL signs in with a password from 198.51.100.7, opens a
session and runs the exfiltration chain in it (local/snowwatch_local/synthetic/security.py, STORY_*)."""

from __future__ import annotations

from uuid import UUID

import pytest

from snowwatch.services import security_timeline
from snowwatch_local.synthetic.security import STORY_LOGIN, STORY_QUERIES, STORY_SESSION
from tests.integration.conftest import security_base

pytestmark = pytest.mark.integration


def test_timeline_of_a_login(api, extracted) -> None:
    """Given CAROL's password sign-in, when its timeline is read, then the login (client, version, IP, factors,
    outcome), the session it opened, the three queries of that session in order with the stage, the unload
    (COPY INTO @) and the GET flagged, and the two failed logins from the same IP within 24 h."""
    answer = api.get(f"{security_base(extracted)}/logins/{STORY_LOGIN}/timeline")
    assert answer.status == 200, answer.body
    body = answer.json()
    login = body["login"]
    assert (login["user_name"], login["client_ip"], login["reported_client_type"]) == (
        "CAROL_ANALYST",
        "198.51.100.7",
        "SNOWSQL",
    )
    assert (login["reported_client_version"], login["first_authentication_factor"], login["is_success"]) == (
        "1.3.2",
        "PASSWORD",
        True,
    )
    assert [s["session_id"] for s in body["sessions"]] == [STORY_SESSION]
    assert body["sessions"][0]["client_environment"]["APPLICATION"] == "SnowSQL"
    assert [q["query_id"] for q in body["queries"]] == list(STORY_QUERIES)
    assert [q["flag"] for q in body["queries"]] == [
        "stage created",
        "unload to a stage (COPY INTO @)",
        "download from a stage (GET)",
    ]
    assert body["flagged_steps"] == 3 and body["queries_truncated"] is False
    assert body["queries"][1]["warehouse_name"] == "ADMIN_WH"
    assert body["queries"][1]["text_excerpt"].startswith("COPY INTO @tmp_exfil")
    same_ip = body["same_ip_logins"]
    assert len(same_ip) == 2 and {x["is_success"] for x in same_ip} == {False}
    assert body["objects"] == []  # the test account is Standard edition: no ACCESS_HISTORY


def test_timeline_objects_from_access_history(db, extracted) -> None:
    """Given ACCESS_HISTORY rows for the unload (Enterprise accounts), then the timeline lists the table read and
    the stage written."""
    db.run(
        """INSERT INTO enterprise.snowflake_access_history (connector_id, query_id, query_start_time, user_name,
               direct_objects_accessed, base_objects_accessed, objects_modified)
           SELECT connector_id, query_id, start_time, user_name,
                  '[{"objectDomain": "Table", "objectName": "ANALYTICS.PUBLIC.CUSTOMERS"}]', '[]',
                  '[{"objectDomain": "Stage", "objectName": "TMP_EXFIL"}]'
           FROM enterprise.snowflake_session_queries WHERE connector_id = :c AND query_id = 'sec-exf-2'
           ON CONFLICT DO NOTHING""",
        c=UUID(extracted),
    )
    objects = security_timeline.timeline(db, UUID(extracted), STORY_LOGIN).objects
    assert [(o.access, o.object_name) for o in objects] == [
        ("read", "ANALYTICS.PUBLIC.CUSTOMERS"),
        ("write", "TMP_EXFIL"),
    ]


def test_alerts_link_to_timelines(api, extracted) -> None:
    """Given CAROL's exfiltration-chain alert, then its detail links to the timeline of her sign-in."""
    alert = api.get(f"{security_base(extracted)}/alerts", query={"rule": "exfiltration_chain"}).json()["items"][0]
    detail = api.get(f"{security_base(extracted)}/alerts/{alert['id']}").json()
    assert STORY_LOGIN in detail["timeline_event_ids"]


def test_unknown_malformed_and_other_org_logins_are_404(api, extracted, other_connector_id) -> None:
    assert api.get(f"{security_base(extracted)}/logins/999999999999/timeline").status == 404
    assert api.get(f"{security_base(extracted)}/logins/not-a-number/timeline").status == 404
    assert api.get(f"{security_base(extracted)}/logins/99999999999999999999999/timeline").status == 404
    assert api.get(f"{security_base(other_connector_id)}/logins/{STORY_LOGIN}/timeline", as_="other").status == 404
