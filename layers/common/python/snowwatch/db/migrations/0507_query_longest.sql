-- Issue 14: the post-load hourly share read a whole day either side of each day it prices (3 days read per day),
-- because a query of the day before may still run in this day's hours. How far it can reach is the longest query
-- stored: the loader keeps that here (repositories/cost_sync.py), and the share reads only that far either side
-- (decisions.md §35). A connector with no row here (rows loaded before this table) is read a day either side.
CREATE TABLE IF NOT EXISTS enterprise.query_spans (
    connector_id uuid PRIMARY KEY REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    longest_ms   bigint NOT NULL CHECK (longest_ms >= 0)  -- max(end_time - start_time) of every query loaded
);

-- Rows already stored count: the longest of them per connector (one read of the kept raw rows).
INSERT INTO enterprise.query_spans (connector_id, longest_ms)
SELECT connector_id, ceil(EXTRACT(EPOCH FROM max(end_time - start_time)) * 1000)
FROM enterprise.snowflake_query_history
WHERE end_time > start_time
GROUP BY connector_id
ON CONFLICT (connector_id) DO NOTHING;
