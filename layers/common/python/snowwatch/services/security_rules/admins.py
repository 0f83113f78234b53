"""Admin rules (ACCOUNTADMIN/SECURITYADMIN held effectively, through any chain of role grants)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from snowwatch.repositories import security_identity as identity
from snowwatch.repositories.security_identity import AdminGrantRow, AdminRow, CustomRoleGrantRow, DefaultRoleRow
from snowwatch.services.security_rules.base import Draft, Rule, ident

ADMINS_MIN = 2
ADMINS_MAX_EXCLUSIVE = 10
NEW_GRANT_WINDOW = timedelta(days=7)


def judge_count(rows: Sequence[AdminRow], now: datetime) -> Iterator[Draft]:
    users = sorted({r["user_name"] for r in rows})
    if ADMINS_MIN <= len(users) < ADMINS_MAX_EXCLUSIVE:
        return
    if len(users) >= ADMINS_MAX_EXCLUSIVE:
        description = (
            f"{len(users)} users hold ACCOUNTADMIN or SECURITYADMIN (directly or inherited); keep it under "
            f"{ADMINS_MAX_EXCLUSIVE}."
        )
        sql = "\n".join(
            f"-- {r['user_name']}: {' -> '.join(r['path'])}\n"
            f"REVOKE ROLE {ident(r['path'][0])} FROM USER {ident(r['user_name'])};"
            for r in rows
        )
    else:
        description = f"Only {len(users)} user(s) hold ACCOUNTADMIN or SECURITYADMIN; keep at least {ADMINS_MIN}."
        sql = "GRANT ROLE ACCOUNTADMIN TO USER <a second, MFA-protected administrator>;"
    yield Draft("account", description, rows, sql, now, title=f"Number of admins out of range ({len(users)} admins)")


def judge_new_grant(rows: Sequence[AdminGrantRow], now: datetime) -> Iterator[Draft]:
    for r in rows:
        kind = r["granted_to"]
        yield Draft(
            f"{r['admin_role']} to {kind} {r['grantee_name']}",
            f"{r['admin_role']} was granted to {kind.lower()} {r['grantee_name']} by {r['granted_by']} "
            f"on {r['created_on'].isoformat()}.",
            [r],
            f"REVOKE ROLE {ident(r['admin_role'])} FROM {kind} {ident(r['grantee_name'])};  -- if unexpected",
            r["created_on"],
        )


def judge_default_role(rows: Sequence[DefaultRoleRow], now: datetime) -> Iterator[Draft]:
    for r in rows:
        yield Draft(
            r["user_name"],
            f"{r['user_name']} has {r['default_role']} as default role.",
            [r],
            f"ALTER USER {ident(r['user_name'])} SET DEFAULT_ROLE = PUBLIC;  -- or the user's working role",
            now,
        )


def judge_custom_role(rows: Sequence[CustomRoleGrantRow], now: datetime) -> Iterator[Draft]:
    for r in rows:
        yield Draft(
            f"{r['admin_role']} to ROLE {r['custom_role']}",
            f"{r['admin_role']} is granted to the custom role {r['custom_role']}.",
            [r],
            f"REVOKE ROLE {ident(r['admin_role'])} FROM ROLE {ident(r['custom_role'])};",
            now,
        )


RULES = [
    Rule(
        id="admin_count",
        severity="medium",
        title="Number of admins out of range",
        fires=f"Effective admins ≥ {ADMINS_MAX_EXCLUSIVE} or < {ADMINS_MIN} (one finding, subject `account`, "
        "evidence = each admin with the grant path)",
        rationale="CIS 1.10: at least 2 users (no single point of failure) and fewer than 10 (blast radius) "
        "should hold ACCOUNTADMIN or SECURITYADMIN, counting inheritance through role grants.",
        fetch=lambda conn, c, now: identity.effective_admins(conn, c),
        judge=judge_count,
    ),
    Rule(
        id="admin_grant_new",
        severity="high",
        title="New admin grant",
        fires="A live grant of an admin role to a user or a role created in the last 7 days",
        rationale="A fresh grant of ACCOUNTADMIN/SECURITYADMIN (to a user or a role) is how an intruder makes "
        "access stick; every one should be expected.",
        fetch=lambda conn, c, now: identity.new_admin_grants(conn, c, now - NEW_GRANT_WINDOW),
        judge=judge_new_grant,
    ),
    Rule(
        id="admin_default_role",
        severity="medium",
        title="Admin role as default role",
        fires="An enabled user whose `DEFAULT_ROLE` is an admin role",
        rationale="CIS 1.12: a user whose default role is ACCOUNTADMIN/SECURITYADMIN runs every session, "
        "script and BI tool with full privileges.",
        fetch=lambda conn, c, now: identity.admin_default_role_users(conn, c),
        judge=judge_default_role,
    ),
    Rule(
        id="admin_role_to_custom_role",
        severity="medium",
        title="Admin role granted to a custom role",
        fires="An admin role granted to a role that is not a system role (ACCOUNTADMIN, SECURITYADMIN, "
        "SYSADMIN, USERADMIN, ORGADMIN, PUBLIC)",
        rationale="CIS 1.13: granting ACCOUNTADMIN/SECURITYADMIN to a custom role hides admins behind an "
        "innocent-looking role and makes everyone who holds it an admin.",
        fetch=lambda conn, c, now: identity.admin_roles_granted_to_custom_roles(conn, c),
        judge=judge_custom_role,
    ),
]
