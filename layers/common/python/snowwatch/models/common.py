"""Shapes shared by every domain: the caller, pages, errors, date ranges."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

T = TypeVar("T")

MAX_RANGE_DAYS = 366

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

    start: date
    end: date

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
