"""Budget contracts: what the API accepts and answers, and the rows budget_check writes.

The Slack credential (bot token or incoming-webhook URL) is write-only: it goes to Secrets Manager
and only its reference is stored; answers say which kind of target is configured, never the secret.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from snowwatch.models.common import Number

Period = Literal["daily", "weekly", "monthly", "quarterly", "yearly"]
ScopeType = Literal["account", "warehouses", "query_tag"]
AmountUnit = Literal["credits", "currency"]
Basis = Literal["actual", "forecast"]
DeliveryStatus = Literal["pending", "sending", "sent", "failed"]

MAX_THRESHOLDS = 10
MAX_EMAILS = 50
MAX_WAREHOUSES = 100
# Pragmatic address check (no DNS): one @, a dotted domain, no spaces or angle brackets.
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)
SLACK_CHANNEL = re.compile(r"^[#@]?[A-Za-z0-9_\-.]{1,80}$")
WAREHOUSE = re.compile(r"^[A-Za-z0-9_$.\-\"]{1,255}$")


class Threshold(BaseModel):
    """Fire when spend (actual) or the forecast to period end reaches a percent of the amount or an absolute value.

    Absolute values are in the budget's unit (credits or currency).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["percent", "absolute"] = "percent"
    value: Number = Field(gt=0, le=Decimal("1000000000"))
    basis: Basis = "actual"

    @model_validator(mode="after")
    def _percent_range(self) -> Threshold:
        if self.type == "percent" and self.value > 1000:
            raise ValueError("a percent threshold must be at most 1000")
        return self

    @property
    def key(self) -> str:
        """Stable identity inside a budget (the alert's threshold_key; SQL computes the same text)."""
        return f"{self.type}:{format(self.value.normalize(), 'f')}"


class SlackTargetIn(BaseModel):
    """Either a channel and a bot token (chat.postMessage) or an incoming webhook URL."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: str | None = Field(default=None, description="Channel id or name; needed with bot_token")
    bot_token: SecretStr | None = Field(default=None, description="xoxb-… bot token (write-only)")
    webhook_url: SecretStr | None = Field(
        default=None,
        description="Incoming webhook URL (write-only): https on an allowed host, hooks.slack.com by default",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> SlackTargetIn:
        if (self.bot_token is None) == (self.webhook_url is None):
            raise ValueError("give exactly one of bot_token (with channel) or webhook_url")
        if self.bot_token is not None and not self.channel:
            raise ValueError("channel is required with bot_token")
        if self.channel is not None and not SLACK_CHANNEL.match(self.channel):
            raise ValueError("not a Slack channel name or id")
        if self.webhook_url is not None and not self.webhook_url.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("webhook_url must be an http(s) URL")
        return self

    def secret_payload(self) -> dict[str, str]:
        if self.bot_token is not None:
            return {"bot_token": self.bot_token.get_secret_value()}
        assert self.webhook_url is not None
        return {"webhook_url": self.webhook_url.get_secret_value()}


class BudgetIn(BaseModel):
    """Create, or replace (PUT) a budget. On PUT, omitting `slack` keeps the stored target; null removes it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    scope_type: ScopeType = "account"
    warehouses: list[str] = Field(default_factory=list, max_length=MAX_WAREHOUSES)
    query_tag: str | None = Field(default=None, min_length=1, max_length=2000)
    period: Period = "monthly"
    amount: Decimal = Field(gt=0, le=Decimal("1000000000000"), decimal_places=4)
    amount_unit: AmountUnit = "credits"
    thresholds: list[Threshold] = Field(default_factory=list, max_length=MAX_THRESHOLDS)
    alert_emails: list[str] = Field(default_factory=list, max_length=MAX_EMAILS)
    slack: SlackTargetIn | None = None
    active: bool = True

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for i, raw in enumerate(value):
            email = raw.strip()
            if len(email) > 254 or not EMAIL.match(email):
                raise ValueError(f"entry {i} is not an email address")
            if email.lower() not in (e.lower() for e in out):
                out.append(email)
        return out

    @field_validator("warehouses")
    @classmethod
    def _warehouses(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for i, raw in enumerate(value):
            name = raw.strip()
            if not WAREHOUSE.match(name):
                raise ValueError(f"entry {i} is not a warehouse name")
            if name not in out:
                out.append(name)
        return out

    @field_validator("thresholds")
    @classmethod
    def _unique(cls, value: list[Threshold]) -> list[Threshold]:
        seen: set[tuple[str, str]] = set()
        for t in value:
            if (t.key, t.basis) in seen:
                raise ValueError(f"duplicate threshold {t.type} {t.value} on {t.basis}")
            seen.add((t.key, t.basis))
        return value

    @model_validator(mode="after")
    def _scope(self) -> BudgetIn:
        if self.scope_type == "warehouses" and not self.warehouses:
            raise ValueError("scope_type warehouses needs at least one warehouse")
        if self.scope_type != "warehouses" and self.warehouses:
            raise ValueError("warehouses apply to scope_type warehouses only")
        if self.scope_type == "query_tag" and not self.query_tag:
            raise ValueError("scope_type query_tag needs query_tag")
        if self.scope_type != "query_tag" and self.query_tag is not None:
            raise ValueError("query_tag applies to scope_type query_tag only")
        return self


class SlackTargetOut(BaseModel):
    kind: Literal["bot", "webhook"]
    channel: str | None


class BudgetStatus(BaseModel):
    """Where the budget stands in its current period (computed by the same SQL as budget_check)."""

    period_start: date
    period_end: date
    spend: Number
    forecast: Number
    percent: Number
    forecast_percent: Number


class BudgetOut(BaseModel):
    id: UUID
    connector_id: UUID
    name: str
    scope_type: ScopeType
    warehouses: list[str]
    query_tag: str | None
    period: Period
    amount: Number
    amount_unit: AmountUnit
    currency: str
    thresholds: list[Threshold]
    alert_emails: list[str]
    slack: SlackTargetOut | None
    active: bool
    created_at: datetime
    updated_at: datetime
    status: BudgetStatus | None = None


class BudgetSnapshotOut(BaseModel):
    snapshot_date: date
    period_start: date
    spend: Number
    amount: Number
    percent: Number
    forecast: Number | None


class Delivery(BaseModel):
    """One outbox row of an alert: its channel, recipients and delivery state."""

    id: UUID
    channel: Literal["email", "slack"]
    recipients: list[str]
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class BudgetAlertOut(BaseModel):
    id: UUID
    period_start: date
    period_end: date
    threshold_key: str
    kind: Basis
    threshold: Threshold
    spend: Number
    forecast: Number | None
    amount: Number
    percent: Number
    fired_at: datetime
    deliveries: list[Delivery]
