-- Cost API at scale: daily spend rollups (per connector-local day) so no endpoint aggregates raw metering
-- or query history per request. Written by the sync after each load (services/sync.py), set-based, for the
-- local days it re-read; every day again when the connector's timezone differs from the one recorded in
-- snowflake_rollup_state (the API reads the raw tables for spend until then).

-- Which timezone each rollup family was built in ('spend': spend + warehouse load; 'query': query rollups).
CREATE TABLE enterprise.snowflake_rollup_state (
    connector_id uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    rollup       text NOT NULL CHECK (rollup IN ('spend', 'query')),
    timezone     text NOT NULL,
    built_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connector_id, rollup)
);

-- Credits per local day x warehouse (WAREHOUSE_METERING_HISTORY) and x service type (METERING_HISTORY).
-- Sums of numeric(20, 9) are exact, so summing the days gives exactly the raw tables' sums.
CREATE TABLE enterprise.snowflake_spend_daily (
    connector_id           uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    dim                    text NOT NULL CHECK (dim IN ('warehouse', 'service_type')),
    usage_date             date NOT NULL,
    key                    text NOT NULL,
    credits                numeric NOT NULL,
    credits_compute        numeric NOT NULL,
    credits_cloud_services numeric NOT NULL,
    compute_complete       numeric,  -- compute of the hours whose attributed credits are known (warehouse)
    attributed             numeric,  -- CREDITS_ATTRIBUTED_COMPUTE_QUERIES (warehouse)
    hours                  bigint NOT NULL,
    PRIMARY KEY (connector_id, dim, usage_date, key)
);

-- WAREHOUSE_LOAD_HISTORY per local day x warehouse: sums and counts, so averages over any range are exact.
CREATE TABLE enterprise.snowflake_warehouse_load_daily (
    connector_id     uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    usage_date       date NOT NULL,
    warehouse_name   text NOT NULL,
    running_sum      double precision NOT NULL,
    queued_sum       double precision NOT NULL,
    intervals        bigint NOT NULL,
    queued_intervals bigint NOT NULL,
    PRIMARY KEY (connector_id, usage_date, warehouse_name)
);

-- Queries per parameterized hash, per local day (days = 1) and per Monday-aligned week of those days (days = 7):
-- only what the queries endpoint reads, narrow, written in (day, hash) order. A range reads its whole weeks'
-- rows plus the days at its edges (a 30-day range: ~10 rows per hash instead of 30). Sums of numerics and
-- max(sample) compose exactly. It replaces the wide rollup's parameterized-hash rows.
CREATE TABLE enterprise.snowflake_query_hash_daily (
    connector_id             uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    days                     smallint NOT NULL CHECK (days IN (1, 7)),
    usage_date               date NOT NULL,  -- the day, or the Monday of the week
    query_parameterized_hash text NOT NULL,
    queries                  bigint NOT NULL,
    credits_compute          numeric NOT NULL,
    credits_cloud_services   numeric NOT NULL,
    elapsed_ms               numeric NOT NULL,
    sample_query_id          text,
    PRIMARY KEY (connector_id, days, usage_date, query_parameterized_hash)
);

INSERT INTO enterprise.snowflake_query_hash_daily
SELECT connector_id, 1, usage_date, key1, queries, credits_compute, credits_cloud_services, elapsed_ms, sample_query_id
FROM enterprise.snowflake_query_rollup WHERE dim = 'parameterized_hash'
ORDER BY connector_id, usage_date, key1;
INSERT INTO enterprise.snowflake_query_hash_daily
SELECT connector_id, 7, date_trunc('week', usage_date)::date, query_parameterized_hash, sum(queries),
       sum(credits_compute), sum(credits_cloud_services), sum(elapsed_ms), max(sample_query_id)
FROM enterprise.snowflake_query_hash_daily WHERE days = 1
GROUP BY 1, 3, 4 ORDER BY 1, 3, 4;
DELETE FROM enterprise.snowflake_query_rollup WHERE dim = 'parameterized_hash';
