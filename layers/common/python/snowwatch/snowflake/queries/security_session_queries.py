"""ACCOUNT_USAGE.QUERY_HISTORY for the post-login timeline (latency 45 min): every query with its
SESSION_ID, a 300-character text excerpt, warehouse, rows and bytes. Incremental on START_TIME; kept 90 days.
Rows can repeat: deduplicated on QUERY_ID.
"""

from datetime import timedelta

VIEW = "SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY"
LOOKBACK = timedelta(hours=3)
TIME_COLUMN = "START_TIME"
RETENTION = timedelta(days=90)
EXCERPT = 300

SELECT = f"""
SELECT QUERY_ID, SESSION_ID, START_TIME, USER_NAME, QUERY_TYPE, LEFT(QUERY_TEXT, {EXCERPT}) AS QUERY_TEXT,
       WAREHOUSE_NAME, EXECUTION_STATUS, ROWS_PRODUCED, BYTES_SCANNED
FROM {VIEW}
WHERE START_TIME >= %(since)s AND START_TIME < %(until)s AND SESSION_ID IS NOT NULL
QUALIFY ROW_NUMBER() OVER (PARTITION BY QUERY_ID ORDER BY START_TIME DESC) = 1
"""
