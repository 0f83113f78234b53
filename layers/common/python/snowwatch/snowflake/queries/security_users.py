"""ACCOUNT_USAGE.USERS (latency 2 h): a full snapshot every run (it is small and rows change in place).

DISABLED is a VARIANT holding true/false: read as text and normalised by the security service.
HAS_MFA covers every MFA method; EXT_AUTHN_DUO is only the legacy Duo flag.
"""

VIEW = "SNOWFLAKE.ACCOUNT_USAGE.USERS"
TIME_COLUMN = None

SELECT = f"""
SELECT USER_ID, NAME, LOGIN_NAME, EMAIL, TYPE, CREATED_ON, DELETED_ON, TO_VARCHAR(DISABLED) AS DISABLED,
       HAS_PASSWORD, HAS_MFA, EXT_AUTHN_DUO, HAS_RSA_PUBLIC_KEY, HAS_PAT, DEFAULT_ROLE, BYPASS_MFA_UNTIL,
       LAST_SUCCESS_LOGIN, EXPIRES_AT, LOCKED_UNTIL_TIME, PASSWORD_LAST_SET_TIME, OWNER
FROM {VIEW}
"""
