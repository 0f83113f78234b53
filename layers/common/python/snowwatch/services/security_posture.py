"""Authentication posture under Snowflake's deprecation of single-factor password sign-ins (final
enforcement October 2026): per user, a verdict and the SQL that fixes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from snowwatch.db import Connection
from snowwatch.models.security import AuthenticationPosture, PostureUser, PostureVerdict, VerdictCounts
from snowwatch.repositories import security_reads as reads_repo
from snowwatch.services.security_rules.base import ident
from snowwatch.services.security_rules.mfa import MFA_POLICY_SQL

WINDOW = timedelta(days=90)
ORDER: dict[str, int] = {"blocked": 0, "at_risk": 1, "ready": 2}


def _password_methods(methods: Sequence[Mapping[str, Any]]) -> tuple[bool, bool]:
    """(any password sign-in, any single-factor password sign-in) among the methods seen."""
    names = [str(m["method"]) for m in methods]
    return any(n.startswith("PASSWORD") for n in names), any(n == "PASSWORD" for n in names)


Verdict = tuple[PostureVerdict, list[str], str | None]


def verdict(user: Mapping[str, Any]) -> Verdict:
    """Ready, at risk or blocked under the password deprecation, why, and the fix SQL.

    - LEGACY_SERVICE: blocked when it signed in with a password (refused since the enforcement); otherwise at
      risk (the type is retired): move to a key pair, unset the password, set TYPE = SERVICE.
    - SERVICE: cannot use a password; at risk when it still holds one (unset it), ready otherwise.
    - PERSON or unset: ready without a password, or with a password and MFA and no single-factor password
      sign-in; at risk with a password and no MFA but no recent password sign-in, or with MFA enrolled yet a
      single-factor sign-in; blocked with a password, no MFA and single-factor password sign-ins.
    """
    name = ident(str(user["user_name"]))
    password_signins, single_factor = _password_methods(user["sign_in_methods"])
    keyless = not (user["has_rsa_public_key"] or user["has_pat"] or user["has_workload_identity"])
    key_sql = f"ALTER USER {name} SET RSA_PUBLIC_KEY = '<public key>';  -- add a key pair first\n" if keyless else ""
    unset = f"ALTER USER {name} UNSET PASSWORD;"
    if user["type"] == "LEGACY_SERVICE":
        fix = key_sql + (unset + "\n" if user["has_password"] else "") + f"ALTER USER {name} SET TYPE = SERVICE;"
        if password_signins:
            return "blocked", ["LEGACY_SERVICE signing in with a password: refused since the enforcement"], fix
        return "at_risk", ["TYPE LEGACY_SERVICE is retired: convert to SERVICE"], fix
    if user["type"] == "SERVICE":
        if password_signins:
            return "blocked", ["SERVICE user signing in with a password"], key_sql + unset
        if user["has_password"]:
            return "at_risk", ["SERVICE user still holds a password it cannot use"], unset
        return "ready", [], None
    return _person(name, bool(user["has_password"]), bool(user["has_mfa"]), single_factor)


def _person(name: str, has_password: bool, has_mfa: bool, single_factor: bool) -> Verdict:
    enroll = MFA_POLICY_SQL.format(user=name)
    if not has_password:
        return "ready", [], None
    if has_mfa:
        if single_factor:
            return "at_risk", ["MFA enrolled, yet signed in with a password alone"], enroll
        return "ready", [], None
    fix = f"{enroll}\n-- or, for a user who signs in through SSO only:\nALTER USER {name} UNSET PASSWORD;"
    if single_factor:
        return "blocked", ["single-factor password sign-ins: refused since the enforcement; no MFA enrolled"], fix
    return "at_risk", ["a password without MFA"], fix


def posture(
    conn: Connection,
    connector_id: UUID,
    *,
    verdict_filter: PostureVerdict | None,
    limit: int,
    offset: int,
    now: datetime | None = None,
) -> AuthenticationPosture:
    rows = reads_repo.authentication_posture(conn, connector_id, (now or datetime.now(UTC)) - WINDOW)
    users = []
    for r in rows:
        v, reasons, fix = verdict(r)
        users.append(PostureUser.model_validate({**r, "verdict": v, "reasons": reasons, "fix_sql": fix}))
    counts = VerdictCounts(**{v: sum(1 for u in users if u.verdict == v) for v in ORDER})
    users.sort(key=lambda u: (ORDER[u.verdict], u.user_name))
    selected = [u for u in users if verdict_filter is None or u.verdict == verdict_filter]
    return AuthenticationPosture(
        window_days=WINDOW.days,
        counts=counts,
        total=len(selected),
        limit=limit,
        offset=offset,
        users=selected[offset : offset + limit],
    )
