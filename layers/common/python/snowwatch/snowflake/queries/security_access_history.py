"""ACCOUNT_USAGE.ACCESS_HISTORY (latency 3 h; Enterprise edition and above): incremental on
QUERY_START_TIME; kept 90 days. On Standard edition the view does not exist: the extraction checks
first and records the view as skipped (never an error). POLICIES_REFERENCED names the masking and
row-access policies on the objects a query touched (the ACCESS_HISTORY rules read it).
"""

from datetime import timedelta

VIEW = "SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY"
LOOKBACK = timedelta(hours=6)
TIME_COLUMN = "QUERY_START_TIME"
RETENTION = timedelta(days=90)

SELECT = f"""
SELECT QUERY_ID, QUERY_START_TIME, USER_NAME, DIRECT_OBJECTS_ACCESSED, BASE_OBJECTS_ACCESSED, OBJECTS_MODIFIED,
       POLICIES_REFERENCED
FROM {VIEW}
WHERE QUERY_START_TIME >= %(since)s AND QUERY_START_TIME < %(until)s
"""
