"""ACCOUNT_USAGE.LOGIN_HISTORY (latency 2 h): incremental on EVENT_TIMESTAMP; snowwatch keeps 90 days.

USER_NAME is NULL when the user could not be identified; IS_SUCCESS is 'YES'/'NO'; LOGIN_DETAILS is a
JSON string (malicious-IP protection information) that older accounts do not have: the query reads it
only when the column exists (``SELECT_WITHOUT_DETAILS`` otherwise).
"""

from datetime import timedelta

VIEW = "SNOWFLAKE.ACCOUNT_USAGE.LOGIN_HISTORY"
LOOKBACK = timedelta(hours=6)
TIME_COLUMN = "EVENT_TIMESTAMP"
RETENTION = timedelta(days=90)

_COLUMNS = """EVENT_ID, EVENT_TIMESTAMP, EVENT_TYPE, USER_NAME, CLIENT_IP, REPORTED_CLIENT_TYPE,
       REPORTED_CLIENT_VERSION, FIRST_AUTHENTICATION_FACTOR, SECOND_AUTHENTICATION_FACTOR, IS_SUCCESS, ERROR_CODE,
       ERROR_MESSAGE, RELATED_EVENT_ID, CONNECTION"""

SELECT = f"""
SELECT {_COLUMNS}, LOGIN_DETAILS
FROM {VIEW}
WHERE EVENT_TIMESTAMP >= %(since)s AND EVENT_TIMESTAMP < %(until)s
"""

SELECT_WITHOUT_DETAILS = f"""
SELECT {_COLUMNS}, NULL AS LOGIN_DETAILS
FROM {VIEW}
WHERE EVENT_TIMESTAMP >= %(since)s AND EVENT_TIMESTAMP < %(until)s
"""

# Whether the LOGIN_DETAILS column exists (added by the 2025_07 behaviour change bundle).
HAS_LOGIN_DETAILS = f"SELECT LOGIN_DETAILS FROM {VIEW} LIMIT 1"
