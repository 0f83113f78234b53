"""ACCOUNT_USAGE.METERING_DAILY_HISTORY: daily credits by service type, with the cloud-services
adjustment (billed = used + adjustment; latency 3 h)."""

from datetime import timedelta

VIEW = "SNOWFLAKE.ACCOUNT_USAGE.METERING_DAILY_HISTORY"
LOOKBACK = timedelta(days=3)
TIME_COLUMN = "USAGE_DATE"

SELECT = f"""
SELECT USAGE_DATE, SERVICE_TYPE, CREDITS_USED_COMPUTE, CREDITS_USED_CLOUD_SERVICES, CREDITS_USED,
       CREDITS_ADJUSTMENT_CLOUD_SERVICES, CREDITS_BILLED
FROM {VIEW}
WHERE USAGE_DATE >= TO_DATE(%(since)s) AND USAGE_DATE <= TO_DATE(%(until)s)
"""
