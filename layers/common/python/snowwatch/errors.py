"""Typed errors. The API maps them to HTTP in one place (functions/api/handler.py via ``to_http``)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class SnowwatchError(Exception):
    """Base class: a message safe to show the caller, a stable code, and optional details."""

    status: HTTPStatus = HTTPStatus.INTERNAL_SERVER_ERROR
    code: str = "internal_error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequestError(SnowwatchError):
    status = HTTPStatus.BAD_REQUEST
    code = "bad_request"


class UnauthorizedError(SnowwatchError):
    status = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"


class ForbiddenError(SnowwatchError):
    status = HTTPStatus.FORBIDDEN
    code = "forbidden"


class NotFoundError(SnowwatchError):
    status = HTTPStatus.NOT_FOUND
    code = "not_found"


class ConflictError(SnowwatchError):
    status = HTTPStatus.CONFLICT
    code = "conflict"


class ValidationFailedError(SnowwatchError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "validation_error"


class ReadOnlyViolationError(SnowwatchError):
    """A statement other than SELECT/SHOW/DESCRIBE/USE/ALTER SESSION was about to reach Snowflake."""

    code = "read_only_violation"


class UpstreamError(SnowwatchError):
    """Snowflake, SES, Slack or another dependency failed (transient or not)."""

    status = HTTPStatus.BAD_GATEWAY
    code = "upstream_error"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one JSON error envelope: {"error": {"code", "message", "details"}}."""
    return {"error": {"code": code, "message": message, "details": details}}
