"""Shapes shared by every domain: the caller, pages, errors, date ranges."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, model_validator

T = TypeVar("T")

MAX_RANGE_DAYS = 366
# The documented window of every date and time a request may carry. Bounding them before any arithmetic
# or SQL keeps a "0001-01-01T00:00:00+14:00" from overflowing (in Python or in the database driver).
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)
WINDOW_MESSAGE = f"dates must fall between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}"


def _day_in_window(value: date) -> date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValueError(WINDOW_MESSAGE)
    return value


def _instant_in_window(value: datetime) -> datetime:
    """Bounded on its own calendar date first, then shifted to UTC (a naive time is taken as UTC)."""
    _day_in_window(value.date())
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# A calendar day within the documented window.
Day = Annotated[date, AfterValidator(_day_in_window)]
# A point in time within the documented window, as aware UTC.
Instant = Annotated[datetime, AfterValidator(_instant_in_window)]

# Exact in Postgres and in arithmetic, a JSON number on the wire.
Number = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class Caller(BaseModel):
    """Who is calling: from the authorizer's context, after provisioning."""

    model_config = ConfigDict(frozen=True)

    user_id: UUID
    org_id: UUID
    subject: str
    email: str
    role: Literal["admin", "member"]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class DateRange(BaseModel):
    """An inclusive date range, validated: start <= end, at most a year and a day."""

    start: Day
    end: Day

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.start > self.end:
            raise ValueError("start must be on or before end")
        if (self.end - self.start).days > MAX_RANGE_DAYS:
            raise ValueError(f"a range may span at most {MAX_RANGE_DAYS} days")
        return self


class Accepted(BaseModel):
    """202 answer for work that runs asynchronously."""

    run_id: UUID
    job: str
    status: str = Field(default="queued")
