-- Issue 12 items 4, 6 at scale: what the waste and savings answers need is computed by the full sync (savings.track)
-- and stored with the finding, so the endpoints read one row per finding: the queries behind a query-level finding
-- (last 30 days as of that sync) and the credits saved since resolution (measured up to the last metered hour).
ALTER TABLE enterprise.cost_findings
    ADD COLUMN IF NOT EXISTS queries           jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN IF NOT EXISTS measured_at       timestamptz,
    ADD COLUMN IF NOT EXISTS hours_measured    integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS baseline_credits  numeric NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS actual_credits    numeric NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS baseline_complete boolean NOT NULL DEFAULT false;
