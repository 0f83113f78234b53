-- Budgets and notifications (issue 5).
--
-- The outbox gets a claimed state: the notifier moves a row pending -> sending (with a lease) before it
-- calls SES/Slack and sending -> sent after; a redelivered SQS message finds the row claimed or sent and
-- does nothing. A lease that runs out (the notifier died mid-send) lets the relay hand the row out again.

ALTER TABLE enterprise.notifications DROP CONSTRAINT IF EXISTS notifications_status_check;
ALTER TABLE enterprise.notifications
    ADD CONSTRAINT notifications_status_check CHECK (status IN ('pending', 'sending', 'sent', 'failed'));
ALTER TABLE enterprise.notifications ADD COLUMN IF NOT EXISTS locked_until timestamptz;
ALTER TABLE enterprise.notifications ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();

DROP INDEX IF EXISTS enterprise.notifications_pending_idx;
CREATE INDEX notifications_open_idx ON enterprise.notifications (status, published_at)
    WHERE status IN ('pending', 'sending');

-- Tag-scoped budgets read attributed credits per query tag.
CREATE INDEX IF NOT EXISTS sqh_connector_tag_start_idx ON enterprise.snowflake_query_history
    (connector_id, query_tag, start_time) WHERE query_tag IS NOT NULL;
-- Warehouse-scoped and account budgets read the covering (connector_id, start_time) indexes of 0100.
