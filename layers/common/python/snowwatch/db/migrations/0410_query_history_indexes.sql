-- Issue 14 item 4: only the indexes a statement reads stay on the raw query table. Every reader and its index:
--   * the query rollups, the hourly cost share, the last-read refresh, the retention step: (connector_id, start_time)
--     ranges -> sqh_connector_start_idx;
--   * top queries, the offset's credits before a page, the findings' queries: the cost order walk ->
--     sqh_connector_cost_qid_idx;
--   * tag-scoped budgets: spend by tag_key -> sqh_connector_tagkey_credits_idx;
--   * upserts of the loader and the sample texts: the key (connector_id, query_id).
-- No statement filters raw rows by parameterized hash, by user or by the raw query_tag any more: the hash, user and
-- tag answers come from the rollups (snowflake_query_hash_daily, snowflake_query_rollup), and tag budgets read
-- tag_key since 0451. Each of these indexes cost every loaded row an index entry.
DROP INDEX IF EXISTS enterprise.sqh_connector_phash_idx;
DROP INDEX IF EXISTS enterprise.sqh_connector_user_idx;
DROP INDEX IF EXISTS enterprise.sqh_connector_tag_credits_idx;
