-- Issue 15 item 7: one snapshot a day (UTC) of the security score and the open counts, written by every
-- security run (the day's last run wins), read as a trend.
CREATE TABLE IF NOT EXISTS enterprise.snowflake_security_snapshots (
    connector_id   uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    day            date NOT NULL,
    score          integer NOT NULL CHECK (score BETWEEN 0 AND 100),
    critical       integer NOT NULL DEFAULT 0,
    high           integer NOT NULL DEFAULT 0,
    medium         integer NOT NULL DEFAULT 0,
    low            integer NOT NULL DEFAULT 0,
    info           integer NOT NULL DEFAULT 0,
    open_incidents integer NOT NULL DEFAULT 0,
    taken_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connector_id, day)
);
