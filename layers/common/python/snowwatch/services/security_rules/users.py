"""User rules: stale users, service users holding passwords, key-pair users signing in with one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from snowwatch.repositories import security_events as events
from snowwatch.repositories import security_identity as identity
from snowwatch.repositories.security_events import KeypairLoginRow, LegacyPasswordLoginRow
from snowwatch.repositories.security_identity import ServiceUserRow, StaleUserRow
from snowwatch.services.security_rules.base import EVENT_LOOKBACK, Draft, Rule, ident

STALE_DAYS = 90


def judge_stale(rows: Sequence[StaleUserRow], now: datetime) -> Iterator[Draft]:
    for r in rows:
        never = " (never signed in)." if r["last_success_login"] is None else "."
        yield Draft(
            r["user_name"],
            f"{r['user_name']} has not signed in successfully for {r['days_inactive']} days{never}",
            [r],
            f"ALTER USER {ident(r['user_name'])} SET DISABLED = TRUE;",
            now,
        )


def judge_service_password(rows: Sequence[ServiceUserRow], now: datetime) -> Iterator[Draft]:
    for r in rows:
        user = ident(r["user_name"])
        sql = f"ALTER USER {user} UNSET PASSWORD;  -- after moving it to key-pair authentication"
        if r["type"] == "LEGACY_SERVICE":
            sql += f"\nALTER USER {user} SET TYPE = SERVICE;"
        yield Draft(r["user_name"], f"{r['type']} user {r['user_name']} still holds a password.", [r], sql, now)


def judge_keypair_password(rows: Sequence[KeypairLoginRow], now: datetime) -> Iterator[Draft]:
    for r in rows:
        yield Draft(
            r["subject"],
            f"{r['subject']} has an RSA public key but signed in with a password {r['logins']} time(s), "
            f"last at {r['last_login'].isoformat()}.",
            [r],
            f"ALTER USER {ident(r['subject'])} UNSET PASSWORD;",
            r["last_login"],
        )


def judge_legacy_password(rows: Sequence[LegacyPasswordLoginRow], now: datetime) -> Iterator[Draft]:
    for r in rows:
        user = ident(r["subject"])
        yield Draft(
            r["subject"],
            f"LEGACY_SERVICE user {r['subject']} signed in with a password {r['logins']} time(s), last at "
            f"{r['last_login'].isoformat()}: single-factor password sign-ins are refused since the deprecation's "
            "final enforcement.",
            [r],
            f"ALTER USER {user} SET RSA_PUBLIC_KEY = '<public key>';  -- move the integration to a key pair\n"
            f"ALTER USER {user} UNSET PASSWORD;\nALTER USER {user} SET TYPE = SERVICE;",
            r["last_login"],
        )


RULES = [
    Rule(
        id="stale_user",
        severity="low",
        title="Stale user",
        fires=f"Enabled, not deleted user without a successful login for {STALE_DAYS} days (last login = later "
        "of `USERS.LAST_SUCCESS_LOGIN` and the login history; never-logged-in users counted from `CREATED_ON`). "
        "Also written to `snowflake_stale_users`",
        rationale="CIS 1.8: users without a successful login for 90 days (never-logged-in users counted from "
        "their creation) are unmonitored credentials; disable them. Disabled and deleted users are excluded.",
        fetch=lambda conn, c, now: identity.stale_users(conn, c, now, STALE_DAYS),
        judge=judge_stale,
    ),
    Rule(
        id="service_user_password",
        severity="medium",
        title="Service user with a password",
        fires="`TYPE` SERVICE or LEGACY_SERVICE with `HAS_PASSWORD`",
        rationale="Service users (TYPE SERVICE or LEGACY_SERVICE) should authenticate with key pairs or OAuth; "
        "Snowflake is retiring single-factor passwords and converting LEGACY_SERVICE users, which breaks them.",
        fetch=lambda conn, c, now: identity.service_users_with_password(conn, c),
        judge=judge_service_password,
    ),
    Rule(
        id="keypair_user_password_login",
        severity="high",
        title="Key-pair user signed in with a password",
        fires="A user with `HAS_RSA_PUBLIC_KEY` whose successful login used `FIRST_AUTHENTICATION_FACTOR = "
        "'PASSWORD'` (7 days)",
        rationale="A user set up for key-pair authentication who signs in with a password is using a second, "
        "weaker credential that is likely shared or stolen.",
        fetch=lambda conn, c, now: events.keypair_users_password_logins(conn, c, now - EVENT_LOOKBACK),
        judge=judge_keypair_password,
        incident="user",
    ),
    Rule(
        id="legacy_service_password_login",
        severity="high",
        title="LEGACY_SERVICE user signing in with a password",
        fires="A successful sign-in with `FIRST_AUTHENTICATION_FACTOR = 'PASSWORD'` by an enabled `TYPE = "
        "LEGACY_SERVICE` user (7 days)",
        rationale="Snowflake's deprecation of single-factor password sign-ins reached its final enforcement in "
        "October 2026: a LEGACY_SERVICE integration still signing in with a password is about to break (or is "
        "running on an exemption) and holds the weakest credential there is.",
        fetch=lambda conn, c, now: events.legacy_service_password_logins(conn, c, now - EVENT_LOOKBACK),
        judge=judge_legacy_password,
        incident="user",
    ),
]
