"""Bearer JWT verification: HS256 with a shared secret locally, RS256 through the IdP's JWKS in AWS."""

from __future__ import annotations

import time
from functools import cache
from typing import Any

import jwt
from pydantic import ValidationError

from snowwatch.errors import UnauthorizedError
from snowwatch.models.users import Claims
from snowwatch.settings import AuthSettings

LEEWAY_SECONDS = 30


@cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5)


def bearer_token(header: str | None) -> str:
    if not header:
        raise UnauthorizedError("missing bearer token")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("expected 'Authorization: Bearer <token>'")
    return token.strip()


def verify(token: str, settings: AuthSettings) -> Claims:
    """The token's claims, or UnauthorizedError for a bad, expired or wrongly signed token."""
    try:
        if settings.jwt_algorithm == "HS256":
            key: Any = settings.jwt_secret
        else:
            key = _jwks_client(settings.jwks_url or "").get_signing_key_from_jwt(token).key
        payload = jwt.decode(
            token,
            key,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub"], "verify_aud": settings.jwt_audience is not None},
        )
    except jwt.ExpiredSignatureError as exc:
        raise UnauthorizedError("token expired") from exc
    except jwt.PyJWTError as exc:
        raise UnauthorizedError("invalid token") from exc
    try:
        return Claims(
            subject=payload["sub"],
            email=payload.get(settings.email_claim, ""),
            org=payload.get(settings.org_claim, ""),
            role=payload.get(settings.role_claim, ""),
            name=payload.get("name"),
            exp=int(payload["exp"]),
        )
    except (ValidationError, TypeError, ValueError) as exc:
        raise UnauthorizedError("token lacks the email, org or role claim") from exc


def issue_dev_token(settings: AuthSettings, claims: Claims, ttl_seconds: int = 86400 * 7) -> str:
    """A locally signed HS256 token (the local stack and tests only)."""
    if settings.jwt_algorithm != "HS256" or not settings.jwt_secret:
        raise RuntimeError("dev tokens need HS256 and JWT_SECRET")
    now = int(time.time())
    body = {
        "sub": claims.subject,
        settings.email_claim: claims.email,
        settings.org_claim: claims.org,
        settings.role_claim: claims.role,
        "name": claims.name,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if settings.jwt_audience:
        body["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        body["iss"] = settings.jwt_issuer
    return jwt.encode(body, settings.jwt_secret, algorithm="HS256")


def authorizer_context(claims: Claims) -> dict[str, str]:
    """What the TOKEN authorizer hands the API (API Gateway allows flat string values only). The expiry
    travels too: API Gateway caches this answer per token, so the API itself refuses an expired token."""
    return {
        "subject": claims.subject,
        "email": claims.email,
        "org": claims.org,
        "role": claims.role,
        "name": claims.name or "",
        "exp": "" if claims.exp is None else str(claims.exp),
    }


def claims_from_context(context: dict[str, Any]) -> Claims:
    """Rebuild the claims from the authorizer context the API receives."""
    try:
        return Claims(
            subject=context["subject"],
            email=context["email"],
            org=context["org"],
            role=context["role"],
            name=context.get("name") or None,
            exp=int(context["exp"]) if context.get("exp") else None,
        )
    except (KeyError, ValidationError, TypeError, ValueError) as exc:
        raise UnauthorizedError("request carries no verified identity") from exc
