"""The security-relevant rows of ACCOUNT_USAGE.QUERY_HISTORY (latency 45 min): grants and revokes,
user and account changes, network policy changes, security integration changes, stage creation,
unloads to stages (UNLOAD = COPY INTO @stage) and downloads (GET_FILES = GET). Incremental on
START_TIME; kept 90 days. Rows can repeat: deduplicated on QUERY_ID.
"""

from datetime import timedelta

VIEW = "SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY"
LOOKBACK = timedelta(hours=3)
TIME_COLUMN = "START_TIME"
RETENTION = timedelta(days=90)

# Query types that are security-relevant whatever their text.
ALWAYS = (
    "GRANT",
    "REVOKE",
    "CREATE_NETWORK_POLICY",
    "ALTER_NETWORK_POLICY",
    "DROP_NETWORK_POLICY",
    "CREATE_USER",
    "ALTER_USER",
    "DROP_USER",
    "ALTER_ACCOUNT",
    "UNLOAD",
    "GET_FILES",
    "CREATE_INTEGRATION",
    "ALTER_INTEGRATION",
    "DROP_INTEGRATION",
    "CREATE_STAGE",
)
# Generic DDL types: only when the text is about an integration or a stage.
GENERIC = ("CREATE", "ALTER", "DROP")

_always = ", ".join(f"'{t}'" for t in ALWAYS)
_generic = ", ".join(f"'{t}'" for t in GENERIC)

SELECT = f"""
SELECT QUERY_ID, LEFT(QUERY_TEXT, 10000) AS QUERY_TEXT, QUERY_TYPE, USER_NAME, ROLE_NAME, EXECUTION_STATUS,
       START_TIME
FROM {VIEW}
WHERE START_TIME >= %(since)s AND START_TIME < %(until)s
  AND (QUERY_TYPE IN ({_always})
       OR (QUERY_TYPE IN ({_generic})
           AND (CONTAINS(UPPER(QUERY_TEXT), 'INTEGRATION') OR CONTAINS(UPPER(QUERY_TEXT), 'STAGE'))))
QUALIFY ROW_NUMBER() OVER (PARTITION BY QUERY_ID ORDER BY START_TIME DESC) = 1
"""
