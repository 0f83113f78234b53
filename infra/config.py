"""Deployment settings read from CDK context (cdk.json defaults, `-c key=value` overrides)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from constructs import Construct

from infra.constants import CONTEXT_DEFAULTS


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Config:
    stack_name: str
    prod: bool
    timezone: str
    ses_sender: str
    dashboard_origin: str
    dashboard_url: str
    jwks_url: str
    jwt_audience: str
    jwt_issuer: str
    jwt_org_claim: str
    jwt_role_claim: str
    jwt_email_claim: str
    vpc_id: str
    vpc_endpoints: bool
    db_instance_class: str
    reserved_concurrency: bool
    schedules_enabled: bool
    alarm_email: str
    build_version: str

    @classmethod
    def from_scope(cls, scope: Construct) -> Config:
        def get(key: str) -> object:
            value = scope.node.try_get_context(key)
            return CONTEXT_DEFAULTS[key] if value is None else value

        timezone = str(get("timezone"))
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"context timezone={timezone!r} is not an IANA timezone") from exc
        return cls(
            stack_name=str(get("stack_name")),
            prod=_bool(get("prod")),
            timezone=timezone,
            ses_sender=str(get("ses_sender")),
            dashboard_origin=str(get("dashboard_origin")),
            dashboard_url=str(get("dashboard_url")),
            jwks_url=str(get("jwks_url")),
            jwt_audience=str(get("jwt_audience")),
            jwt_issuer=str(get("jwt_issuer")),
            jwt_org_claim=str(get("jwt_org_claim")),
            jwt_role_claim=str(get("jwt_role_claim")),
            jwt_email_claim=str(get("jwt_email_claim")),
            vpc_id=str(get("vpc_id")),
            vpc_endpoints=_bool(get("vpc_endpoints")),
            db_instance_class=str(get("db_instance_class")),
            reserved_concurrency=_bool(get("reserved_concurrency")),
            schedules_enabled=_bool(get("schedules_enabled")),
            alarm_email=str(get("alarm_email")),
            build_version=str(get("build_version")),
        )

    @property
    def log_retention_days(self) -> int:
        from infra.constants import LOG_RETENTION_DAYS, LOG_RETENTION_DAYS_PROD

        return LOG_RETENTION_DAYS_PROD if self.prod else LOG_RETENTION_DAYS
