-- Top queries by cost walk this index in order (query_id is the tie-breaker of the API's ORDER BY).
CREATE INDEX sqh_connector_cost_qid_idx ON enterprise.snowflake_query_history
    (connector_id, credits_attributed_compute DESC NULLS LAST, query_id) INCLUDE (start_time);
DROP INDEX IF EXISTS enterprise.sqh_connector_cost_idx;
