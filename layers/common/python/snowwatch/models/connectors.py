"""Connector contracts. The Snowflake credential is write-only: it is stored in Secrets Manager and
never returned or logged (SecretStr hides it from repr and logs)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from snowwatch.models.common import Number

IDENT = re.compile(r"^[A-Za-z0-9_$.\-]{1,255}$")
ACCOUNT = re.compile(r"^[A-Za-z0-9_\-.]{1,255}$")


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone: give an IANA name such as Europe/Paris") from None
    return value


class _ConnectorFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("username", "role_name", "warehouse", check_fields=False)
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is not None and not IDENT.match(value):
            raise ValueError("must be a Snowflake identifier (letters, digits, _ $ . -)")
        return value

    @field_validator("account_identifier", check_fields=False)
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not ACCOUNT.match(value):
            raise ValueError("must look like ORGNAME-ACCOUNTNAME or a locator")
        return value

    @field_validator("timezone", check_fields=False)
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _timezone(value)


class ConnectorCreate(_ConnectorFields):
    name: str = Field(min_length=1, max_length=100)
    account_identifier: str
    username: str
    role_name: str = "SNOWWATCH_READER"
    warehouse: str
    auth_method: Literal["key_pair", "password"] = "key_pair"
    private_key: SecretStr | None = Field(default=None, description="PEM private key (key-pair auth)")
    private_key_passphrase: SecretStr | None = None
    password: SecretStr | None = Field(default=None, description="Only with auth_method=password")
    secret_arn: str | None = Field(default=None, description="An existing Secrets Manager secret instead")
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    credit_price: Decimal = Field(default=Decimal("3.00"), ge=0, le=1000)
    storage_price_per_tb: Decimal = Field(default=Decimal("23.00"), ge=0, le=10000)
    timezone: str = "UTC"
    backfill_days: int = Field(default=90, ge=1, le=365)

    @model_validator(mode="after")
    def _one_credential(self) -> ConnectorCreate:
        given = [x for x in (self.private_key, self.password, self.secret_arn) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of private_key, password or secret_arn")
        if self.auth_method == "key_pair" and self.password is not None:
            raise ValueError("password given but auth_method is key_pair")
        if self.auth_method == "password" and self.private_key is not None:
            raise ValueError("private_key given but auth_method is password")
        if self.private_key is not None and "PRIVATE KEY" not in self.private_key.get_secret_value():
            raise ValueError("private_key must be a PEM private key")
        return self


class ConnectorUpdate(_ConnectorFields):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    account_identifier: str | None = None
    username: str | None = None
    role_name: str | None = None
    warehouse: str | None = None
    private_key: SecretStr | None = None
    private_key_passphrase: SecretStr | None = None
    password: SecretStr | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    credit_price: Decimal | None = Field(default=None, ge=0, le=1000)
    storage_price_per_tb: Decimal | None = Field(default=None, ge=0, le=10000)
    timezone: str | None = None
    backfill_days: int | None = Field(default=None, ge=1, le=365)
    status: Literal["active", "paused"] | None = None


class Connector(BaseModel):
    """A connector as stored (the secret reference stays inside the backend)."""

    id: UUID
    org_id: UUID
    name: str
    account_identifier: str
    username: str
    role_name: str
    warehouse: str
    auth_method: Literal["key_pair", "password"]
    secret_ref: str = Field(exclude=True)
    currency: str
    credit_price: Decimal
    storage_price_per_tb: Decimal
    currency_source: Literal["configured_price", "organization_usage"]
    timezone: str
    backfill_days: int
    status: Literal["active", "paused", "error"]
    last_sync_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ConnectorOut(BaseModel):
    id: UUID
    name: str
    account_identifier: str
    username: str
    role_name: str
    warehouse: str
    auth_method: Literal["key_pair", "password"]
    currency: str
    credit_price: Number
    storage_price_per_tb: Number
    currency_source: Literal["configured_price", "organization_usage"]
    timezone: str
    backfill_days: int
    status: Literal["active", "paused", "error"]
    last_sync_at: datetime | None
    created_at: datetime
    updated_at: datetime
