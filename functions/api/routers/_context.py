"""What the auth middleware put on the request: the caller, the connection and the settings."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from pg8000.native import Connection

from snowwatch.models.common import Caller
from snowwatch.settings import JobSettings


def caller(router: Router) -> Caller:
    value: Caller = router.context["caller"]
    return value


def conn(router: Router) -> Connection:
    value: Connection = router.context["conn"]
    return value


def settings(router: Router) -> JobSettings:
    value: JobSettings = router.context["settings"]
    return value


def accepted(body: Any) -> tuple[dict[str, Any], int]:
    return body.model_dump(mode="json"), 202
