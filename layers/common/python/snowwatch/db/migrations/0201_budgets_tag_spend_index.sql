-- Tag-scoped budgets sum credits_attributed_compute of the queries with their tag, by index range per connector
-- and tag. Covering the credits makes that an index-only scan: the pass no longer visits one heap page per query
-- (a bitmap heap scan over ~200k pages at 1,000 connectors). Replaces the plain index of 0200.
DROP INDEX IF EXISTS enterprise.sqh_connector_tag_start_idx;
CREATE INDEX IF NOT EXISTS sqh_connector_tag_credits_idx ON enterprise.snowflake_query_history
    (connector_id, query_tag, start_time) INCLUDE (credits_attributed_compute) WHERE query_tag IS NOT NULL;
