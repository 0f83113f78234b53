-- Large accounts (issue 14): a run may end `partial` (a view it could not read was skipped, the rest ran),
-- and a running run records its progress (windows done and left, rows, the date reached).
ALTER TABLE enterprise.job_runs DROP CONSTRAINT IF EXISTS job_runs_status_check;
ALTER TABLE enterprise.job_runs ADD CONSTRAINT job_runs_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'partial', 'failed', 'interrupted'));
ALTER TABLE enterprise.job_runs ADD COLUMN IF NOT EXISTS progress jsonb;
-- A run that continues another (the extraction ran out of time and queued the rest on the same queue).
ALTER TABLE enterprise.job_runs ADD COLUMN IF NOT EXISTS continues uuid REFERENCES enterprise.job_runs(id) ON DELETE SET NULL;
