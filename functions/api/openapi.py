"""docs/openapi.json, generated from the resolver and completed from the route table.

Powertools describes paths, parameters and bodies; we add what only the route table knows
(who may call, cache TTL) and the error envelope every non-2xx answer uses (our error mapper,
not Powertools' default, owns the 422 shape).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from snowwatch import __version__
from snowwatch import routes as route_table
from snowwatch.models.common import ErrorResponse

ERRORS = {
    "400": "Malformed request (e.g. a body that is not JSON)",
    "401": "Missing, invalid or expired bearer token",
    "403": "The caller's role may not do this",
    "404": "Not found (also: another organization's resource)",
    "409": "Conflict with the current state",
    "413": "The request body is larger than 256 KiB",
    "415": "A request body must be application/json",
    "422": "Validation failed (also: NUL characters, dates outside 2000-01-01..2100-12-31)",
}

FRESHNESS_PARAMETER = {
    "name": route_table.FRESHNESS,
    "in": "query",
    "required": False,
    "description": "Ignored by the API but part of the stage-cache key: set it (e.g. to the time of your last "
    "change) to get a copy newer than that change instead of a cached one.",
    "schema": {"type": "string", "maxLength": route_table.FRESHNESS_MAX_CHARS, "title": "Freshness key"},
}


def build(app: Any) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title="snowwatch API",
            version=__version__,
            description="Read-only Snowflake cost and security monitoring. "
            "All routes but /health need `Authorization: Bearer <JWT>`.",
            security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
            security=[{"bearer": []}],
        )
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorResponse"] = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schemas["ErrorResponse"].pop("$defs", {}).items():
        schemas[name] = sub
    # Powertools' own validation shapes: our error mapper answers every 422 (and nothing answers
    # a response validation error to a client), so none of them may be left behind as dangling refs.
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    for route in route_table.ROUTES:
        operation = spec["paths"].get(route.path, {}).get(route.method.lower())
        if operation is None:
            continue
        operation["operationId"] = route.name
        operation["x-snowwatch-auth"] = route.auth
        operation["x-snowwatch-cache-ttl"] = route.cache_ttl if route.cached else 0
        if route.cached:
            operation.setdefault("parameters", []).append(FRESHNESS_PARAMETER)
        responses = operation.setdefault("responses", {})
        if route.status != 200 and "200" in responses:
            success = responses.pop("200")
            if route.status == 204:
                success.pop("content", None)
                success["description"] = "No content"
            responses[str(route.status)] = success
        responses.pop("422", None)
        codes = ["404"] if route.auth == "public" else ["401", "404", "422"]
        if route.auth == "admin":
            codes.append("403")
        if route.method in ("POST", "PUT", "PATCH"):
            codes += ["400", "409", "413", "415"]
        for code in codes:
            responses[code] = {"description": ERRORS[code], **error_ref}
        if route.auth == "public":
            operation["security"] = []
    return spec


def render(app: Any) -> str:
    return json.dumps(build(app), indent=2, sort_keys=True) + "\n"
