"""The local stage cache keys exactly as the CDK configures API Gateway: Authorization header, path
parameters and the route's declared query strings — never the path alone."""

from __future__ import annotations

from snowwatch import routes as route_table
from snowwatch_local.apigw import StageCache, rest_event

ROUTE = route_table.BY_NAME["security_alerts"]
PATH = "/api/connectors/c-1/security/snowflake/alerts"


def key(path: str = PATH, token: str = "Bearer a", **query: str) -> str:
    return StageCache.key(ROUTE, path, {"Authorization": token}, {k: [v] for k, v in query.items()})


def test_another_token_is_another_entry() -> None:
    assert key(token="Bearer a") != key(token="Bearer b")


def test_another_path_parameter_is_another_entry() -> None:
    assert key() != key(path="/api/connectors/c-2/security/snowflake/alerts")


def test_declared_query_strings_split_entries_and_undeclared_ones_do_not() -> None:
    assert key(status="open") != key(status="resolved")
    assert key(status="open", utm="x") == key(status="open")


def test_the_freshness_key_splits_entries() -> None:
    """Given a cached answer, when the client sets the freshness key `v` (after a change of its own),
    then that request misses the earlier entry and gets its own."""
    assert key(status="open", v="1700000000000") != key(status="open")
    assert key(status="open", v="1700000000000") != key(status="open", v="1700000000001")


def test_entries_expire_after_their_ttl() -> None:
    cache = StageCache()
    cache.put("k", 0, {"status": 200, "headers": {}, "body": "{}"})
    assert cache.get("k") is None
    cache.put("k", 60, {"status": 200, "headers": {}, "body": "{}"})
    assert cache.get("k") is not None


def test_the_proxy_event_carries_the_route_template_and_parameters() -> None:
    event = rest_event("GET", PATH, query={"status": ["open"]}, authorizer={"org": "acme"})
    assert event["resource"] == ROUTE.path
    assert event["pathParameters"] == {"connector_id": "c-1"}
    assert event["queryStringParameters"] == {"status": "open"}
    assert event["requestContext"]["authorizer"] == {"org": "acme"}
