-- Issue 12 item 7: attribution by query tag and by dbt model. ``dbt_comment``: the dbt query comment at the end of
-- the query text, extracted in Snowflake (QUERY_TEXT is cut to 10,000 characters); ``tag_key`` and ``dbt_model``:
-- parsed at load by services/attribution.py (the one parser, also used by tag-scoped budgets). The query rollup gains
-- a row per local day x tag and x model.
ALTER TABLE enterprise.snowflake_query_history
    ADD COLUMN IF NOT EXISTS dbt_comment text,
    ADD COLUMN IF NOT EXISTS tag_key text,
    ADD COLUMN IF NOT EXISTS dbt_model text;

-- Rows loaded before: a plain tag is its own key (JSON tags get theirs on the next re-read).
UPDATE enterprise.snowflake_query_history SET tag_key = left(query_tag, 500)
WHERE tag_key IS NULL AND query_tag IS NOT NULL AND btrim(query_tag) <> '' AND left(btrim(query_tag), 1) <> '{';

ALTER TABLE enterprise.snowflake_query_rollup DROP CONSTRAINT IF EXISTS snowflake_query_rollup_dim_check;
ALTER TABLE enterprise.snowflake_query_rollup ADD CONSTRAINT snowflake_query_rollup_dim_check
    CHECK (dim IN ('parameterized_hash', 'user', 'warehouse', 'query_tag', 'dbt_model'));

-- Tag-scoped budgets read spend by tag_key (the budgets' pass, like 0201 for query_tag).
CREATE INDEX IF NOT EXISTS sqh_connector_tagkey_credits_idx ON enterprise.snowflake_query_history
    (connector_id, tag_key, start_time) INCLUDE (credits_attributed_compute) WHERE tag_key IS NOT NULL;
