-- Issue 15 item 6: a visible alert lifecycle. Alerts can be acknowledged and snoozed until a date; every
-- transition (opened, acknowledged, snoozed, resolved, reopened) is an event with who, when, note and, for
-- a reopen, why: a reopened alert keeps every earlier resolution.
ALTER TABLE enterprise.snowflake_security_alerts DROP CONSTRAINT IF EXISTS snowflake_security_alerts_status_check;
ALTER TABLE enterprise.snowflake_security_alerts ADD CONSTRAINT snowflake_security_alerts_status_check
    CHECK (status IN ('open', 'acknowledged', 'resolved'));
ALTER TABLE enterprise.snowflake_security_alerts
    ADD COLUMN IF NOT EXISTS acknowledged_at timestamptz,
    ADD COLUMN IF NOT EXISTS acknowledged_by uuid REFERENCES enterprise.users(id) ON DELETE SET NULL,
    ADD COLUMN IF NOT EXISTS snoozed_until timestamptz,
    ADD COLUMN IF NOT EXISTS reopened_at timestamptz;

CREATE TABLE IF NOT EXISTS enterprise.snowflake_security_alert_events (
    id        bigserial PRIMARY KEY,
    alert_id  uuid NOT NULL REFERENCES enterprise.snowflake_security_alerts(id) ON DELETE CASCADE,
    at        timestamptz NOT NULL DEFAULT now(),
    kind      text NOT NULL CHECK (kind IN ('opened', 'acknowledged', 'snoozed', 'resolved', 'reopened')),
    actor     uuid REFERENCES enterprise.users(id) ON DELETE SET NULL,
    note      text,
    until     timestamptz
);
CREATE INDEX IF NOT EXISTS ssae_alert_idx ON enterprise.snowflake_security_alert_events (alert_id, at, id);

-- The history of alerts that exist already: their opening and their last resolution (all that was kept).
INSERT INTO enterprise.snowflake_security_alert_events (alert_id, at, kind)
SELECT id, first_seen_at, 'opened' FROM enterprise.snowflake_security_alerts a
WHERE NOT EXISTS (SELECT 1 FROM enterprise.snowflake_security_alert_events e WHERE e.alert_id = a.id);
INSERT INTO enterprise.snowflake_security_alert_events (alert_id, at, kind, actor, note)
SELECT id, resolved_at, 'resolved', resolved_by, resolution_note FROM enterprise.snowflake_security_alerts
WHERE resolved_at IS NOT NULL;

-- The API acknowledges, snoozes and resolves (writing the event in the same transaction).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'snowwatch_api') THEN
        GRANT INSERT ON enterprise.snowflake_security_alert_events TO snowwatch_api;
    END IF;
END
$$;
