-- Issue 15 item 2: the post-login timeline answers from Postgres. Queries with their session (an excerpt of
-- the text, warehouse, rows, bytes), kept 90 days like the other security event tables.
CREATE TABLE IF NOT EXISTS enterprise.snowflake_session_queries (
    connector_id     uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    query_id         text NOT NULL,
    session_id       bigint NOT NULL,
    start_time       timestamptz NOT NULL,
    user_name        text,
    query_type       text,
    query_text       text,
    warehouse_name   text,
    execution_status text,
    rows_produced    bigint,
    bytes_scanned    bigint,
    PRIMARY KEY (connector_id, query_id)
);
CREATE INDEX IF NOT EXISTS ssq_session_idx ON enterprise.snowflake_session_queries (connector_id, session_id, start_time);
CREATE INDEX IF NOT EXISTS ssq_time_idx ON enterprise.snowflake_session_queries (connector_id, start_time);
CREATE INDEX IF NOT EXISTS sls_login_idx ON enterprise.snowflake_sessions (connector_id, login_event_id);
