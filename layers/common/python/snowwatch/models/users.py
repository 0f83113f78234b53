"""The caller as the identity provider describes it, and as we store it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Claims(BaseModel):
    """Verified token claims, normalised from whatever names the IdP uses."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(min_length=1, max_length=255)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)
    org: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "member"]
    name: str | None = None
    exp: int | None = Field(default=None, description="Expiry (epoch seconds): the API refuses an expired token")


class UserOut(BaseModel):
    id: UUID
    org_id: UUID
    org_external_id: str
    subject: str
    email: str
    name: str | None
    role: Literal["admin", "member"]
    created_at: datetime
    last_seen_at: datetime
