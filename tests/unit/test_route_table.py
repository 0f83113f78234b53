"""The route table is the single source: the resolver serves exactly it, and the OpenAPI file is current."""

from __future__ import annotations

import json
import re
from pathlib import Path

from snowwatch import routes as route_table
from snowwatch_local.handlers import load

ROOT = Path(__file__).resolve().parents[2]


def _spec() -> dict:
    return load("api", "openapi").build(load("api").app)


def test_resolver_serves_exactly_the_route_table() -> None:
    """Given the resolver, when its OpenAPI paths are listed, then they equal the route table."""
    spec = _spec()
    served = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert served == {(r.method, r.path) for r in route_table.ROUTES}


def test_declared_query_strings_equal_the_route_table() -> None:
    """Given each route, its documented query parameters equal the table's, plus the freshness key on cached routes
    (the CDK cache keys use them)."""
    spec = _spec()
    for route in route_table.ROUTES:
        params = spec["paths"][route.path][route.method.lower()].get("parameters", [])
        declared = {p["name"] for p in params if p["in"] == "query"}
        assert declared == set(route.cache_key_query), route.name


def test_openapi_file_is_current() -> None:
    """Given docs/openapi.json, when regenerated from the code, then nothing differs (run `make openapi`)."""
    rendered = load("api", "openapi").render(load("api").app)
    assert (ROOT / "docs" / "openapi.json").read_text() == rendered


def test_every_reference_in_the_openapi_file_resolves() -> None:
    """Given the generated spec, when every $ref is followed, then each names a schema that exists (the web
    client's types are generated from this file and a dangling reference stops the generator)."""
    spec = _spec()
    schemas = spec["components"]["schemas"]
    text = json.dumps(spec)
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text))
    assert refs, "expected references"
    assert sorted(refs - set(schemas)) == []


def test_writes_are_never_cached_and_cached_routes_are_member_reads() -> None:
    for route in route_table.ROUTES:
        if route.method != "GET":
            assert route.cache_ttl == 0, route.name
        if route.cached:
            assert route.auth != "public" and "{connector_id}" in route.path, route.name


def test_match_finds_routes_and_parameters() -> None:
    matched = route_table.match("GET", "/api/connectors/abc/cost/overview")
    assert matched is not None
    assert matched[0].name == "cost_overview" and matched[1] == {"connector_id": "abc"}
    assert route_table.match("DELETE", "/api/jobs") is None


def test_every_nested_path_id_has_an_ownership_check() -> None:
    """Given each route under a connector, every other id in its path is checked against that connector by
    admission (snowwatch.repositories.ownership); org-wide ids (job, run) are checked by their service."""
    from snowwatch.repositories.ownership import ITEM_OF_CONNECTOR

    for route in route_table.ROUTES:
        for param in route.path_params:
            if "connector_id" in route.path_params and param != "connector_id":
                assert param in ITEM_OF_CONNECTOR, (route.name, param)
            elif "connector_id" not in route.path_params:
                assert param in ("job", "run_id"), (route.name, param)


def test_openapi_documents_each_routes_success_status() -> None:
    """Given routes answering 201, 202 or 204, then the OpenAPI file documents that status, not a 200."""
    spec = _spec()
    for route in route_table.ROUTES:
        responses = spec["paths"][route.path][route.method.lower()]["responses"]
        assert str(route.status) in responses, route.name
        if route.status != 200:
            assert "200" not in responses, route.name
