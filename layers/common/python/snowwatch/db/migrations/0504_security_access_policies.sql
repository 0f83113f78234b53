-- Issue 15 item 5: ACCESS_HISTORY rules. POLICIES_REFERENCED (the masking and row-access policies applied to
-- each object a query touched) is stored with the access rows.
ALTER TABLE enterprise.snowflake_access_history ADD COLUMN IF NOT EXISTS policies_referenced jsonb;
CREATE INDEX IF NOT EXISTS sah_user_time_idx ON enterprise.snowflake_access_history (connector_id, user_name, query_start_time);
CREATE INDEX IF NOT EXISTS ssq_user_time_idx ON enterprise.snowflake_session_queries (connector_id, user_name, start_time);
