"""The notification outbox: rows written with the alert that caused them, delivered by functions/notify."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

Channel = Literal["email", "slack"]
SourceType = Literal["budget_alert", "security_alert", "security_incident"]
OutboxStatus = Literal["pending", "sending", "sent", "failed"]


class OutboxDelivery(BaseModel):
    """One channel of an alert: becomes one outbox row.

    email: ``recipients`` are addresses; empty means the org's admins, resolved when the row is written.
    slack: ``slack_secret_ref`` is the Secrets Manager reference holding ``{"bot_token"}`` (then
    ``slack_channel`` is required) or ``{"webhook_url"}``.
    """

    model_config = ConfigDict(frozen=True)

    channel: Channel
    recipients: list[str] = Field(default_factory=list)
    slack_secret_ref: str | None = None
    slack_channel: str | None = None


class Notification(BaseModel):
    """An outbox row as the notifier sees it."""

    id: UUID
    org_id: UUID
    connector_id: UUID | None
    source_type: SourceType
    source_id: UUID
    channel: Channel
    recipients: list[str]
    payload: dict[str, Any]
    status: OutboxStatus
    attempts: int
    last_error: str | None = None
    dedupe_key: str
    created_at: datetime
    published_at: datetime | None = None
    sent_at: datetime | None = None

    @field_validator("payload", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value)
        return value


DeliveryOutcome = Literal["sent", "skipped", "retry", "failed"]
