-- One Postgres role per function family (issue 13): each logs in with an IAM token in AWS and holds
-- exactly what its functions' SQL uses. The migrate family is the user that runs migrations (the
-- RDS master user, read from the master secret by the migrate function only): it owns the schema.
--
--   snowwatch_api     reads everything but notification bodies; writes what the API's routes change
--                     (organizations and users from token claims, connectors, budgets, queued and
--                     failed-to-start job runs, resolved security alerts); deletes no job run.
--   snowwatch_jobs    reads everything; writes the Snowflake copies, rollups, budgets' alerts and
--                     snapshots, the outbox and job runs; only updates connectors; never writes
--                     organizations or users; temporary tables (bulk upsert staging).
--   snowwatch_notify  the outbox (read, claim, mark) and its own job runs; reads connectors and
--                     organizations; nothing else.
--
-- Tables added by later migrations: ALTER DEFAULT PRIVILEGES gives snowwatch_api SELECT and
-- snowwatch_jobs SELECT/INSERT/UPDATE/DELETE on them; a migration whose table the API or notify
-- writes grants that itself. Roles are cluster-wide: created once, tolerating a concurrent creator.
-- rds_iam (IAM authentication) is granted only where it exists, so this runs on plain Postgres too.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['snowwatch_api', 'snowwatch_jobs', 'snowwatch_notify'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- another database on this server created it meanwhile
            END;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam') THEN
            EXECUTE format('GRANT rds_iam TO %I', r);
        END IF;
    END LOOP;
END
$$;

GRANT USAGE ON SCHEMA enterprise TO snowwatch_api, snowwatch_jobs, snowwatch_notify;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA enterprise TO snowwatch_api, snowwatch_jobs, snowwatch_notify;

-- api
GRANT SELECT ON ALL TABLES IN SCHEMA enterprise TO snowwatch_api;
REVOKE SELECT ON enterprise.notifications FROM snowwatch_api;
GRANT SELECT (id, org_id, connector_id, source_type, source_id, channel, recipients, status, attempts, last_error,
              created_at, published_at, sent_at)
    ON enterprise.notifications TO snowwatch_api;
GRANT INSERT, UPDATE ON enterprise.organizations, enterprise.users TO snowwatch_api;
GRANT INSERT, UPDATE, DELETE ON enterprise.connectors, enterprise.snowflake_budgets TO snowwatch_api;
GRANT INSERT, UPDATE ON enterprise.job_runs TO snowwatch_api;
GRANT UPDATE ON enterprise.snowflake_security_alerts TO snowwatch_api;
GRANT SELECT ON public._yoyo_migration TO snowwatch_api;  -- /health reports the schema version

-- jobs
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA enterprise TO snowwatch_jobs;
REVOKE INSERT, UPDATE, DELETE ON enterprise.organizations, enterprise.users FROM snowwatch_jobs;
REVOKE INSERT, DELETE ON enterprise.connectors FROM snowwatch_jobs;
DO $$
BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO snowwatch_jobs', current_database());
END
$$;

-- notify
GRANT SELECT, UPDATE ON enterprise.notifications TO snowwatch_notify;
GRANT SELECT, INSERT, UPDATE ON enterprise.job_runs TO snowwatch_notify;
GRANT SELECT ON enterprise.connectors, enterprise.organizations TO snowwatch_notify;

-- tables and sequences created later by the migrating user
ALTER DEFAULT PRIVILEGES IN SCHEMA enterprise GRANT SELECT ON TABLES TO snowwatch_api;
ALTER DEFAULT PRIVILEGES IN SCHEMA enterprise GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO snowwatch_jobs;
ALTER DEFAULT PRIVILEGES IN SCHEMA enterprise GRANT USAGE ON SEQUENCES
    TO snowwatch_api, snowwatch_jobs, snowwatch_notify;
