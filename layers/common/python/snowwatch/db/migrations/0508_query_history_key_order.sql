-- Issue 14 (decisions.md §40): the raw query table's key becomes (connector_id, start_time, query_id), and the range
-- index (connector_id, start_time) goes: the key now serves every range read (rollups, hourly share, last-read
-- refresh, retention, the loader's fresh-window check) as well as the loader's joins, which always carry start_time.
-- One index fewer to write per loaded row, and the key is written in start_time order (a window loads in that
-- order), not in QUERY_ID order across the whole day.
--
-- The one reader by QUERY_ID alone was the sample text of a rollup group: the rollups now keep the sample's
-- start_time too (sample_start_time), so the text is found by the key. Rollup rows whose sample is still stored
-- get it here (through the old key, before it goes); older ones have no raw row left, so no text either way.

ALTER TABLE enterprise.snowflake_query_rollup ADD COLUMN IF NOT EXISTS sample_start_time timestamptz;
ALTER TABLE enterprise.snowflake_query_hash_daily ADD COLUMN IF NOT EXISTS sample_start_time timestamptz;

UPDATE enterprise.snowflake_query_rollup r SET sample_start_time = q.start_time
FROM enterprise.snowflake_query_history q
WHERE q.connector_id = r.connector_id AND q.query_id = r.sample_query_id;
UPDATE enterprise.snowflake_query_hash_daily r SET sample_start_time = q.start_time
FROM enterprise.snowflake_query_history q
WHERE q.connector_id = r.connector_id AND q.query_id = r.sample_query_id;

ALTER TABLE enterprise.snowflake_query_history DROP CONSTRAINT snowflake_query_history_pkey;
ALTER TABLE enterprise.snowflake_query_history
    ADD CONSTRAINT snowflake_query_history_pkey PRIMARY KEY (connector_id, start_time, query_id);
DROP INDEX IF EXISTS enterprise.sqh_connector_start_idx;
