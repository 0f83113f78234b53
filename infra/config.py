"""Deployment settings read from CDK context (cdk.json defaults, `-c key=value` overrides)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from constructs import Construct

from infra.constants import CONTEXT_DEFAULTS, PROFILES, Profile

# The JWKS URL cdk.json ships with: a synth works offline, a deploy with it authenticates no one.
PLACEHOLDER_JWKS_URL = "https://idp.example.com/.well-known/jwks.json"


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class ConfigError(ValueError):
    """Context that cannot be deployed: the synth stops before building anything."""


@dataclass(frozen=True)
class Config:
    stack_name: str
    profile: Profile
    timezone: str
    ses_sender: str
    ses_create_identity: bool
    dashboard_origin: str
    dashboard_url: str
    jwks_url: str
    jwt_audience: str
    jwt_issuer: str
    jwt_org_claim: str
    jwt_role_claim: str
    jwt_email_claim: str
    vpc_id: str
    db_instance_class: str
    schedules_enabled: bool
    alarm_email: str
    build_version: str

    @classmethod
    def from_scope(cls, scope: Construct) -> Config:
        def get(key: str) -> object:
            value = scope.node.try_get_context(key)
            return CONTEXT_DEFAULTS[key] if value is None else value

        if scope.node.try_get_context("prod") is not None:
            raise ConfigError("context `prod` is gone: use `-c profile=prod` (or lean, the default)")
        timezone = str(get("timezone"))
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"context timezone={timezone!r} is not an IANA timezone") from exc
        profile_name = str(get("profile"))
        if profile_name not in PROFILES:
            raise ConfigError(f"context profile={profile_name!r}: use one of {sorted(PROFILES)}")
        profile = PROFILES[profile_name]
        config = cls(
            stack_name=str(get("stack_name")),
            profile=profile,
            timezone=timezone,
            ses_sender=str(get("ses_sender")),
            ses_create_identity=_bool(get("ses_create_identity")),
            dashboard_origin=str(get("dashboard_origin")),
            dashboard_url=str(get("dashboard_url")),
            jwks_url=str(get("jwks_url")),
            jwt_audience=str(get("jwt_audience")),
            jwt_issuer=str(get("jwt_issuer")),
            jwt_org_claim=str(get("jwt_org_claim")),
            jwt_role_claim=str(get("jwt_role_claim")),
            jwt_email_claim=str(get("jwt_email_claim")),
            vpc_id=str(get("vpc_id")),
            db_instance_class=str(get("db_instance_class")) or profile.db_instance_class,
            schedules_enabled=_bool(get("schedules_enabled")),
            alarm_email=str(get("alarm_email")),
            build_version=str(get("build_version")),
        )
        if config.prod:
            missing = config.missing_identity_settings()
            if missing:
                raise ConfigError(
                    f"profile=prod needs {', '.join(missing)}: without them the authorizer would accept tokens "
                    "the IdP issues for other applications (see docs/deploy.md)"
                )
        return config

    @property
    def prod(self) -> bool:
        return self.profile.name == "prod"

    @property
    def log_retention_days(self) -> int:
        return self.profile.log_retention_days

    def missing_identity_settings(self) -> list[str]:
        """The IdP settings a real deployment needs and this context lacks."""
        missing = []
        if not self.jwks_url or self.jwks_url == PLACEHOLDER_JWKS_URL:
            missing.append("jwks_url")
        if not self.jwt_audience:
            missing.append("jwt_audience")
        if not self.jwt_issuer:
            missing.append("jwt_issuer")
        return missing
