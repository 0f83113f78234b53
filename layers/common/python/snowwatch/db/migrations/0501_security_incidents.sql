-- Issue 15 item 3: incidents. Alerts of event rules about a user or an IP join an incident when they share a
-- user or an IP (``keys``: 'user:NAME', 'ip:ADDRESS') with it within the grouping window. One notification per
-- incident opening (``notified_round`` = the reopen count it was sent for), updated while still pending.
CREATE TABLE IF NOT EXISTS enterprise.snowflake_security_incidents (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connector_id    uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    subject         text NOT NULL,
    keys            text[] NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
    title           text NOT NULL,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    first_seen_at   timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by uuid REFERENCES enterprise.users(id) ON DELETE SET NULL,
    resolved_at     timestamptz,
    resolved_by     uuid REFERENCES enterprise.users(id) ON DELETE SET NULL,
    resolution_note text,
    reopened_count  integer NOT NULL DEFAULT 0,
    reopened_at     timestamptz,
    notified_round  integer,
    CHECK (status <> 'resolved' OR (resolved_at IS NOT NULL AND resolution_note IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS ssi_connector_idx ON enterprise.snowflake_security_incidents (connector_id, last_seen_at DESC);
CREATE INDEX IF NOT EXISTS ssi_keys_idx ON enterprise.snowflake_security_incidents USING gin (keys);

ALTER TABLE enterprise.snowflake_security_alerts
    ADD COLUMN IF NOT EXISTS incident_id uuid REFERENCES enterprise.snowflake_security_incidents(id) ON DELETE SET NULL;
CREATE INDEX IF NOT EXISTS ssa_incident_idx ON enterprise.snowflake_security_alerts (incident_id)
    WHERE incident_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS enterprise.snowflake_security_incident_events (
    id          bigserial PRIMARY KEY,
    incident_id uuid NOT NULL REFERENCES enterprise.snowflake_security_incidents(id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('opened', 'alert_joined', 'acknowledged', 'resolved', 'reopened')),
    actor       uuid REFERENCES enterprise.users(id) ON DELETE SET NULL,
    note        text,
    alert_id    uuid REFERENCES enterprise.snowflake_security_alerts(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS ssie_incident_idx ON enterprise.snowflake_security_incident_events (incident_id, at, id);

ALTER TABLE enterprise.notifications DROP CONSTRAINT IF EXISTS notifications_source_type_check;
ALTER TABLE enterprise.notifications ADD CONSTRAINT notifications_source_type_check
    CHECK (source_type IN ('budget_alert', 'security_alert', 'security_incident'));

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'snowwatch_api') THEN
        GRANT UPDATE ON enterprise.snowflake_security_incidents TO snowwatch_api;
        GRANT INSERT ON enterprise.snowflake_security_incident_events TO snowwatch_api;
    END IF;
END
$$;
