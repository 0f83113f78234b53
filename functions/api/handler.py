"""The API function: a Powertools REST resolver, one Router per domain, errors mapped in one place.

Every route comes from snowwatch.routes (the route table that the CDK and the local server read).
The auth middleware enforces the table's `auth` column; connector-scoped routes are checked for
ownership before any handler runs, so another org's connector answers 404 everywhere.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pg8000.exceptions import DatabaseError

from routers import budgets, connectors, cost, health, jobs, me, security
from snowwatch import routes as route_table
from snowwatch.db import get_connection
from snowwatch.errors import ForbiddenError, SnowwatchError, UnauthorizedError, error_body
from snowwatch.models.common import Caller
from snowwatch.observability import logger, metrics, tracer
from snowwatch.repositories import users
from snowwatch.services import connectors as connectors_service
from snowwatch.services.auth import claims_from_context
from snowwatch.settings import JobSettings, get_settings

app = APIGatewayRestResolver(enable_validation=True)


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=int(status), content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def authorize(event: dict[str, Any]) -> dict[str, Any]:
    """Identify the caller and enforce the route table's `auth` and connector ownership.

    Runs before the resolver (and so before request validation): a member gets 403 on an admin
    route and another org's connector 404, whatever the body says.
    """
    route = route_table.BY_KEY.get((event.get("httpMethod", ""), event.get("resource", "")))
    if route is None or route.auth == "public":
        return {}
    settings = get_settings(JobSettings)
    conn = get_connection(settings)
    claims = claims_from_context(dict((event.get("requestContext") or {}).get("authorizer") or {}))
    caller = Caller.model_validate(users.upsert_from_claims(conn, claims))
    if route.auth == "admin" and not caller.is_admin:
        raise ForbiddenError("this action needs the admin role")
    if "connector_id" in route.path_params:
        connectors_service.require(conn, caller, (event.get("pathParameters") or {}).get("connector_id", ""))
    return {"caller": caller, "conn": conn, "settings": settings}


for module in (health, me, connectors, jobs, cost, budgets, security):
    app.include_router(module.router)


@app.exception_handler(SnowwatchError)
def _typed_error(exc: SnowwatchError) -> Response:
    if exc.status >= 500:
        logger.exception("server error", extra={"code": exc.code})
    return _json(exc.status, error_body(exc.code, exc.message, exc.details))


@app.exception_handler(RequestValidationError)
def _validation_error(exc: RequestValidationError) -> Response:
    # Never echo `input` back: it can hold a private key or a password.
    details = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
    ]
    if any(d["type"] == "json_invalid" for d in details):
        return _json(400, error_body("bad_request", "request body is not valid JSON", details))
    return _json(422, error_body("validation_error", "request validation failed", details))


@app.exception_handler(DatabaseError)
def _database_error(exc: DatabaseError) -> Response:
    code = exc.args[0].get("C", "") if exc.args and isinstance(exc.args[0], dict) else ""
    if code == "23505":
        return _json(409, error_body("conflict", "that resource exists already"))
    if code in ("23514", "23502", "22P02", "22003", "22007", "22008", "23503"):
        return _json(422, error_body("validation_error", "the database rejected a value", {"sqlstate": code}))
    logger.exception("database error", extra={"sqlstate": code})
    return _json(500, error_body("internal_error", "internal error"))


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    logger.exception("unhandled error")
    return _json(500, error_body("internal_error", "internal error"))


@app.not_found
def _not_found(exc: Exception) -> Response:
    return _json(404, error_body("not_found", "no such route"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        app.append_context(**authorize(event))
    except SnowwatchError as exc:
        if exc.status >= 500:
            logger.exception("server error", extra={"code": exc.code})
        return {
            "statusCode": int(exc.status),
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": json.dumps(error_body(exc.code, exc.message, exc.details)),
            "isBase64Encoded": False,
        }
    return app.resolve(event, context)


__all__ = ["UnauthorizedError", "app", "lambda_handler"]
