"""The API function: admission, then a Powertools REST resolver with one Router per domain.

Every route comes from snowwatch.routes (the route table that the CDK and the local server read).
Admission (admission.py) runs before the resolver and so before request validation: unknown routes,
missing identities, roles, connector ownership and hostile input are refused there. Every error, before
or inside the resolver, goes through the one mapping ``snowwatch.errors.to_http``.
"""

from __future__ import annotations

import json
from typing import Any

from admission import admit
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from routers import budgets, connectors, cost, health, jobs, me, org, security
from snowwatch.errors import ValidationFailedError, error_body, to_http
from snowwatch.observability import logger, metrics, tracer

app = APIGatewayRestResolver(enable_validation=True)

for module in (health, me, connectors, jobs, cost, budgets, security, org):
    app.include_router(module.router)


def _error(exc: BaseException) -> tuple[int, str]:
    status, body = to_http(exc)
    if status >= 500:
        logger.exception("server error", extra={"error_type": type(exc).__name__})
    return status, json.dumps(body)


@app.exception_handler(Exception)
def _any_error(exc: Exception) -> Response:
    if isinstance(exc, RequestValidationError):
        exc = ValidationFailedError.from_errors(exc.errors())
    status, body = _error(exc)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.not_found
def _not_found(exc: Exception) -> Response:
    return Response(404, content_types.APPLICATION_JSON, json.dumps(error_body("not_found", "no such route")))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        request = admit(event)
    except Exception as exc:
        status, body = _error(exc)
        headers = {"Content-Type": content_types.APPLICATION_JSON}
        return {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": False}
    app.append_context(**request)
    return app.resolve(event, context)
