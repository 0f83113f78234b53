-- Issue 12 items 3-4: cost findings that persist between syncs. Each full sync upserts the findings it sees
-- (``finding_key`` = kind:subject) and marks the open ones it no longer sees as resolved (``resolved_at``: when the
-- condition disappeared, e.g. a warehouse's AUTO_SUSPEND changed in SHOW WAREHOUSES). An admin may dismiss or snooze a
-- finding with a reason. ``baseline_*``: the warehouse's credits per (ISO weekday, hour) over the 4 weeks before
-- resolution, from which the savings endpoint measures the credits actually saved.
CREATE TABLE IF NOT EXISTS enterprise.cost_findings (
    id                                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connector_id                      uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    finding_key                       text NOT NULL,
    kind                              text NOT NULL,
    subject                           text NOT NULL,
    claim                             text,
    first_seen_at                     timestamptz NOT NULL DEFAULT now(),
    last_seen_at                      timestamptz NOT NULL DEFAULT now(),
    resolved_at                       timestamptz,
    estimated_monthly_savings_credits numeric NOT NULL DEFAULT 0,
    state                             text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'dismissed', 'snoozed')),
    state_reason                      text CHECK (length(state_reason) <= 500),
    snoozed_until                     date,
    state_by                          uuid REFERENCES enterprise.users(id) ON DELETE SET NULL,
    state_at                          timestamptz,
    UNIQUE (connector_id, finding_key),
    CHECK (state <> 'snoozed' OR snoozed_until IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS cost_findings_resolved_idx ON enterprise.cost_findings (connector_id, resolved_at)
    WHERE resolved_at IS NOT NULL;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'snowwatch_api') THEN
        GRANT UPDATE ON enterprise.cost_findings TO snowwatch_api;
    END IF;
END
$$;
