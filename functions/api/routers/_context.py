"""What admission (functions/api/admission.py) put on the request, read by the routers.

Ownership of a connector-scoped route's connector was checked once, before the resolver ran; routers take
the connector from here and never look it up again.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from pg8000.native import Connection

from snowwatch.errors import UnauthorizedError
from snowwatch.models.common import Caller
from snowwatch.models.connectors import Connector
from snowwatch.settings import ApiSettings


def caller(router: Router) -> Caller:
    value: Caller | None = router.context.get("caller")
    if value is None:  # admission always sets it on a protected route; fail closed regardless
        raise UnauthorizedError("request carries no verified identity")
    return value


def conn(router: Router) -> Connection:
    value: Connection = router.context["conn"]
    return value


def settings(router: Router) -> ApiSettings:
    value: ApiSettings = router.context["settings"]
    return value


def connector(router: Router) -> Connector:
    """The route's connector, resolved and checked against the caller's org by admission."""
    value: Connector = router.context["connector"]
    return value


def accepted(body: Any) -> tuple[dict[str, Any], int]:
    return body.model_dump(mode="json"), 202
