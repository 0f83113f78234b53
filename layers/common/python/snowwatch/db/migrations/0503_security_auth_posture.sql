-- Issue 15 item 4: authentication posture. USERS.HAS_WORKLOAD_IDENTITY is stored (HAS_PAT already is).
ALTER TABLE enterprise.snowflake_users ADD COLUMN IF NOT EXISTS has_workload_identity boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS slh_success_user_idx ON enterprise.snowflake_login_history (connector_id, user_name, event_timestamp)
    WHERE is_success;
