-- Cost API: daily query rollups (per connector-local day) and the indexes the cost endpoints need.
-- The sync rebuilds the rollup days it touched, so the API never scans raw query history for totals.

CREATE TABLE enterprise.snowflake_query_rollup (
    connector_id                    uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    dim                             text NOT NULL CHECK (dim IN ('parameterized_hash', 'user', 'warehouse')),
    usage_date                      date NOT NULL,
    key1                            text NOT NULL,
    key2                            text NOT NULL DEFAULT '',
    queries                         bigint NOT NULL DEFAULT 0,
    credits_compute                 numeric(20, 9) NOT NULL DEFAULT 0,
    credits_cloud_services          numeric(20, 9) NOT NULL DEFAULT 0,
    elapsed_ms                      numeric(30, 0) NOT NULL DEFAULT 0,
    bytes_scanned                   numeric(30, 0) NOT NULL DEFAULT 0,
    bytes_spilled_local             numeric(30, 0) NOT NULL DEFAULT 0,
    bytes_spilled_remote            numeric(30, 0) NOT NULL DEFAULT 0,
    cache_scanned_bytes             numeric(30, 0) NOT NULL DEFAULT 0,
    partitions_scanned              numeric(30, 0) NOT NULL DEFAULT 0,
    partitions_total                numeric(30, 0) NOT NULL DEFAULT 0,
    full_scan_queries               bigint NOT NULL DEFAULT 0,
    queued_overload_ms              numeric(30, 0) NOT NULL DEFAULT 0,
    sample_query_id                 text,
    PRIMARY KEY (connector_id, dim, usage_date, key1, key2)
);

-- Top queries by cost: walk the cost order, filter the date range.
CREATE INDEX sqh_connector_cost_idx ON enterprise.snowflake_query_history
    (connector_id, credits_attributed_compute DESC NULLS LAST) INCLUDE (start_time);
-- Warehouse metering by warehouse and time (warehouses endpoint, daily by warehouse).
CREATE INDEX swm_connector_wh_time_idx ON enterprise.snowflake_warehouse_metering
    (connector_id, start_time) INCLUDE (warehouse_name, credits_used, credits_used_compute,
    credits_used_cloud_services, credits_attributed_compute_queries);
CREATE INDEX smh_connector_time_cov_idx ON enterprise.snowflake_metering_history
    (connector_id, start_time) INCLUDE (service_type, credits_used, credits_used_compute, credits_used_cloud_services);
CREATE INDEX swl_connector_time_idx ON enterprise.snowflake_warehouse_load (connector_id, start_time)
    INCLUDE (warehouse_name, avg_running, avg_queued_load);
CREATE INDEX sts_connector_size_idx ON enterprise.snowflake_table_storage
    (connector_id, (active_bytes + time_travel_bytes + failsafe_bytes) DESC);
