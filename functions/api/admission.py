"""Admission: what every API request passes before the resolver (and so before body validation).

In order: the route must exist in the route table (404, as the gateway answers); a protected route needs a
verified, unexpired identity (401); an admin route needs the admin role (403); a connector-scoped route's
connector must be the caller's org's, and every other id in its path that connector's (404 otherwise,
indistinguishable from a missing one); then the input
must be sane: a JSON content type for a body (415), at most ``MAX_BODY_BYTES`` (413), nesting at most
``MAX_JSON_DEPTH`` deep (400), and no NUL character in a path parameter, a query string or any JSON string
(422). Only then does the resolver parse and validate the body.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from snowwatch import routes as route_table
from snowwatch.db import get_connection
from snowwatch.errors import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
)
from snowwatch.models.common import Caller
from snowwatch.repositories import ownership, users
from snowwatch.services import connectors as connectors_service
from snowwatch.services.auth import LEEWAY_SECONDS, claims_from_context
from snowwatch.settings import ApiSettings, get_settings

MAX_BODY_BYTES = 256 * 1024
MAX_JSON_DEPTH = 32
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def admit(event: dict[str, Any]) -> dict[str, Any]:
    """The request context for the resolver, or a typed error the handler maps to HTTP."""
    route = route_table.BY_KEY.get((event.get("httpMethod", ""), event.get("resource", "")))
    if route is None:
        raise NotFoundError("no such route")
    if route.auth == "public":
        check_input(event)
        return {}
    claims = claims_from_context(dict((event.get("requestContext") or {}).get("authorizer") or {}))
    if claims.exp is not None and claims.exp + LEEWAY_SECONDS < time.time():
        raise UnauthorizedError("token expired")
    settings = get_settings(ApiSettings)
    conn = get_connection(settings)
    caller = Caller.model_validate(users.upsert_from_claims(conn, claims))
    if route.auth == "admin" and not caller.is_admin:
        raise ForbiddenError("this action needs the admin role")
    connector = None
    path = event.get("pathParameters") or {}
    if "connector_id" in route.path_params:
        connector = connectors_service.require(conn, caller, path.get("connector_id", ""))
        for param in route.path_params:
            if param in ownership.ITEM_OF_CONNECTOR and not ownership.belongs(
                conn, param, path.get(param, ""), connector.id
            ):
                raise NotFoundError(f"{param.removesuffix('_id')} not found")
    check_input(event)
    return {"caller": caller, "conn": conn, "settings": settings, "connector": connector}


def check_input(event: dict[str, Any]) -> None:
    for name, value in (event.get("pathParameters") or {}).items():
        _no_nul(value, ["path", name])
    for name, values in (event.get("multiValueQueryStringParameters") or {}).items():
        for value in values or []:
            _no_nul(name, ["query", name])
            _no_nul(value, ["query", name])
    for name, value in (event.get("queryStringParameters") or {}).items():
        _no_nul(value or "", ["query", name])
    if (
        len((event.get("queryStringParameters") or {}).get(route_table.FRESHNESS) or "")
        > route_table.FRESHNESS_MAX_CHARS
    ):
        raise ValidationFailedError(
            f"the freshness key may be at most {route_table.FRESHNESS_MAX_CHARS} characters",
            details=[{"loc": ["query", route_table.FRESHNESS], "msg": "too long", "type": "string_too_long"}],
        )
    body = event.get("body")
    if not body:
        return
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"the request body may be at most {MAX_BODY_BYTES} bytes")
    if event.get("httpMethod") in BODY_METHODS:
        content_type = _header(event, "content-type").split(";", 1)[0].strip().lower()
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise UnsupportedMediaTypeError("send the request body as application/json")
    text = raw.decode("utf-8", "replace")
    if _depth(text) > MAX_JSON_DEPTH:
        raise BadRequestError(f"the JSON body may nest at most {MAX_JSON_DEPTH} levels deep")
    try:
        parsed = json.loads(text)
    except ValueError:
        return  # the resolver answers 400 for a body that is not JSON
    _no_nul_in_json(parsed)


def _header(event: dict[str, Any], name: str) -> str:
    return next((str(v) for k, v in (event.get("headers") or {}).items() if k.lower() == name), "")


def _no_nul(value: str, loc: list[str]) -> None:
    if "\x00" in value:
        raise ValidationFailedError(
            "text must not contain NUL characters", details=[{"loc": loc, "msg": "NUL character", "type": "nul"}]
        )


def _depth(text: str) -> int:
    """How deep the JSON text nests (outside strings), without parsing it (no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _no_nul_in_json(value: Any) -> None:
    stack: list[tuple[Any, list[Any]]] = [(value, ["body"])]
    while stack:
        item, loc = stack.pop()
        if isinstance(item, str):
            _no_nul(item, loc)
        elif isinstance(item, dict):
            for key, child in item.items():
                _no_nul(key, loc)
                stack.append((child, [*loc, key]))
        elif isinstance(item, list):
            stack.extend((child, [*loc, i]) for i, child in enumerate(item))
