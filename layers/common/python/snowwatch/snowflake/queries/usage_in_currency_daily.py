"""ORGANIZATION_USAGE.USAGE_IN_CURRENCY_DAILY: what the organisation pays per day (latency up to 72 h).

Often unreadable (no ORGADMIN-granted role, reseller accounts): then the sync falls back to the
connector's configured credit price and says so (connectors.currency_source).
"""

from datetime import timedelta

VIEW = "SNOWFLAKE.ORGANIZATION_USAGE.USAGE_IN_CURRENCY_DAILY"
LOOKBACK = timedelta(days=4)
TIME_COLUMN = "USAGE_DATE"

# Credits-denominated usage only (compute, cloud services, serverless): the effective rate per day.
SELECT = f"""
SELECT USAGE_DATE, MAX(CURRENCY) AS CURRENCY, SUM(USAGE) AS USAGE, SUM(USAGE_IN_CURRENCY) AS USAGE_IN_CURRENCY
FROM {VIEW}
WHERE USAGE_DATE >= TO_DATE(%(since)s) AND USAGE_TYPE NOT ILIKE '%%storage%%'
  AND USAGE_TYPE NOT ILIKE '%%transfer%%'
GROUP BY USAGE_DATE
"""
