"""Typed errors, and the one place that maps any error to an HTTP status and the JSON error body.

:func:`to_http` is the API's only error path: typed errors carry their status and a message safe to
show; database errors are mapped by SQLSTATE and constraint name (structured fields of the server's
answer, never its message text); request validation errors keep location, message and type, never the
input; anything else is a 500 with no detail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from pg8000.exceptions import DatabaseError
from pydantic import ValidationError


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

    @staticmethod
    def from_errors(errors: Iterable[Mapping[str, Any]]) -> SnowwatchError:
        """From pydantic's (or Powertools') error list: location, message and type of each, never the
        input (it can hold a private key or a password). A body that is not JSON is a 400."""
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors]
        if any(d["type"] == "json_invalid" for d in details):
            return BadRequestError("request body is not valid JSON", details)
        return ValidationFailedError("request validation failed", details)


class PayloadTooLargeError(SnowwatchError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"


class UnsupportedMediaTypeError(SnowwatchError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"


class ReadOnlyViolationError(SnowwatchError):
    """A statement other than one allowed read (snowflake/guard.py) was about to reach Snowflake."""

    code = "read_only_violation"


class UpstreamError(SnowwatchError):
    """Snowflake, SES, Slack or another dependency failed (transient or not)."""

    status = HTTPStatus.BAD_GATEWAY
    code = "upstream_error"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one JSON error envelope: {"error": {"code", "message", "details"}}."""
    return {"error": {"code": code, "message": message, "details": details}}


# Unique constraints whose violation is the caller's doing: 409 with a message naming the field.
CONFLICTS = {
    "connectors_org_id_name_key": "a connector with that name exists already",
    "snowflake_budgets_connector_id_name_key": "a budget with that name exists already for this connector",
}
# SQLSTATEs of values the database refused: 422.
REFUSED_VALUES = frozenset({"23514", "23502", "22P02", "22003", "22007", "22008", "23503", "22001", "22021"})


def _database_error(fields: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    state, constraint = str(fields.get("C", "")), str(fields.get("n", ""))
    if state == "23505":
        return 409, error_body("conflict", CONFLICTS.get(constraint, "that resource exists already"))
    if state in REFUSED_VALUES:
        return 422, error_body("validation_error", "the database rejected a value", {"sqlstate": state})
    return 500, error_body("internal_error", "internal error")


def to_http(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body for any exception (the caller logs 5xx)."""
    if isinstance(exc, ValidationError):
        exc = ValidationFailedError.from_errors(exc.errors())
    if isinstance(exc, SnowwatchError):
        return int(exc.status), error_body(exc.code, exc.message, exc.details)
    if isinstance(exc, DatabaseError) and exc.args and isinstance(exc.args[0], dict):
        return _database_error(exc.args[0])
    return 500, error_body("internal_error", "internal error")
