-- Cloud services per query are billed only above 10% of the day's compute: a query's billed cloud services =
-- its CREDITS_USED_CLOUD_SERVICES x the billed fraction of its UTC day, from METERING_DAILY_HISTORY's
-- WAREHOUSE_METERING row: max(0, used + adjustment) / used (1 when the day has no row yet, or used = 0).
-- The query rollups keep both: credits_cloud_services (billed) and credits_cloud_services_used (raw).

ALTER TABLE enterprise.snowflake_query_rollup
    ADD COLUMN credits_cloud_services_used numeric(20, 9) NOT NULL DEFAULT 0;
ALTER TABLE enterprise.snowflake_query_hash_daily
    ADD COLUMN credits_cloud_services_used numeric NOT NULL DEFAULT 0;
-- Rows built before this migration hold raw credits; the next full sync rebuilds them (see below).
UPDATE enterprise.snowflake_query_rollup SET credits_cloud_services_used = credits_cloud_services;
UPDATE enterprise.snowflake_query_hash_daily SET credits_cloud_services_used = credits_cloud_services;

-- The billed fraction the query rollups were last built with, per UTC day (WAREHOUSE_METERING rows). When a
-- (late) METERING_DAILY_HISTORY load changes a day's fraction, the next full sync sees it differ and rebuilds the
-- query rollups from that day on. NULL everywhere now, so the first full sync after this migration rebuilds all.
ALTER TABLE enterprise.snowflake_daily_costs ADD COLUMN cs_fraction_applied numeric;
