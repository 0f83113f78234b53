"""The REST API: every route of the route table, its authorizer, stage cache settings and cache keys."""

from __future__ import annotations

from typing import Any

import pytest

from infra.constants import API_STAGE, AUTHORIZER_CACHE_TTL_S
from snowwatch.routes import FRESHNESS, ROUTES, Route

from .conftest import PROD_CONTEXT, Synth

pytestmark = pytest.mark.infrastructure

AUTH_HEADER = "method.request.header.Authorization"


def _paths(synth: Synth) -> dict[str, str]:
    """Logical id of every API Gateway resource (and the root) -> its full path."""
    resources = synth.of_type("AWS::ApiGateway::Resource")
    rest_api = next(iter(synth.of_type("AWS::ApiGateway::RestApi")))
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = props["ParentId"]
            prefix = "" if "Fn::GetAtt" in parent and parent["Fn::GetAtt"][0] == rest_api else path_of(parent["Ref"])
            paths[logical_id] = f"{prefix}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of(logical_id)
    return paths


def _methods(synth: Synth) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(HTTP method, path) -> (logical id, properties) of every method."""
    paths = _paths(synth)
    found = {}
    for logical_id, method in synth.of_type("AWS::ApiGateway::Method").items():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        found[(props["HttpMethod"], path)] = (logical_id, props)
    return found


def _method_settings(synth: Synth) -> dict[tuple[str, str], dict[str, Any]]:
    stage = next(iter(synth.of_type("AWS::ApiGateway::Stage").values()))["Properties"]
    return {(s["HttpMethod"], s["ResourcePath"]): s for s in stage["MethodSettings"]}


def _escaped(path: str) -> str:
    """A method setting's ResourcePath: the path with every '/' escaped as '~1', after a leading '/'."""
    return "/" + path.replace("/", "~1")


def _route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


@pytest.fixture(scope="module")
def methods(prod_synth: Synth) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """The prod profile's methods: it has the stage cache (lean has none) and a CORS origin."""
    return _methods(prod_synth)


@pytest.fixture(scope="module")
def settings(prod_synth: Synth) -> dict[tuple[str, str], dict[str, Any]]:
    return _method_settings(prod_synth)


def test_every_route_has_exactly_one_method(methods: dict[tuple[str, str], Any]) -> None:
    """Given the route table
    When the app is synthesized
    Then every route has its method at its path, and no other non-OPTIONS method exists."""
    expected = {(r.method, r.path) for r in ROUTES}
    actual = {key for key in methods if key[0] != "OPTIONS"}
    assert actual == expected


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_route_authorizer(route: Route, prod_synth: Synth, methods: dict[tuple[str, str], Any]) -> None:
    """Given a route
    When its method is synthesized
    Then public routes have no authorizer and every other route uses the TOKEN authorizer
    through a Lambda proxy integration of the API function."""
    logical_id, props = methods[(route.method, route.path)]
    authorizer = next(iter(prod_synth.of_type("AWS::ApiGateway::Authorizer")))
    template = prod_synth.assertions()
    from aws_cdk.assertions import Match

    if route.auth == "public":
        expected: dict[str, Any] = {"AuthorizationType": "NONE", "AuthorizerId": Match.absent()}
    else:
        expected = {"AuthorizationType": "CUSTOM", "AuthorizerId": {"Ref": authorizer}}
    template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "HttpMethod": route.method,
            "ResourceId": props["ResourceId"],
            "OperationName": route.name,
            "Integration": Match.object_like({"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST"}),
            **expected,
        },
    )
    uri = str(props["Integration"]["Uri"])
    assert "ApiHandlerFunction" in uri, f"{logical_id} does not integrate the API function"


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_route_caching(
    route: Route, methods: dict[tuple[str, str], Any], settings: dict[tuple[str, str], dict[str, Any]]
) -> None:
    """Given a route
    When the stage is synthesized
    Then its method setting enables caching with the route's TTL exactly when the route is cached
    (GET with a TTL), and disables it otherwise (every write, every TTL-0 read)."""
    setting = settings[(route.method, _escaped(route.path))]
    assert setting["CachingEnabled"] is route.cached
    assert setting["CacheDataEncrypted"] is True
    if route.cached:
        assert setting["CacheTtlInSeconds"] == route.cache_ttl
    else:
        assert "CacheTtlInSeconds" not in setting


@pytest.mark.parametrize("route", [r for r in ROUTES if r.cached], ids=_route_id)
def test_cached_route_cache_key(route: Route, methods: dict[tuple[str, str], Any]) -> None:
    """Given a cached route
    When its method is synthesized
    Then the cache key holds the Authorization header, every path parameter, every query string
    of the route and the freshness key, and each is a declared method request parameter."""
    _, props = methods[(route.method, route.path)]
    keys = props["Integration"]["CacheKeyParameters"]
    declared = props["RequestParameters"]
    expected = [
        AUTH_HEADER,
        *(f"method.request.path.{p}" for p in route.path_params),
        *(f"method.request.querystring.{q}" for q in (*route.query, FRESHNESS)),
    ]
    assert AUTH_HEADER in keys
    assert set(keys) == set(expected)
    assert set(expected) <= set(declared)
    assert all(declared[f"method.request.path.{p}"] is True for p in route.path_params)


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.cached], ids=_route_id)
def test_uncached_route_declares_its_parameters(route: Route, methods: dict[tuple[str, str], Any]) -> None:
    """Given a route that is not cached
    When its method is synthesized
    Then it has no cache key and still declares its path parameters and query strings."""
    _, props = methods[(route.method, route.path)]
    assert "CacheKeyParameters" not in props["Integration"]
    declared = props["RequestParameters"]
    assert {f"method.request.path.{p}" for p in route.path_params} <= set(declared)
    assert {f"method.request.querystring.{q}" for q in route.query} <= set(declared)


def test_stage_cache_and_defaults(prod_synth: Synth, settings: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Given the API stage of the prod profile
    When it is synthesized
    Then the cache cluster is on, caching is off and encrypted stage-wide, throttling, logging,
    metrics, tracing and JSON access logs are configured."""
    template = prod_synth.assertions()
    from aws_cdk.assertions import Match

    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": API_STAGE,
            "CacheClusterEnabled": True,
            "CacheClusterSize": Match.any_value(),
            "TracingEnabled": True,
            "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.string_like_regexp("requestId")},
        },
    )
    default = settings[("*", "/*")]
    assert default["CachingEnabled"] is False
    assert default["CacheDataEncrypted"] is True
    assert default["ThrottlingRateLimit"] > 0 and default["ThrottlingBurstLimit"] > 0
    assert default["LoggingLevel"] == "ERROR" and default["MetricsEnabled"] is True
    assert all(s.get("ThrottlingRateLimit") for s in settings.values()), "a method without throttling"


def test_authorizer_caches_on_the_token(synth: Synth) -> None:
    """Given the TOKEN authorizer
    When it is synthesized
    Then its identity source (the result cache key) is the Authorization header, with a TTL."""
    synth.assertions().has_resource_properties(
        "AWS::ApiGateway::Authorizer",
        {
            "Type": "TOKEN",
            "IdentitySource": "method.request.header.Authorization",
            "AuthorizerResultTtlInSeconds": AUTHORIZER_CACHE_TTL_S,
        },
    )


@pytest.mark.parametrize(
    ("response_type", "status"),
    [("UNAUTHORIZED", "401"), ("ACCESS_DENIED", "403"), ("DEFAULT_4XX", None), ("DEFAULT_5XX", None)],
)
def test_gateway_responses_use_the_error_envelope(synth: Synth, response_type: str, status: str | None) -> None:
    """Given a gateway response API Gateway answers by itself
    When it is synthesized
    Then its body is the API's JSON envelope {"error": {"code", "message", "details"}}."""
    import json

    responses = [
        r["Properties"]
        for r in synth.of_type("AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == response_type
    ]
    assert len(responses) == 1
    response = responses[0]
    if status:
        assert response["StatusCode"] == status
    body = response["ResponseTemplates"]["application/json"].replace("$context.error.messageString", '"m"')
    assert set(json.loads(body)["error"]) == {"code", "message", "details"}


def test_cors_preflight_for_the_dashboard_origin(methods: dict[tuple[str, str], Any]) -> None:
    """Given a dashboard origin in the context
    When the API is synthesized
    Then every route's resource answers a CORS preflight for exactly that origin, without auth."""
    origin = PROD_CONTEXT["dashboard_origin"]
    for route in ROUTES:
        _, props = methods[("OPTIONS", route.path)]
        assert props["AuthorizationType"] == "NONE"
        headers = props["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Origin"] == f"'{origin}'"
