-- Issue 14 item 4: raw query rows in daily partitions (decisions.md §30). enterprise.snowflake_query_history becomes
-- a table PARTITIONED BY RANGE (start_time), one partition per UTC day (snowflake_query_history_pYYYYMMDD) and a
-- DEFAULT partition for rows no day partition holds. Retention drops a whole day (services/sync.py `_retention`)
-- instead of DELETEing its rows.
--
-- A unique index of a partitioned table must contain the partition key: the key becomes
-- (connector_id, query_id, start_time) (a query's START_TIME never changes; QUERY_HISTORY and
-- QUERY_ATTRIBUTION_HISTORY both carry it). The indexes are those of 0410/0451, defined on the parent.
--
-- Partitions are created and dropped at run time by the jobs role, which does not own the table (Postgres requires
-- the owner for ATTACH and DROP): two SECURITY DEFINER functions owned by the migrating user do exactly that, and
-- nothing else, and only snowwatch_jobs may execute them.
--
-- This file may run before 0451 (a fresh database) or after it (a deployed one, where 0451 was applied first):
-- the new table copies whatever columns the old one has (LIKE), and the tag_key index is made only when the column
-- exists (0451 makes it otherwise).

ALTER TABLE enterprise.snowflake_query_history RENAME TO snowflake_query_history_unpartitioned;
ALTER TABLE enterprise.snowflake_query_history_unpartitioned DROP CONSTRAINT snowflake_query_history_pkey;
DROP INDEX IF EXISTS enterprise.sqh_connector_start_idx;
DROP INDEX IF EXISTS enterprise.sqh_connector_cost_qid_idx;
DROP INDEX IF EXISTS enterprise.sqh_connector_tagkey_credits_idx;
DROP INDEX IF EXISTS enterprise.sqh_connector_phash_idx;
DROP INDEX IF EXISTS enterprise.sqh_connector_user_idx;
DROP INDEX IF EXISTS enterprise.sqh_connector_tag_credits_idx;

CREATE TABLE enterprise.snowflake_query_history (
    LIKE enterprise.snowflake_query_history_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    CONSTRAINT snowflake_query_history_connector_id_fkey
        FOREIGN KEY (connector_id) REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    PRIMARY KEY (connector_id, query_id, start_time)
) PARTITION BY RANGE (start_time);
CREATE TABLE enterprise.snowflake_query_history_default PARTITION OF enterprise.snowflake_query_history DEFAULT;

CREATE INDEX sqh_connector_start_idx ON enterprise.snowflake_query_history (connector_id, start_time);
CREATE INDEX sqh_connector_cost_qid_idx ON enterprise.snowflake_query_history
    (connector_id, credits_attributed_compute DESC NULLS LAST, query_id) INCLUDE (start_time);
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'enterprise'
               AND table_name = 'snowflake_query_history' AND column_name = 'tag_key') THEN
        CREATE INDEX sqh_connector_tagkey_credits_idx ON enterprise.snowflake_query_history
            (connector_id, tag_key, start_time) INCLUDE (credits_attributed_compute) WHERE tag_key IS NOT NULL;
    END IF;
END
$$;

GRANT SELECT ON enterprise.snowflake_query_history, enterprise.snowflake_query_history_default TO snowwatch_api;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON enterprise.snowflake_query_history, enterprise.snowflake_query_history_default TO snowwatch_jobs;

-- The UTC days [lo, hi) get their partition (those that have one are left alone); returns how many were made.
-- Concurrency-safe: the parent's SHARE UPDATE EXCLUSIVE lock serializes creators (two connectors' syncs may want
-- the same day at once), and the existence check is repeated under it. Rows of a new day already in DEFAULT (rows loaded when the day
-- had no partition) move into it: CREATE + move + ATTACH, so the ATTACH's check of DEFAULT finds none of them.
-- ATTACH takes SHARE UPDATE EXCLUSIVE on the parent (reads and writes of other days go on) and ACCESS EXCLUSIVE
-- on DEFAULT only; lock_timeout bounds the wait (the caller then loads into DEFAULT, swept later).
CREATE FUNCTION enterprise.ensure_query_partitions(lo date, hi date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET lock_timeout = '10s' AS $$
DECLARE
    d date;
    part text;
    made integer := 0;
    locked boolean := false;
BEGIN
    d := lo;
    WHILE d < hi LOOP
        part := 'snowflake_query_history_p' || to_char(d, 'YYYYMMDD');
        IF to_regclass('enterprise.' || part) IS NULL THEN
            IF NOT locked THEN
                -- the lock ATTACH takes anyway, taken first: it serializes creators, and acquiring a table lock
                -- reads the catalog changes committed meanwhile (an advisory lock would not: the check below
                -- would miss the day another creator just made)
                LOCK TABLE ONLY enterprise.snowflake_query_history IN SHARE UPDATE EXCLUSIVE MODE;
                locked := true;
            END IF;
            IF to_regclass('enterprise.' || part) IS NULL THEN
                EXECUTE format('CREATE TABLE enterprise.%I (LIKE enterprise.snowflake_query_history '
                               'INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
                EXECUTE format('WITH moved AS (DELETE FROM enterprise.snowflake_query_history_default '
                               'WHERE start_time >= %L AND start_time < %L RETURNING *) '
                               'INSERT INTO enterprise.%I SELECT * FROM moved',
                               d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC', part);
                EXECUTE format('ALTER TABLE enterprise.snowflake_query_history ATTACH PARTITION enterprise.%I '
                               'FOR VALUES FROM (%L) TO (%L)',
                               part, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
                made := made + 1;
            END IF;
        END IF;
        d := d + 1;
    END LOOP;
    RETURN made;
END
$$;

-- Drop one UTC day's partition (the retention step decides which, and holds the table's lock while it checks).
CREATE FUNCTION enterprise.drop_query_partition(day date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET lock_timeout = '10s' AS $$
DECLARE
    part text := 'snowflake_query_history_p' || to_char(day, 'YYYYMMDD');
BEGIN
    IF to_regclass('enterprise.' || part) IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('DROP TABLE enterprise.%I', part);
    RETURN true;
END
$$;

REVOKE ALL ON FUNCTION enterprise.ensure_query_partitions(date, date), enterprise.drop_query_partition(date)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION enterprise.ensure_query_partitions(date, date), enterprise.drop_query_partition(date)
    TO snowwatch_jobs;

-- The rows kept so far: a partition per day they cover, then the rows, then the old table goes (one copy of the
-- table: on a deployed database this migration takes as long as rewriting the kept raw rows, 35 days of them).
DO $$
BEGIN
    PERFORM enterprise.ensure_query_partitions(d, d + 1)
    FROM (SELECT DISTINCT (start_time AT TIME ZONE 'UTC')::date AS d
          FROM enterprise.snowflake_query_history_unpartitioned) days;
END
$$;
INSERT INTO enterprise.snowflake_query_history SELECT * FROM enterprise.snowflake_query_history_unpartitioned;
DROP TABLE enterprise.snowflake_query_history_unpartitioned;
