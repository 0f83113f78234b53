"""MFA rules: password users without a second factor, admins among them, open bypass windows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from snowwatch.repositories import security_identity as identity
from snowwatch.repositories.security_identity import BypassRow, NoMfaRow
from snowwatch.services.security_rules.base import Draft, Rule, ident

MFA_POLICY_SQL = (
    "CREATE AUTHENTICATION POLICY IF NOT EXISTS require_mfa MFA_ENROLLMENT = REQUIRED;\n"
    "ALTER USER {user} SET AUTHENTICATION POLICY require_mfa;"
)


def no_mfa_users(rows: Sequence[NoMfaRow], now: datetime, *, admins: bool) -> Iterator[Draft]:
    for r in rows:
        if r["is_admin"] is admins:
            role = " holds an admin role," if admins else ""
            yield Draft(
                r["user_name"],
                f"{r['user_name']}{role} signs in with a password and has no MFA method enrolled.",
                [r],
                MFA_POLICY_SQL.format(user=ident(r["user_name"])),
                now,
            )


def judge_password_user(rows: Sequence[NoMfaRow], now: datetime) -> Iterator[Draft]:
    return no_mfa_users(rows, now, admins=False)


def judge_admin(rows: Sequence[NoMfaRow], now: datetime) -> Iterator[Draft]:
    return no_mfa_users(rows, now, admins=True)


def judge_bypass(rows: Sequence[BypassRow], now: datetime) -> Iterator[Draft]:
    for r in rows:
        yield Draft(
            r["user_name"],
            f"{r['user_name']} may sign in without MFA until {r['bypass_mfa_until'].isoformat()}.",
            [r],
            f"ALTER USER {ident(r['user_name'])} SET MINS_TO_BYPASS_MFA = 0;",
            now,
        )


RULES = [
    Rule(
        id="mfa_password_user",
        severity="high",
        title="Password user without MFA",
        fires="An enabled human non-admin with a password and neither `HAS_MFA` nor the legacy `EXT_AUTHN_DUO` "
        "(one alert per user)",
        rationale="Stolen passwords on accounts without MFA were the way in for the 2024 UNC5537 campaign; CIS "
        "1.4 requires MFA for every password user. HAS_MFA covers every MFA method (the legacy EXT_AUTHN_DUO "
        "flag alone misses TOTP and passkeys). Admins are reported by mfa_admin instead.",
        fetch=lambda conn, c, now: identity.password_users_without_mfa(conn, c),
        judge=judge_password_user,
    ),
    Rule(
        id="mfa_admin",
        severity="critical",
        title="Admin with a password and no MFA",
        fires="An effective admin (human, enabled) with a password and neither `HAS_MFA` nor `EXT_AUTHN_DUO`",
        rationale="An effective ACCOUNTADMIN/SECURITYADMIN holder with a single-factor password is one phished "
        "or reused password away from a full account takeover.",
        fetch=lambda conn, c, now: identity.password_users_without_mfa(conn, c),
        judge=judge_admin,
    ),
    Rule(
        id="mfa_bypass_active",
        severity="medium",
        title="MFA bypass window open",
        fires="`BYPASS_MFA_UNTIL` in the future",
        rationale="BYPASS_MFA_UNTIL in the future lets the user sign in without the second factor until then; "
        "it is meant for minutes-long recovery, not standing access.",
        fetch=identity.mfa_bypass_active,
        judge=judge_bypass,
    ),
]
