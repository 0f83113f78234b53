"""Synthetic security views: USERS, LOGIN_HISTORY, SESSIONS, grants, network policies, ACCESS_HISTORY
and the security-relevant QUERY_HISTORY rows, with the real ACCOUNT_USAGE column names.

Two layers, both deterministic (no RANDOM; values derive from SEQ4 arithmetic and a fixed ``now``):

- a benign background (``bulk`` users who sign in daily through SSO, now and then mistype a
  password, hold ANALYST/ENGINEER roles, open ordinary sessions), scaled with the size;
- a planted cast (``CAST``) with a POSITIVE case for every detection rule and NEAR-MISS negatives
  right beside each one (an 89-day idle user, exactly 4 failures, an SSO user without a password,
  a disabled stale user, a service user with a key only, a restrictive network policy attached to
  a user only, noise error codes 390156/394304, USER_NAME NULL on failed logins, ...).

Quirks kept on purpose: USERS.DISABLED holds the text 'true'/'false' (a VARIANT in Snowflake),
LOGIN_HISTORY.IS_SUCCESS is 'YES'/'NO', LOGIN_DETAILS is a JSON string whose
``malicious_ip_protection_info`` is itself a JSON string, SESSIONS.CLIENT_ENVIRONMENT is a JSON string.

ACCESS_HISTORY is an Enterprise-edition view: the ``tiny`` account (the test stack) is a Standard
account without it, so extraction must skip it cleanly; ``demo`` and ``bench`` have it.
QUERY_HISTORY is created by the cost seeder; this module only inserts its security rows (and
creates the table with the reference columns if the cost seeder did not).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from snowwatch_local.synthetic import cost

AU = "SNOWFLAKE.ACCOUNT_USAGE"
# The post-login story of the timeline: CAROL's password sign-in, the session it opened, the queries in it.
STORY_LOGIN = 41000001
STORY_SESSION = 60000010
STORY_QUERIES = ("sec-exf-1", "sec-exf-2", "sec-exf-3")

# ---------------------------------------------------------------- DDL (real column names)
DDL = {
    "USERS": """USER_ID NUMBER, NAME VARCHAR, CREATED_ON TIMESTAMP_LTZ, DELETED_ON TIMESTAMP_LTZ,
        LOGIN_NAME VARCHAR, DISPLAY_NAME VARCHAR, FIRST_NAME VARCHAR, LAST_NAME VARCHAR, EMAIL VARCHAR,
        MUST_CHANGE_PASSWORD BOOLEAN, HAS_PASSWORD BOOLEAN, COMMENT VARCHAR, DISABLED VARCHAR,
        SNOWFLAKE_LOCK BOOLEAN, DEFAULT_WAREHOUSE VARCHAR, DEFAULT_NAMESPACE VARCHAR, DEFAULT_ROLE VARCHAR,
        EXT_AUTHN_DUO BOOLEAN, EXT_AUTHN_UID VARCHAR, HAS_MFA BOOLEAN, BYPASS_MFA_UNTIL TIMESTAMP_LTZ,
        LAST_SUCCESS_LOGIN TIMESTAMP_LTZ, EXPIRES_AT TIMESTAMP_LTZ, LOCKED_UNTIL_TIME TIMESTAMP_LTZ,
        HAS_RSA_PUBLIC_KEY BOOLEAN, PASSWORD_LAST_SET_TIME TIMESTAMP_LTZ, OWNER VARCHAR,
        DEFAULT_SECONDARY_ROLE VARCHAR, TYPE VARCHAR, DATABASE_NAME VARCHAR, DATABASE_ID NUMBER,
        SCHEMA_NAME VARCHAR, SCHEMA_ID NUMBER, HAS_PAT BOOLEAN, HAS_WORKLOAD_IDENTITY BOOLEAN""",
    "LOGIN_HISTORY": """EVENT_ID NUMBER, EVENT_TIMESTAMP TIMESTAMP_LTZ, EVENT_TYPE VARCHAR, USER_NAME VARCHAR,
        CLIENT_IP VARCHAR, REPORTED_CLIENT_TYPE VARCHAR, REPORTED_CLIENT_VERSION VARCHAR,
        FIRST_AUTHENTICATION_FACTOR VARCHAR, SECOND_AUTHENTICATION_FACTOR VARCHAR, IS_SUCCESS VARCHAR,
        ERROR_CODE NUMBER, ERROR_MESSAGE VARCHAR, RELATED_EVENT_ID NUMBER, CONNECTION VARCHAR,
        CLIENT_PRIVATE_LINK_ID VARCHAR, FIRST_AUTHENTICATION_FACTOR_ID VARCHAR,
        SECOND_AUTHENTICATION_FACTOR_ID VARCHAR, LOGIN_DETAILS VARCHAR""",
    "SESSIONS": """SESSION_ID NUMBER, CREATED_ON TIMESTAMP_LTZ, USER_NAME VARCHAR, AUTHENTICATION_METHOD VARCHAR,
        LOGIN_EVENT_ID NUMBER, CLIENT_APPLICATION_VERSION VARCHAR, CLIENT_APPLICATION_ID VARCHAR,
        CLIENT_ENVIRONMENT VARCHAR, CLIENT_BUILD_ID VARCHAR, CLIENT_VERSION VARCHAR, CLOSED_REASON VARCHAR""",
    "GRANTS_TO_USERS": """CREATED_ON TIMESTAMP_LTZ, DELETED_ON TIMESTAMP_LTZ, ROLE VARCHAR, GRANTED_TO VARCHAR,
        GRANTEE_NAME VARCHAR, GRANTED_BY VARCHAR""",
    "GRANTS_TO_ROLES": """CREATED_ON TIMESTAMP_LTZ, MODIFIED_ON TIMESTAMP_LTZ, PRIVILEGE VARCHAR,
        GRANTED_ON VARCHAR, NAME VARCHAR, TABLE_CATALOG VARCHAR, TABLE_SCHEMA VARCHAR, GRANTED_TO VARCHAR,
        GRANTEE_NAME VARCHAR, GRANT_OPTION VARCHAR, GRANTED_BY VARCHAR, DELETED_ON TIMESTAMP_LTZ,
        GRANTED_BY_ROLE_TYPE VARCHAR, OBJECT_INSTANCE VARCHAR""",
    "NETWORK_POLICIES": """ID NUMBER, NAME VARCHAR, OWNER VARCHAR, OWNER_ROLE_TYPE VARCHAR, COMMENT VARCHAR,
        CREATED TIMESTAMP_LTZ, LAST_ALTERED TIMESTAMP_LTZ, DELETED TIMESTAMP_LTZ, ALLOWED_IP_LIST VARCHAR,
        BLOCKED_IP_LIST VARCHAR, ALLOWED_NETWORK_RULE_LIST VARCHAR, BLOCKED_NETWORK_RULE_LIST VARCHAR""",
    "POLICY_REFERENCES": """POLICY_DB VARCHAR, POLICY_SCHEMA VARCHAR, POLICY_ID NUMBER, POLICY_NAME VARCHAR,
        POLICY_OWNER VARCHAR, POLICY_SIGNATURE VARCHAR, POLICY_RETURN_TYPE VARCHAR, POLICY_BODY VARCHAR,
        POLICY_KIND VARCHAR, REF_DATABASE_NAME VARCHAR, REF_SCHEMA_NAME VARCHAR, REF_ENTITY_NAME VARCHAR,
        REF_ENTITY_DOMAIN VARCHAR, REF_COLUMN_NAME VARCHAR, REF_ARG_COLUMN_NAMES VARCHAR, TAG_DATABASE VARCHAR,
        TAG_SCHEMA VARCHAR, TAG_NAME VARCHAR, POLICY_STATUS VARCHAR""",
    "ACCESS_HISTORY": """QUERY_ID VARCHAR, QUERY_START_TIME TIMESTAMP_LTZ, USER_NAME VARCHAR,
        DIRECT_OBJECTS_ACCESSED VARCHAR, BASE_OBJECTS_ACCESSED VARCHAR, OBJECTS_MODIFIED VARCHAR,
        OBJECT_MODIFIED_BY_DDL VARCHAR, POLICIES_REFERENCED VARCHAR, PARENT_QUERY_ID VARCHAR,
        ROOT_QUERY_ID VARCHAR""",
}


# Noise error codes (not attacks): 390156 (often from 0.0.0.0) and JWT 394304.
NOISE_CODES = (390156, 394304)

# ---------------------------------------------------------------- the planted cast
# (id, name, type, has_password, has_mfa, duo, rsa, disabled, default_role, created_days_ago,
#  last_login_days_ago (None = never), deleted_days_ago, bypass_mfa_days (+future/-past), comment)
# fmt: off
CAST: list[tuple[Any, ...]] = [
    (1, "ADMIN_ALICE", "PERSON", True, True, False, False, False, "SYSADMIN", 900, 0.2, None, None,
     "admin with MFA (negative); her ACCOUNTADMIN grant is old"),
    (2, "ADMIN_BOB", "PERSON", True, False, False, False, False, "ACCOUNTADMIN", 800, 0.1, None, None,
     "admin, password, no MFA; default role ACCOUNTADMIN; 3 failures then success; DBeaver on Windows Server"),
    (3, "CAROL_ANALYST", "PERSON", True, False, False, False, False, "ANALYST", 400, 0.5, None, None,
     "password without MFA; 6 failures from 3 IPs; rapeflake session; exfiltration chain"),
    (4, "DAVE_DUO", "PERSON", True, True, True, False, False, "ANALYST", 500, 0.1, None, None,
     "legacy Duo + HAS_MFA (negative); exactly 4 failures, success 3 h later (negative)"),
    (5, "ERIN_TOTP", "PERSON", True, True, False, False, False, "ANALYST", 300, 0.6, None, None,
     "HAS_MFA without the Duo flag (negative for the MFA rule)"),
    (6, "FRANK_SSO", None, False, False, False, False, False, "ANALYST", 300, 0.1, None, None,
     "SSO user without a password (negative for MFA); signed in from a malicious IP"),
    (7, "GRACE_IDLE89", "PERSON", False, False, False, False, False, "ANALYST", 400, 89, None, None,
     "idle 89 days (near-miss for stale)"),
    (8, "HENRY_STALE", "PERSON", True, True, False, False, False, "ANALYST", 600, 120, None, None,
     "no login for 120 days (stale)"),
    (9, "IVY_NEVER", "PERSON", False, False, False, False, False, "PUBLIC", 150, None, None, None,
     "never logged in, created 150 days ago (stale from CREATED_ON)"),
    (10, "JACK_NEW", "PERSON", False, False, False, False, False, "PUBLIC", 10, None, None, None,
     "never logged in, created 10 days ago (negative); stage use spread over 3 days (negative)"),
    (11, "KATE_DISABLED", "PERSON", True, False, False, False, True, "ANALYST", 700, 200, None, None,
     "disabled and stale (excluded everywhere)"),
    (12, "LEO_DELETED", "PERSON", True, False, False, False, False, "ANALYST", 700, 300, 30, None,
     "deleted user (excluded everywhere)"),
    (13, "SVC_ETL", "SERVICE", True, False, False, True, False, "ETL_ROLE", 500, 0.05, None, None,
     "SERVICE user still holding a password (signs in with its key)"),
    (14, "SVC_LEGACY", "LEGACY_SERVICE", True, False, False, False, False, "ETL_ROLE", 900, 0.05, None, None,
     "LEGACY_SERVICE user with a password"),
    (15, "SVC_KEYONLY", "SERVICE", False, False, False, True, False, "ETL_ROLE", 200, 0.05, None, None,
     "service user with a key only (negative); JWT noise failures 394304"),
    (16, "MIKE_KEYPAIR", "PERSON", True, True, False, True, False, "ENGINEER", 300, 0.25, None, None,
     "key-pair user who signed in with a password"),
    (17, "NINA_BYPASS", "PERSON", True, True, False, False, False, "ANALYST", 300, 0.5, None, 2,
     "MFA bypass window open for 2 more days"),
    (18, "OSCAR_BYPASS_PAST", "PERSON", True, True, False, False, False, "ANALYST", 300, 0.5, None, -3,
     "MFA bypass window ended 3 days ago (negative)"),
    (19, "PAUL_SECOPS", None, False, False, False, False, False, "SEC_OPS", 250, 0.4, None, None,
     "effective SECURITYADMIN through SEC_OPS (a custom role holding an admin role)"),
    (20, "QUINN_NEWADMIN", "PERSON", False, False, False, False, False, "SYSADMIN", 60, 0.3, None, None,
     "granted ACCOUNTADMIN yesterday (new admin grant)"),
    (21, "RACHEL_NESTED", "PERSON", False, False, False, False, False, "DATA_ENG", 200, 0.2, None, None,
     "DATA_ENG -> PLATFORM_ADMIN -> SYSADMIN: deep but not an admin (negative)"),
    (22, "SAM_DEEP", "PERSON", False, False, False, False, False, "ROLE_A", 200, 0.2, None, None,
     "ROLE_A -> ROLE_B -> SEC_OPS -> SECURITYADMIN (effective admin, 4 hops, through a cycle)"),
    (23, "TOM_REVOKED", "PERSON", False, False, False, False, False, "ANALYST", 300, 0.2, None, None,
     "held ACCOUNTADMIN, revoked (negative)"),
]
# fmt: on
OPS_ADMINS = [f"OPS_ADMIN_{i:02d}" for i in range(1, 7)]  # 6 SSO users with ACCOUNTADMIN through OPS_TEAM
# Effective admins planted: ALICE, BOB, QUINN, PAUL, SAM + 6 OPS = 11 (>= 10: admin_count fires).
PLANTED_ADMINS = ("ADMIN_ALICE", "ADMIN_BOB", "QUINN_NEWADMIN", "PAUL_SECOPS", "SAM_DEEP", *OPS_ADMINS)


def _lit(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"'{value:%Y-%m-%d %H:%M:%S}'::TIMESTAMP_LTZ"
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def _insert(cursor: Any, view: str, columns: str, rows: list[tuple[Any, ...]]) -> int:
    if not rows:
        return 0
    values = ",\n".join("(" + ", ".join(_lit(v) for v in row) + ")" for row in rows)
    cursor.execute(f"INSERT INTO {AU}.{view} ({columns}) VALUES {values}")
    return len(rows)


def _count(cursor: Any, view: str) -> int:
    cursor.execute(f"SELECT COUNT(*) FROM {AU}.{view}")
    return int(cursor.fetchone()[0])


def bulk_users(scale: Any) -> int:
    """How many benign background users a size gets (tiny 25, demo 200, bench 2750)."""
    return int(min(3000, max(25, scale.queries_per_day // 2)))


def _mip(categories: list[str], result: str, risk: str) -> str:
    inner = json.dumps({"categories": categories, "result": result, "riskClassification": risk})
    return json.dumps({"malicious_ip_protection_info": inner})


# ---------------------------------------------------------------- seed
def seed(cursor: Any, scale: Any, now: datetime) -> dict[str, int]:
    enterprise = scale.days > 35  # the tiny (test) account is Standard edition: no ACCESS_HISTORY
    for view, ddl in DDL.items():
        if view == "ACCESS_HISTORY" and not enterprise:
            cursor.execute(f"DROP TABLE IF EXISTS {AU}.ACCESS_HISTORY")
            continue
        cursor.execute(f"CREATE OR REPLACE TABLE {AU}.{view} ({ddl})")
    # QUERY_HISTORY is the cost seeder's (it runs first); created here only when seeding security alone.
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {AU}.QUERY_HISTORY ({cost.QUERY_HISTORY_COLUMNS})")
    cursor.execute(f"DELETE FROM {AU}.QUERY_HISTORY WHERE QUERY_ID LIKE 'sec-%'")

    n_bulk = bulk_users(scale)
    login_days = min(scale.days, 90)
    t0 = _lit(now)

    _seed_users(cursor, now, n_bulk)
    _seed_grants(cursor, now, n_bulk)
    _seed_policies(cursor, now)
    _seed_logins(cursor, now, t0, n_bulk, login_days)
    _seed_sessions(cursor, now, t0, n_bulk, login_days)
    _seed_queries(cursor, now)
    if enterprise:
        _seed_access_history(cursor, now, t0, n_bulk, login_days)

    counts = {f"security.{v}": _count(cursor, v) for v in DDL if enterprise or v != "ACCESS_HISTORY"}
    cursor.execute(f"SELECT COUNT(*) FROM {AU}.QUERY_HISTORY WHERE QUERY_ID LIKE 'sec-%'")
    counts["security.QUERY_HISTORY"] = int(cursor.fetchone()[0])
    return counts


def _seed_users(cursor: Any, now: datetime, n_bulk: int) -> None:
    cols = (
        "USER_ID, NAME, CREATED_ON, DELETED_ON, LOGIN_NAME, DISPLAY_NAME, EMAIL, HAS_PASSWORD, COMMENT, DISABLED, "
        "DEFAULT_ROLE, EXT_AUTHN_DUO, HAS_MFA, BYPASS_MFA_UNTIL, LAST_SUCCESS_LOGIN, HAS_RSA_PUBLIC_KEY, "
        "PASSWORD_LAST_SET_TIME, OWNER, TYPE, HAS_PAT, HAS_WORKLOAD_IDENTITY"
    )
    rows = []
    for uid, name, typ, pw, mfa, duo, rsa, disabled, role, created, last, deleted, bypass, note in CAST:
        rows.append(
            (
                uid,
                name,
                now - timedelta(days=created),
                None if deleted is None else now - timedelta(days=deleted),
                name.lower(),
                name.title().replace("_", " "),
                f"{name.lower()}@example.com",
                pw,
                note,
                "true" if disabled else "false",
                role,
                duo,
                mfa,
                None if bypass is None else now + timedelta(days=bypass),
                None if last is None else now - timedelta(days=last),
                rsa,
                (now - timedelta(days=created)) if pw else None,
                "USERADMIN",
                typ,
                name == "SVC_ETL",  # HAS_PAT: a programmatic access token
                name == "SVC_KEYONLY",  # HAS_WORKLOAD_IDENTITY
            )
        )
    for i, name in enumerate(OPS_ADMINS):
        rows.append(
            (
                100 + i,
                name,
                now - timedelta(days=365),
                None,
                name.lower(),
                name,
                f"{name.lower()}@example.com",
                False,
                "ops team, ACCOUNTADMIN through OPS_TEAM",
                "false",
                "OPS_TEAM",
                False,
                False,
                None,
                now - timedelta(hours=5 + i),
                False,
                None,
                "USERADMIN",
                "PERSON",
                False,
                False,
            )
        )
    _insert(cursor, "USERS", cols, rows)
    # Benign background: SSO users (every 10th has a password with MFA), signing in daily.
    cursor.execute(
        f"""INSERT INTO {AU}.USERS ({cols})
        SELECT 1000 + SEQ4(), 'USER_' || LPAD(SEQ4()::VARCHAR, 4, '0'),
               DATEADD('day', -(400 + MOD(SEQ4(), 200)), {_lit(now)}), NULL,
               'user_' || LPAD(SEQ4()::VARCHAR, 4, '0'), 'User ' || SEQ4()::VARCHAR,
               'user_' || LPAD(SEQ4()::VARCHAR, 4, '0') || '@example.com',
               MOD(SEQ4(), 10) = 0, NULL, 'false', IFF(MOD(SEQ4(), 3) = 0, 'ENGINEER', 'ANALYST'),
               FALSE, MOD(SEQ4(), 10) = 0, NULL, DATEADD('hour', -(1 + MOD(SEQ4(), 47)), {_lit(now)}), FALSE,
               NULL, 'USERADMIN', IFF(MOD(SEQ4(), 2) = 0, 'PERSON', NULL), FALSE, FALSE
        FROM TABLE(GENERATOR(ROWCOUNT => {n_bulk}))"""
    )


def _seed_grants(cursor: Any, now: datetime, n_bulk: int) -> None:
    def d(days: int) -> datetime:
        return now - timedelta(days=days)

    to_users = [
        # CREATED_ON, DELETED_ON, ROLE, GRANTED_TO, GRANTEE_NAME, GRANTED_BY
        (d(900), None, "ACCOUNTADMIN", "USER", "ADMIN_ALICE", "ACCOUNTADMIN"),
        (d(800), None, "ACCOUNTADMIN", "USER", "ADMIN_BOB", "ACCOUNTADMIN"),
        (d(1), None, "ACCOUNTADMIN", "USER", "QUINN_NEWADMIN", "ACCOUNTADMIN"),
        (d(300), d(100), "ACCOUNTADMIN", "USER", "TOM_REVOKED", "ACCOUNTADMIN"),
        (d(250), None, "SEC_OPS", "USER", "PAUL_SECOPS", "SECURITYADMIN"),
        (d(200), None, "DATA_ENG", "USER", "RACHEL_NESTED", "SECURITYADMIN"),
        (d(200), None, "ROLE_A", "USER", "SAM_DEEP", "SECURITYADMIN"),
        (d(700), None, "ACCOUNTADMIN", "USER", "KATE_DISABLED", "ACCOUNTADMIN"),
        (d(700), None, "ACCOUNTADMIN", "USER", "LEO_DELETED", "ACCOUNTADMIN"),
        (d(500), None, "ETL_ROLE", "USER", "SVC_ETL", "SECURITYADMIN"),
        (d(500), None, "ETL_ROLE", "USER", "SVC_LEGACY", "SECURITYADMIN"),
        (d(200), None, "ETL_ROLE", "USER", "SVC_KEYONLY", "SECURITYADMIN"),
    ]
    for name in (
        "CAROL_ANALYST",
        "DAVE_DUO",
        "ERIN_TOTP",
        "FRANK_SSO",
        "GRACE_IDLE89",
        "HENRY_STALE",
        "NINA_BYPASS",
        "OSCAR_BYPASS_PAST",
    ):
        to_users.append((d(300), None, "ANALYST", "USER", name, "SECURITYADMIN"))
    to_users.append((d(300), None, "ENGINEER", "USER", "MIKE_KEYPAIR", "SECURITYADMIN"))
    for name in OPS_ADMINS:
        to_users.append((d(365), None, "OPS_TEAM", "USER", name, "SECURITYADMIN"))
    cols = "CREATED_ON, DELETED_ON, ROLE, GRANTED_TO, GRANTEE_NAME, GRANTED_BY"
    _insert(cursor, "GRANTS_TO_USERS", cols, to_users)
    cursor.execute(
        f"""INSERT INTO {AU}.GRANTS_TO_USERS ({cols})
        SELECT DATEADD('day', -(300 + MOD(SEQ4(), 90)), {_lit(now)}), NULL,
               IFF(MOD(SEQ4(), 3) = 0, 'ENGINEER', 'ANALYST'), 'USER', 'USER_' || LPAD(SEQ4()::VARCHAR, 4, '0'),
               'SECURITYADMIN'
        FROM TABLE(GENERATOR(ROWCOUNT => {n_bulk}))"""
    )
    # Role-to-role edges: PRIVILEGE USAGE, GRANTED_ON ROLE, NAME = the granted role, GRANTEE_NAME = receiver.
    edges = [
        (d(1000), "SECURITYADMIN", "ACCOUNTADMIN", "ACCOUNTADMIN"),  # system hierarchy (negative)
        (d(1000), "SYSADMIN", "ACCOUNTADMIN", "ACCOUNTADMIN"),
        (d(1000), "USERADMIN", "SECURITYADMIN", "ACCOUNTADMIN"),
        (d(2), "SECURITYADMIN", "SEC_OPS", "ACCOUNTADMIN"),  # admin role -> custom role, new
        (d(365), "ACCOUNTADMIN", "OPS_TEAM", "ACCOUNTADMIN"),  # admin role -> custom role, old
        (d(200), "ROLE_B", "ROLE_A", "SECURITYADMIN"),
        (d(200), "SEC_OPS", "ROLE_B", "SECURITYADMIN"),
        (d(200), "ROLE_A", "ROLE_C", "SECURITYADMIN"),  # cycle ROLE_A -> ROLE_C -> ROLE_A
        (d(200), "ROLE_C", "ROLE_A", "SECURITYADMIN"),
        (d(200), "PLATFORM_ADMIN", "DATA_ENG", "SECURITYADMIN"),
        (d(200), "SYSADMIN", "PLATFORM_ADMIN", "SECURITYADMIN"),  # SYSADMIN is not an admin role here
        (d(400), "ANALYST", "ENGINEER", "SECURITYADMIN"),
        (d(400), "ANALYST", "SYSADMIN", "SECURITYADMIN"),
        (d(400), "ENGINEER", "SYSADMIN", "SECURITYADMIN"),
        (d(400), "ETL_ROLE", "SYSADMIN", "SECURITYADMIN"),
    ]
    rows: list[tuple[Any, ...]] = [
        (created, None, "USAGE", "ROLE", name, None, None, "ROLE", grantee, "false", by, None)
        for created, name, grantee, by in edges
    ]
    # A revoked admin edge (negative): SECURITYADMIN once granted to ANALYST.
    rows.append(
        (d(300), None, "USAGE", "ROLE", "SECURITYADMIN", None, None, "ROLE", "ANALYST", "false", "ACCOUNTADMIN", d(290))
    )
    # Object privileges (not role edges): account and database grants.
    rows += [
        (d(500), None, "MANAGE GRANTS", "ACCOUNT", "ACCOUNT", None, None, "ROLE", "SECURITYADMIN", "false",
         "ACCOUNTADMIN", None),
        (d(500), None, "CREATE USER", "ACCOUNT", "ACCOUNT", None, None, "ROLE", "USERADMIN", "false",
         "ACCOUNTADMIN", None),
        (d(400), None, "USAGE", "DATABASE", "ANALYTICS", None, None, "ROLE", "ANALYST", "false", "SYSADMIN", None),
        (d(400), None, "SELECT", "TABLE", "CUSTOMERS", "ANALYTICS", "PUBLIC", "ROLE", "ANALYST", "false",
         "SYSADMIN", None),
    ]  # fmt: skip
    _insert(
        cursor,
        "GRANTS_TO_ROLES",
        "CREATED_ON, MODIFIED_ON, PRIVILEGE, GRANTED_ON, NAME, TABLE_CATALOG, TABLE_SCHEMA, GRANTED_TO, "
        "GRANTEE_NAME, GRANT_OPTION, GRANTED_BY, DELETED_ON",
        rows,
    )


def _seed_policies(cursor: Any, now: datetime) -> None:
    def d(days: int) -> datetime:
        return now - timedelta(days=days)

    _insert(
        cursor,
        "NETWORK_POLICIES",
        "ID, NAME, OWNER, CREATED, LAST_ALTERED, DELETED, ALLOWED_IP_LIST, BLOCKED_IP_LIST",
        [
            # attached to the account and open to the world (positive)
            (1, "ACCOUNT_POLICY", "SECURITYADMIN", d(400), d(1), None, "10.0.0.0/8,0.0.0.0/0", ""),
            # restrictive, attached to one user only (near-miss: not an account policy, not open)
            (2, "SVC_POLICY", "SECURITYADMIN", d(300), d(300), None, "10.20.0.0/16", ""),
            # open but attached to nothing (near-miss), and a deleted open one (near-miss)
            (3, "OLD_POLICY", "SECURITYADMIN", d(600), d(600), None, "0.0.0.0/0", ""),
            (4, "DROPPED_POLICY", "SECURITYADMIN", d(600), d(50), d(50), "0.0.0.0/0", ""),
            (5, "CORP_ONLY", "SECURITYADMIN", d(2), d(2), None, "192.168.10.0/24", "192.168.10.99"),
        ],
    )
    _insert(
        cursor,
        "POLICY_REFERENCES",
        "POLICY_DB, POLICY_SCHEMA, POLICY_ID, POLICY_NAME, POLICY_KIND, REF_ENTITY_NAME, REF_ENTITY_DOMAIN, "
        "POLICY_STATUS",
        [
            (None, None, 1, "ACCOUNT_POLICY", "NETWORK_POLICY", "DEMO_ACCOUNT", "ACCOUNT", "ACTIVE"),
            (None, None, 2, "SVC_POLICY", "NETWORK_POLICY", "SVC_ETL", "USER", "ACTIVE"),
            ("GOV", "POLICIES", 9, "MASK_EMAIL", "MASKING_POLICY", "CUSTOMERS", "TABLE", "ACTIVE"),
        ],
    )


def _seed_logins(cursor: Any, now: datetime, t0: str, n_bulk: int, days: int) -> None:
    cols = (
        "EVENT_ID, EVENT_TIMESTAMP, EVENT_TYPE, USER_NAME, CLIENT_IP, REPORTED_CLIENT_TYPE, "
        "REPORTED_CLIENT_VERSION, FIRST_AUTHENTICATION_FACTOR, SECOND_AUTHENTICATION_FACTOR, IS_SUCCESS, "
        "ERROR_CODE, ERROR_MESSAGE, RELATED_EVENT_ID, CONNECTION, LOGIN_DETAILS"
    )
    user = f"'USER_' || LPAD(MOD(SEQ4(), {n_bulk})::VARCHAR, 4, '0')"
    ip = f"'10.20.' || MOD(MOD(SEQ4(), {n_bulk}), 250) || '.' || (10 + FLOOR(MOD(SEQ4(), {n_bulk}) / 250))::INT"
    spread = f"MOD(MOD(SEQ4(), {n_bulk}) * 7, 600)"
    # Benign background: one sign-in per bulk user per day; every 7th user mistypes once a week.
    cursor.execute(
        f"""INSERT INTO {AU}.LOGIN_HISTORY ({cols})
        SELECT 10000000 + SEQ4(),
               DATEADD('minute', -(60 + {spread}), DATEADD('day', -FLOOR(SEQ4() / {n_bulk}), {t0})),
               'LOGIN', {user}, {ip}, 'SNOWFLAKE_UI', '9.1.0',
               IFF(MOD(MOD(SEQ4(), {n_bulk}), 10) = 0, 'PASSWORD', 'SAML2_ASSERTION'),
               IFF(MOD(MOD(SEQ4(), {n_bulk}), 10) = 0, 'TOTP', NULL), 'YES', NULL, NULL, 0, NULL, NULL
        FROM TABLE(GENERATOR(ROWCOUNT => {n_bulk * days}))"""
    )
    cursor.execute(
        f"""INSERT INTO {AU}.LOGIN_HISTORY ({cols})
        SELECT 20000000 + SEQ4(),
               DATEADD('minute', -(62 + {spread}), DATEADD('day', -7 * FLOOR(SEQ4() / {n_bulk}), {t0})),
               'LOGIN', {user}, {ip}, 'SNOWFLAKE_UI', '9.1.0', 'PASSWORD', NULL, 'NO', 390100,
               'Incorrect username or password was specified.', 0, NULL, NULL
        FROM TABLE(GENERATOR(ROWCOUNT => {n_bulk * (days // 7)}))
        WHERE MOD(MOD(SEQ4(), {n_bulk}), 7) = 0"""
    )
    # Noise: 390156 failures from 0.0.0.0 with no user; JWT 394304 failures of the key-only service user.
    cursor.execute(
        f"""INSERT INTO {AU}.LOGIN_HISTORY ({cols})
        SELECT 30000000 + SEQ4(), DATEADD('minute', -(90 + SEQ4()), {t0}), 'LOGIN', NULL, '0.0.0.0',
               'OTHER', NULL, 'PASSWORD', NULL, 'NO', 390156, 'Incoming request with IP/Token 0.0.0.0 is not allowed',
               0, NULL, NULL
        FROM TABLE(GENERATOR(ROWCOUNT => 30))"""
    )
    cursor.execute(
        f"""INSERT INTO {AU}.LOGIN_HISTORY ({cols})
        SELECT 31000000 + SEQ4(), DATEADD('minute', -(120 + SEQ4() * 3), {t0}), 'LOGIN', 'SVC_KEYONLY', '10.20.250.1',
               'PYTHON_DRIVER', '3.12.0', 'RSA_KEYPAIR', NULL, 'NO', 394304, 'JWT token is invalid.', 0, NULL, NULL
        FROM TABLE(GENERATOR(ROWCOUNT => 10))"""
    )

    def h(hours: float, minutes: int = 0) -> datetime:
        return now - timedelta(hours=hours, minutes=minutes)

    fail = "Incorrect username or password was specified."
    rows: list[tuple[Any, ...]] = []
    eid = iter(range(40000000, 40001000))

    def login(
        at: datetime,
        user: str | None,
        ip: str,
        factor: str,
        ok: bool,
        second: str | None = None,
        details: str | None = None,
        client: str = "SNOWFLAKE_UI",
    ) -> None:
        rows.append(
            (next(eid), at, "LOGIN", user, ip, client, "3.12.0", factor, second, "YES" if ok else "NO",
             None if ok else 390100, None if ok else fail, 0, None, details)
        )  # fmt: skip

    # Burst per user: CAROL fails 6 times in 30 min from 3 IPs (2 each: no IP burst).
    for k in range(6):
        login(h(5, 30 - k * 5), "CAROL_ANALYST", f"198.51.100.{7 + k % 3}", "PASSWORD", False)
    # Failures then success: BOB fails 3 times from one IP, then gets in 5 minutes later.
    for k in range(3):
        login(h(3, 20 - k * 5), "ADMIN_BOB", "203.0.113.50", "PASSWORD", False)
    login(h(3, 0), "ADMIN_BOB", "203.0.113.50", "PASSWORD", True)
    # Near-miss: DAVE fails exactly 4 times, succeeds 3 hours later (outside the hour).
    for k in range(4):
        login(h(9, 40 - k * 10), "DAVE_DUO", "198.51.100.30", "PASSWORD", False)
    login(h(6, 0), "DAVE_DUO", "198.51.100.30", "PASSWORD", True, second="DUO")
    # Burst per IP: 192.0.2.66 fails 6 times against 2 users (3 each: no user burst, no spraying).
    for k in range(6):
        login(h(7, 50 - k * 5), "JACK_NEW" if k % 2 else "ERIN_TOTP", "192.0.2.66", "PASSWORD", False)
    # Password spraying: 203.0.113.99 tries 6 distinct user names (+2 unidentified, USER_NAME NULL) in 20 min.
    for k, name in enumerate(["ADMIN", "TEST", "ADMIN_ALICE", "CAROL_ANALYST", "ERIN_TOTP", "SNOWFLAKE", None, None]):
        login(h(2, 25 - k * 2), name, "203.0.113.99", "PASSWORD", False)
    # Near-miss spraying: 198.51.100.20 tries 4 distinct users.
    for k, name in enumerate(["ADMIN", "ROOT", "DBA", "ETL"]):
        login(h(11, 40 - k * 5), name, "198.51.100.20", "PASSWORD", False)
    # Key-pair user signing in with a password (positive); key-pair sign-ins (negatives).
    login(h(6, 0), "MIKE_KEYPAIR", "10.30.0.16", "PASSWORD", True, second="TOTP")
    login(h(6, 30), "MIKE_KEYPAIR", "10.30.0.16", "RSA_KEYPAIR", True, client="PYTHON_DRIVER")
    login(h(1, 10), "SVC_KEYONLY", "10.20.250.1", "RSA_KEYPAIR", True, client="PYTHON_DRIVER")
    login(h(1, 5), "SVC_ETL", "10.20.250.2", "RSA_KEYPAIR", True, client="JDBC_DRIVER")
    # Malicious IP: FRANK signs in from a TOR exit flagged HIGH (positive); a LOW-risk blocked attempt and a
    # clean details payload (negatives).
    login(
        h(4, 0),
        "FRANK_SSO",
        "45.155.205.10",
        "SAML2_ASSERTION",
        True,
        details=_mip(["ANONYMOUS_VPN", "TOR_EXITS"], "OPTED_OUT", "HIGH"),
    )
    login(
        h(8, 0), "ERIN_TOTP", "45.155.205.77", "PASSWORD", False, details=_mip(["MALICIOUS_BEHAVIOR"], "BLOCKED", "LOW")
    )
    login(h(8, 30), "ERIN_TOTP", "10.30.0.5", "PASSWORD", True, second="TOTP", details=_mip([], "ALLOWED", "NONE"))
    # Ordinary sign-ins of the cast (matching LAST_SUCCESS_LOGIN; never for stale/never-logged-in users).
    for _uid, name, typ, pw, mfa, _duo, _rsa, disabled, _r, _c, last, deleted, _b, _n in CAST:
        if last is None or disabled or deleted is not None or last > 90:
            continue
        if name in ("ADMIN_BOB", "SVC_ETL", "SVC_KEYONLY", "MIKE_KEYPAIR"):
            continue  # their sign-ins are planted above
        factor = "RSA_KEYPAIR" if (typ == "SERVICE" and not pw) else ("PASSWORD" if pw else "SAML2_ASSERTION")
        login(
            now - timedelta(days=last),
            name,
            "10.30.0.1",
            factor,
            True,
            second="TOTP" if factor == "PASSWORD" and mfa else None,
        )
    for i, name in enumerate(OPS_ADMINS):
        login(h(5 + i), name, "10.30.0.2", "SAML2_ASSERTION", True)
    # Logins of the access-rule story: QUINN from an IP she never used (NEW_IP_LOGIN); ALICE from her usual IP a
    # day earlier (so her sign-in 4.8 h ago is from a known IP); NINA from a new IP.
    rows.append(
        (NEW_IP_LOGIN, h(3), "LOGIN", "QUINN_NEWADMIN", "198.18.0.7", "SNOWFLAKE_UI", "9.1.0", "SAML2_ASSERTION",
         None, "YES", None, None, 0, None, None)
    )  # fmt: skip
    login(h(30), "ADMIN_ALICE", "10.30.0.1", "PASSWORD", True, second="TOTP")
    login(h(2), "NINA_BYPASS", "198.18.0.9", "PASSWORD", True, second="TOTP")
    # The post-login story (timeline): CAROL signs in with a password from 198.51.100.7 (where her failures
    # come from), opens session STORY_SESSION and runs the exfiltration chain in it.
    rows.append(
        (STORY_LOGIN, h(6, 15), "LOGIN", "CAROL_ANALYST", "198.51.100.7", "SNOWSQL", "1.3.2", "PASSWORD", None,
         "YES", None, None, 0, None, None)
    )  # fmt: skip
    _insert(cursor, "LOGIN_HISTORY", cols, rows)


def _env(app: str, os_name: str, version: str = "1.0") -> str:
    return json.dumps({"APPLICATION": app, "OS": os_name, "OS_VERSION": version, "PYTHON_VERSION": "3.12.1"})


def _seed_sessions(cursor: Any, now: datetime, t0: str, n_bulk: int, days: int) -> None:
    cols = (
        "SESSION_ID, CREATED_ON, USER_NAME, AUTHENTICATION_METHOD, LOGIN_EVENT_ID, CLIENT_APPLICATION_VERSION, "
        "CLIENT_APPLICATION_ID, CLIENT_ENVIRONMENT"
    )
    cursor.execute(
        f"""INSERT INTO {AU}.SESSIONS ({cols})
        SELECT 50000000 + SEQ4(),
               DATEADD('minute', -(59 + MOD(MOD(SEQ4(), {n_bulk}) * 7, 600)),
                       DATEADD('day', -FLOOR(SEQ4() / {n_bulk}), {t0})),
               'USER_' || LPAD(MOD(SEQ4(), {n_bulk})::VARCHAR, 4, '0'), 'SAML2_ASSERTION', 10000000 + SEQ4(),
               '9.1.0', 'Snowflake UI 9.1.0',
               IFF(MOD(SEQ4(), 4) = 0,
                   '{{"APPLICATION":"DBeaver_DBeaverUltimate","OS":"Mac OS X","OS_VERSION":"14.2"}}',
                   '{{"APPLICATION":"SnowflakeWebApp","OS":"Windows 11","OS_VERSION":"10.0"}}')
        FROM TABLE(GENERATOR(ROWCOUNT => {n_bulk * min(days, 30)}))"""
    )

    def h(hours: float) -> datetime:
        return now - timedelta(hours=hours)

    _insert(
        cursor,
        "SESSIONS",
        cols,
        [
            # the post-login story: CAROL's session after her password sign-in
            (
                STORY_SESSION,
                h(6.2),
                "CAROL_ANALYST",
                "PASSWORD",
                STORY_LOGIN,
                "1.3.2",
                "SnowSQL 1.3.2",
                _env("SnowSQL", "Linux", "6.5"),
            ),
            # UNC5537 indicators (positive)
            (
                60000001,
                h(4),
                "CAROL_ANALYST",
                "PASSWORD",
                None,
                "3.12.0",
                "PythonConnector 3.12.0",
                _env("rapeflake", "Linux"),
            ),
            (
                60000002,
                h(3),
                "ADMIN_BOB",
                "PASSWORD",
                None,
                "23.1.0",
                "JDBC 3.14.0",
                _env("DBeaver_DBeaverUltimate", "Windows Server 2022", "10.0"),
            ),
            # near-misses: DBeaver Ultimate on a laptop, DBeaver Community on Windows Server 2022, not JSON
            (
                60000003,
                h(5),
                "ADMIN_ALICE",
                "PASSWORD",
                None,
                "23.1.0",
                "JDBC 3.14.0",
                _env("DBeaver_DBeaverUltimate", "Windows 11", "10.0"),
            ),
            (
                60000004,
                h(6),
                "DAVE_DUO",
                "PASSWORD",
                None,
                "23.1.0",
                "JDBC 3.14.0",
                _env("DBeaver_DBeaverCommunity", "Windows Server 2022", "10.0"),
            ),
            (60000005, h(7), "SVC_ETL", "KEYPAIR", None, "3.12.0", "PythonConnector 3.12.0", "not json"),
        ],
    )


def _seed_queries(cursor: Any, now: datetime) -> None:
    cols = (
        "QUERY_ID, QUERY_TEXT, QUERY_TYPE, SESSION_ID, USER_NAME, ROLE_NAME, WAREHOUSE_NAME, EXECUTION_STATUS, "
        "START_TIME, END_TIME, TOTAL_ELAPSED_TIME, EXECUTION_TIME, COMPILATION_TIME, QUEUED_PROVISIONING_TIME, "
        "QUEUED_REPAIR_TIME, QUEUED_OVERLOAD_TIME, LIST_EXTERNAL_FILES_TIME, BYTES_SCANNED, "
        "PERCENTAGE_SCANNED_FROM_CACHE, PARTITIONS_SCANNED, PARTITIONS_TOTAL, BYTES_SPILLED_TO_LOCAL_STORAGE, "
        "BYTES_SPILLED_TO_REMOTE_STORAGE, ROWS_PRODUCED, ROWS_UNLOADED, CREDITS_USED_CLOUD_SERVICES"
    )

    def h(hours: float) -> datetime:
        return now - timedelta(hours=hours)

    # fmt: off
    q: list[tuple[str, str, str, str, str, datetime, str]] = [
        # id, text, type, user, role, start, status
        ("sec-grant-1", "GRANT ROLE ACCOUNTADMIN TO USER QUINN_NEWADMIN", "GRANT", "ADMIN_ALICE", "ACCOUNTADMIN",
         h(24), "SUCCESS"),
        ("sec-grant-2", "GRANT ROLE SECURITYADMIN TO ROLE SEC_OPS", "GRANT", "ADMIN_ALICE", "ACCOUNTADMIN",
         h(48), "SUCCESS"),
        ("sec-np-1", "CREATE NETWORK POLICY CORP_ONLY ALLOWED_IP_LIST=('192.168.10.0/24')",
         "CREATE_NETWORK_POLICY", "ADMIN_ALICE", "SECURITYADMIN", h(47), "SUCCESS"),
        ("sec-np-2", "ALTER NETWORK POLICY ACCOUNT_POLICY SET ALLOWED_IP_LIST=('10.0.0.0/8','0.0.0.0/0')",
         "ALTER_NETWORK_POLICY", "ADMIN_BOB", "ACCOUNTADMIN", h(20), "SUCCESS"),
        # near-miss: a failed policy change
        ("sec-np-3", "DROP NETWORK POLICY ACCOUNT_POLICY", "DROP_NETWORK_POLICY", "CAROL_ANALYST", "ANALYST",
         h(19), "FAIL"),
        ("sec-int-1", "ALTER SECURITY INTEGRATION OKTA_SSO SET ENABLED = FALSE", "ALTER", "ADMIN_BOB",
         "ACCOUNTADMIN", h(10), "SUCCESS"),
        # near-misses: reading an integration is not a change; a storage integration is not a security one
        ("sec-int-2", "DESCRIBE SECURITY INTEGRATION OKTA_SSO", "DESCRIBE", "ADMIN_ALICE", "ACCOUNTADMIN", h(9),
         "SUCCESS"),
        ("sec-int-3", "ALTER STORAGE INTEGRATION S3_INT SET ENABLED = TRUE", "ALTER", "ADMIN_ALICE",
         "ACCOUNTADMIN", h(9), "SUCCESS"),
        # exfiltration chain by CAROL within ~1 hour (positive)
        ("sec-exf-1", "CREATE TEMPORARY STAGE tmp_exfil", "CREATE", "CAROL_ANALYST", "ANALYST", h(6), "SUCCESS"),
        ("sec-exf-2", "COPY INTO @tmp_exfil FROM analytics.public.customers", "UNLOAD", "CAROL_ANALYST", "ANALYST",
         h(5.5), "SUCCESS"),
        ("sec-exf-3", "GET @tmp_exfil file:///tmp/loot/", "GET_FILES", "CAROL_ANALYST", "ANALYST", h(5), "SUCCESS"),
        # near-miss: ALICE unloads and downloads through a permanent stage (no temporary stage)
        ("sec-exf-4", "COPY INTO @finance_exports FROM finance.public.ledger", "UNLOAD", "ADMIN_ALICE", "SYSADMIN",
         h(30), "SUCCESS"),
        ("sec-exf-5", "GET @finance_exports file:///data/", "GET_FILES", "ADMIN_ALICE", "SYSADMIN", h(29),
         "SUCCESS"),
        # near-miss: JACK's chain spread over three days
        ("sec-exf-6", "CREATE TEMP STAGE scratch", "CREATE", "JACK_NEW", "PUBLIC", h(24 * 6), "SUCCESS"),
        ("sec-exf-7", "COPY INTO @scratch FROM analytics.public.events", "UNLOAD", "JACK_NEW", "PUBLIC",
         h(24 * 5), "SUCCESS"),
        ("sec-exf-8", "GET @scratch file:///tmp/", "GET_FILES", "JACK_NEW", "PUBLIC", h(24 * 4), "SUCCESS"),
        # near-miss: a chain split across two users
        ("sec-exf-9", "CREATE TEMPORARY STAGE handoff", "CREATE", "ERIN_TOTP", "ANALYST", h(12), "SUCCESS"),
        ("sec-exf-10", "COPY INTO @handoff FROM analytics.public.orders", "UNLOAD", "ERIN_TOTP", "ANALYST", h(11.5),
         "SUCCESS"),
        ("sec-exf-11", "GET @handoff file:///tmp/", "GET_FILES", "DAVE_DUO", "ANALYST", h(11), "SUCCESS"),
    ]
    # fmt: on
    rows = [
        (
            qid,
            text,
            qtype,
            STORY_SESSION if qid in STORY_QUERIES else 70000000 + i,
            user,
            role,
            "ADMIN_WH",
            status,
            start,
            start + timedelta(seconds=2),
            2000,
            1500,
            300,
            0,
            0,
            0,
            0,
            0,
            0.0,
            0,
            0,
            0,
            0,
            0,
            1000 if qtype == "UNLOAD" else 0,
            0.0,
        )
        for i, (qid, text, qtype, user, role, start, status) in enumerate(q)
    ]  # fmt: skip
    _insert(cursor, "QUERY_HISTORY", cols, rows)


def _seed_access_history(cursor: Any, now: datetime, t0: str, n_bulk: int, days: int) -> None:
    cursor.execute(
        f"""INSERT INTO {AU}.ACCESS_HISTORY (QUERY_ID, QUERY_START_TIME, USER_NAME, DIRECT_OBJECTS_ACCESSED,
               BASE_OBJECTS_ACCESSED, OBJECTS_MODIFIED, POLICIES_REFERENCED)
        SELECT 'ah-' || SEQ4()::VARCHAR, DATEADD('minute', -(SEQ4() * 7), {t0}),
               'USER_' || LPAD(MOD(SEQ4(), {n_bulk})::VARCHAR, 4, '0'),
               '[{{"objectDomain":"Table","objectName":"ANALYTICS.PUBLIC.CUSTOMERS"}}]',
               '[{{"objectDomain":"Table","objectName":"ANALYTICS.PUBLIC.CUSTOMERS"}}]', '[]', '[]'
        FROM TABLE(GENERATOR(ROWCOUNT => {n_bulk * min(days, 30)}))"""
    )
    _insert(cursor, "ACCESS_HISTORY", ACCESS_COLUMNS, access_story(now))


ACCESS_COLUMNS = (
    "QUERY_ID, QUERY_START_TIME, USER_NAME, DIRECT_OBJECTS_ACCESSED, BASE_OBJECTS_ACCESSED, OBJECTS_MODIFIED, "
    "POLICIES_REFERENCED"
)
NEW_IP_LOGIN = 41000002  # QUINN from 198.18.0.7, never seen before for her, then 12 tables within the hour
MASKED = json.dumps(
    [
        {
            "objectDomain": "Table",
            "objectName": "ANALYTICS.PUBLIC.CUSTOMERS",
            "columns": [
                {"columnName": "EMAIL", "policies": [{"policyName": "PII_MASK", "policyKind": "MASKING_POLICY"}]}
            ],
        }
    ]
)


def _objects(*names: str, domain: str = "Table") -> str:
    return json.dumps([{"objectDomain": domain, "objectName": n} for n in names])


def access_story(now: datetime) -> list[tuple[Any, ...]]:
    """The planted ACCESS_HISTORY rows (positives and near misses of the access rules, and the timeline's
    unload). ``now`` is the synthetic account's anchor."""

    def h(hours: float) -> datetime:
        return now - timedelta(hours=hours)

    rows: list[tuple[Any, ...]] = []

    def read(qid: str, at: datetime, user: str, objects: str, policies: str = "[]", modified: str = "[]") -> None:
        rows.append((qid, at, user, objects, objects, modified, policies))

    # Volume beyond the user's own baseline: ERIN and DAVE read 2 objects a day for 28 days; today ERIN reads 40
    # (positive), DAVE 8 (near miss); JACK, without a baseline, reads 40 (near miss).
    for user in ("ERIN_TOTP", "DAVE_DUO"):
        for d in range(2, 30):
            read(f"ah-{user}-b{d}", h(24 * d), user, _objects("ANALYTICS.PUBLIC.ORDERS", "ANALYTICS.PUBLIC.EVENTS"))
    for i in range(40):
        read(f"ah-erin-t{i}", h(12.5) + timedelta(seconds=30 * i), "ERIN_TOTP", _objects(f"ANALYTICS.WIDE.T{i:02d}"))
        read(f"ah-jack-t{i}", h(20) + timedelta(seconds=30 * i), "JACK_NEW", _objects(f"ANALYTICS.WIDE.T{i:02d}"))
    for i in range(8):
        read(f"ah-dave-t{i}", h(12) + timedelta(seconds=30 * i), "DAVE_DUO", _objects(f"ANALYTICS.WIDE.T{i:02d}"))
    # First access to an object under a masking policy: CAROL's unload of CUSTOMERS (positive, also the
    # timeline's objects); ALICE read CUSTOMERS 10 days ago, then again yesterday (near miss); DAVE's first read
    # of PAYROLL, which has no policy (near miss).
    read("sec-exf-2", h(5.5), "CAROL_ANALYST", _objects("ANALYTICS.PUBLIC.CUSTOMERS"), MASKED,
         _objects("TMP_EXFIL", domain="Stage"))  # fmt: skip
    read("ah-alice-m1", h(240), "ADMIN_ALICE", _objects("ANALYTICS.PUBLIC.CUSTOMERS"), MASKED)
    read("ah-alice-m2", h(20), "ADMIN_ALICE", _objects("ANALYTICS.PUBLIC.CUSTOMERS"), MASKED)
    read("ah-dave-p1", h(10), "DAVE_DUO", _objects("FINANCE.PUBLIC.PAYROLL"))
    # Many tables within an hour of a login from a never-before-seen IP: QUINN (positive); ALICE reads 12 tables
    # after a login from an IP she used before (near miss); NINA reads 3 after a new-IP login (near miss).
    for i in range(12):
        read(f"ah-quinn-{i}", h(3) + timedelta(minutes=i + 1), "QUINN_NEWADMIN", _objects(f"ANALYTICS.PUBLIC.T{i:02d}"))
        read(f"ah-alice-w{i}", h(4.8) + timedelta(minutes=i + 1), "ADMIN_ALICE", _objects(f"ANALYTICS.PUBLIC.T{i:02d}"))
    for i in range(3):
        read(f"ah-nina-{i}", h(2) + timedelta(minutes=i + 1), "NINA_BYPASS", _objects(f"ANALYTICS.PUBLIC.T{i:02d}"))
    return rows
