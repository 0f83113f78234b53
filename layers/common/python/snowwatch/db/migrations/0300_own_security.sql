-- Issue 11, the tool's own security.
--
-- Identity per org: a person (one IdP subject) may belong to several orgs, as admin in one and member in
-- another; each org keeps its own row, its own role and so its own fallback admins.
ALTER TABLE enterprise.users DROP CONSTRAINT IF EXISTS users_subject_key;
ALTER TABLE enterprise.users ADD CONSTRAINT users_org_id_subject_key UNIQUE (org_id, subject);

-- Jobs: a running run proves it is alive with a heartbeat; a reaper fails runs whose heartbeat stopped.
ALTER TABLE enterprise.job_runs ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz;

-- One active run per job and connector, and for org-wide jobs per org: a manual budget_check, snapshot or
-- notify run for one org (org_id set, no connector) never blocks another org or the scheduled run
-- (org_id NULL, no connector).
DROP INDEX IF EXISTS enterprise.job_runs_one_active_idx;
CREATE UNIQUE INDEX job_runs_one_active_idx ON enterprise.job_runs
    (job,
     COALESCE(connector_id, '00000000-0000-0000-0000-000000000000'::uuid),
     COALESCE(CASE WHEN connector_id IS NULL THEN org_id END, '00000000-0000-0000-0000-000000000000'::uuid))
    WHERE status IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS job_runs_active_idx ON enterprise.job_runs (COALESCE(heartbeat_at, started_at, created_at))
    WHERE status IN ('queued', 'running');
