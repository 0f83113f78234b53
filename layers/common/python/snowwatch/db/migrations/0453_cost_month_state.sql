-- Issue 12 item 8 at 1,000 connectors: each connector's month (spend to date, month-end forecast, budget counts) as the
-- hourly budget check evaluated it (the budgets' pass, one statement for every connector), so the org overview reads
-- one row per connector instead of running the pass per request.
CREATE TABLE IF NOT EXISTS enterprise.cost_month_state (
    connector_id  uuid PRIMARY KEY REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    evaluated_at  timestamptz NOT NULL,
    period_start  date NOT NULL,
    spend         numeric NOT NULL,
    forecast      numeric NOT NULL,
    budgets       integer NOT NULL,
    over          integer NOT NULL,
    forecast_over integer NOT NULL
);
