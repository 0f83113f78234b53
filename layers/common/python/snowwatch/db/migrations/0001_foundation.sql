-- snowwatch schema, part 1: tenancy, jobs, and every table named in DESIGN.md §3.
-- Later files (0100_* cost, 0200_* budgets, 0300_* security, ...) evolve it; never edit an applied file.

CREATE SCHEMA IF NOT EXISTS enterprise;

-- ---------------------------------------------------------------- tenancy
CREATE TABLE enterprise.organizations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    external_id text NOT NULL UNIQUE CHECK (length(external_id) BETWEEN 1 AND 200),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE enterprise.users (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES enterprise.organizations(id) ON DELETE CASCADE,
    subject      text NOT NULL UNIQUE,
    email        text NOT NULL CHECK (position('@' IN email) > 1),
    name         text,
    role         text NOT NULL CHECK (role IN ('admin', 'member')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_org_role_idx ON enterprise.users (org_id, role);

CREATE TABLE enterprise.connectors (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id               uuid NOT NULL REFERENCES enterprise.organizations(id) ON DELETE CASCADE,
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    account_identifier   text NOT NULL,
    username             text NOT NULL,
    role_name            text NOT NULL DEFAULT 'SNOWWATCH_READER',
    warehouse            text NOT NULL,
    auth_method          text NOT NULL DEFAULT 'key_pair' CHECK (auth_method IN ('key_pair', 'password')),
    secret_ref           text NOT NULL,
    currency             text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    credit_price         numeric(12, 4) NOT NULL DEFAULT 3.0000 CHECK (credit_price >= 0),
    storage_price_per_tb numeric(12, 4) NOT NULL DEFAULT 23.0000 CHECK (storage_price_per_tb >= 0),
    currency_source      text NOT NULL DEFAULT 'configured_price'
                         CHECK (currency_source IN ('configured_price', 'organization_usage')),
    timezone             text NOT NULL DEFAULT 'UTC',
    backfill_days        integer NOT NULL DEFAULT 90 CHECK (backfill_days BETWEEN 1 AND 365),
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'error')),
    last_sync_at         timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);
CREATE INDEX connectors_org_idx ON enterprise.connectors (org_id);

-- ---------------------------------------------------------------- jobs
CREATE TABLE enterprise.job_runs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job          text NOT NULL CHECK (job IN ('sync', 'budget_check', 'notify', 'snapshot', 'security')),
    connector_id uuid REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    org_id       uuid REFERENCES enterprise.organizations(id) ON DELETE CASCADE,
    trigger      text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    mode         text,
    status       text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'interrupted')),
    requested_by uuid REFERENCES enterprise.users(id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    rows         jsonb NOT NULL DEFAULT '{}'::jsonb,
    error        text,
    CHECK (finished_at IS NULL OR started_at IS NULL OR finished_at >= started_at)
);
-- One run per (job, connector) at a time: a second start conflicts here, atomically.
CREATE UNIQUE INDEX job_runs_one_active_idx ON enterprise.job_runs
    (job, COALESCE(connector_id, '00000000-0000-0000-0000-000000000000'::uuid))
    WHERE status IN ('queued', 'running');
CREATE INDEX job_runs_job_created_idx ON enterprise.job_runs (job, created_at DESC);
CREATE INDEX job_runs_connector_created_idx ON enterprise.job_runs (connector_id, created_at DESC);
CREATE INDEX job_runs_org_created_idx ON enterprise.job_runs (org_id, created_at DESC);

CREATE TABLE enterprise.sync_state (
    connector_id uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    view_name    text NOT NULL,
    watermark    timestamptz NOT NULL,
    last_run_id  uuid REFERENCES enterprise.job_runs(id) ON DELETE SET NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connector_id, view_name)
);

-- ---------------------------------------------------------------- cost
CREATE TABLE enterprise.snowflake_warehouse_metering (
    connector_id                       uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    warehouse_id                       bigint NOT NULL,
    warehouse_name                     text NOT NULL,
    start_time                         timestamptz NOT NULL,
    end_time                           timestamptz NOT NULL,
    credits_used                       numeric(20, 9) NOT NULL DEFAULT 0,
    credits_used_compute               numeric(20, 9) NOT NULL DEFAULT 0,
    credits_used_cloud_services        numeric(20, 9) NOT NULL DEFAULT 0,
    credits_attributed_compute_queries numeric(20, 9),
    PRIMARY KEY (connector_id, warehouse_id, start_time)
);
CREATE INDEX swm_connector_time_idx ON enterprise.snowflake_warehouse_metering (connector_id, start_time);

CREATE TABLE enterprise.snowflake_metering_history (
    connector_id                uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    service_type                text NOT NULL,
    entity_id                   bigint NOT NULL DEFAULT 0,
    entity_type                 text,
    name                        text,
    start_time                  timestamptz NOT NULL,
    end_time                    timestamptz NOT NULL,
    credits_used_compute        numeric(20, 9) NOT NULL DEFAULT 0,
    credits_used_cloud_services numeric(20, 9) NOT NULL DEFAULT 0,
    credits_used                numeric(20, 9) NOT NULL DEFAULT 0,
    PRIMARY KEY (connector_id, service_type, entity_id, start_time)
);
CREATE INDEX smh_connector_time_idx ON enterprise.snowflake_metering_history (connector_id, start_time);

CREATE TABLE enterprise.snowflake_daily_costs (
    connector_id                      uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    usage_date                        date NOT NULL,
    service_type                      text NOT NULL,
    credits_used_compute              numeric(20, 9) NOT NULL DEFAULT 0,
    credits_used_cloud_services       numeric(20, 9) NOT NULL DEFAULT 0,
    credits_used                      numeric(20, 9) NOT NULL DEFAULT 0,
    credits_adjustment_cloud_services numeric(20, 9) NOT NULL DEFAULT 0,
    credits_billed                    numeric(20, 9) NOT NULL DEFAULT 0,
    currency_amount                   numeric(20, 6),
    PRIMARY KEY (connector_id, usage_date, service_type)
);

CREATE TABLE enterprise.snowflake_storage_usage (
    connector_id               uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    usage_date                 date NOT NULL,
    storage_bytes              numeric(30, 0) NOT NULL DEFAULT 0,
    stage_bytes                numeric(30, 0) NOT NULL DEFAULT 0,
    failsafe_bytes             numeric(30, 0) NOT NULL DEFAULT 0,
    hybrid_table_storage_bytes numeric(30, 0) NOT NULL DEFAULT 0,
    PRIMARY KEY (connector_id, usage_date)
);

CREATE TABLE enterprise.snowflake_database_storage (
    connector_id           uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    usage_date             date NOT NULL,
    database_id            bigint NOT NULL,
    database_name          text NOT NULL,
    deleted                timestamptz,
    average_database_bytes numeric(30, 0) NOT NULL DEFAULT 0,
    average_failsafe_bytes numeric(30, 0) NOT NULL DEFAULT 0,
    PRIMARY KEY (connector_id, usage_date, database_id)
);

CREATE TABLE enterprise.snowflake_table_storage (
    connector_id             uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    table_id                 bigint NOT NULL,
    table_catalog            text NOT NULL,
    table_schema             text NOT NULL,
    table_name               text NOT NULL,
    is_transient             boolean NOT NULL DEFAULT false,
    active_bytes             numeric(30, 0) NOT NULL DEFAULT 0,
    time_travel_bytes        numeric(30, 0) NOT NULL DEFAULT 0,
    failsafe_bytes           numeric(30, 0) NOT NULL DEFAULT 0,
    retained_for_clone_bytes numeric(30, 0) NOT NULL DEFAULT 0,
    deleted                  boolean NOT NULL DEFAULT false,
    table_created            timestamptz,
    table_dropped            timestamptz,
    last_read_at             timestamptz,
    PRIMARY KEY (connector_id, table_id)
);

CREATE TABLE enterprise.snowflake_query_history (
    connector_id                    uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    query_id                        text NOT NULL,
    query_text                      text,
    query_type                      text,
    user_name                       text,
    role_name                       text,
    warehouse_id                    bigint,
    warehouse_name                  text,
    warehouse_size                  text,
    query_tag                       text,
    execution_status                text,
    error_code                      text,
    start_time                      timestamptz NOT NULL,
    end_time                        timestamptz,
    total_elapsed_time              bigint NOT NULL DEFAULT 0,
    execution_time                  bigint NOT NULL DEFAULT 0,
    compilation_time                bigint NOT NULL DEFAULT 0,
    queued_provisioning_time        bigint NOT NULL DEFAULT 0,
    queued_repair_time              bigint NOT NULL DEFAULT 0,
    queued_overload_time            bigint NOT NULL DEFAULT 0,
    list_external_files_time        bigint NOT NULL DEFAULT 0,
    bytes_scanned                   bigint NOT NULL DEFAULT 0,
    percentage_scanned_from_cache   double precision NOT NULL DEFAULT 0,
    partitions_scanned              bigint NOT NULL DEFAULT 0,
    partitions_total                bigint NOT NULL DEFAULT 0,
    bytes_spilled_to_local_storage  bigint NOT NULL DEFAULT 0,
    bytes_spilled_to_remote_storage bigint NOT NULL DEFAULT 0,
    rows_produced                   bigint NOT NULL DEFAULT 0,
    credits_used_cloud_services     numeric(20, 9) NOT NULL DEFAULT 0,
    query_hash                      text,
    query_parameterized_hash        text,
    credits_attributed_compute      numeric(20, 9),
    credits_used_query_acceleration numeric(20, 9),
    cost_method                     text CHECK (cost_method IN ('attribution', 'hourly_share')),
    PRIMARY KEY (connector_id, query_id)
);
CREATE INDEX sqh_connector_start_idx ON enterprise.snowflake_query_history (connector_id, start_time);
CREATE INDEX sqh_connector_phash_idx ON enterprise.snowflake_query_history (connector_id, query_parameterized_hash);
CREATE INDEX sqh_connector_user_idx ON enterprise.snowflake_query_history (connector_id, user_name, start_time);

CREATE TABLE enterprise.snowflake_warehouses (
    connector_id      uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    warehouse_name    text NOT NULL,
    size              text,
    warehouse_type    text,
    auto_suspend      integer,
    auto_resume       boolean,
    min_cluster_count integer,
    max_cluster_count integer,
    scaling_policy    text,
    resource_monitor  text,
    owner             text,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connector_id, warehouse_name)
);

CREATE TABLE enterprise.snowflake_warehouse_load (
    connector_id            uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    warehouse_name          text NOT NULL,
    start_time              timestamptz NOT NULL,
    avg_running             double precision NOT NULL DEFAULT 0,
    avg_queued_load         double precision NOT NULL DEFAULT 0,
    avg_queued_provisioning double precision NOT NULL DEFAULT 0,
    avg_blocked             double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (connector_id, warehouse_name, start_time)
);

-- ---------------------------------------------------------------- budgets and the outbox
CREATE TABLE enterprise.snowflake_budgets (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connector_id     uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    scope_type       text NOT NULL DEFAULT 'account' CHECK (scope_type IN ('account', 'warehouses', 'query_tag')),
    scope_warehouses text[] NOT NULL DEFAULT '{}',
    scope_query_tag  text,
    period           text NOT NULL CHECK (period IN ('daily', 'weekly', 'monthly', 'quarterly', 'yearly')),
    amount           numeric(20, 4) NOT NULL CHECK (amount > 0),
    amount_unit      text NOT NULL DEFAULT 'credits' CHECK (amount_unit IN ('credits', 'currency')),
    thresholds       jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(thresholds) = 'array'),
    alert_emails     text[] NOT NULL DEFAULT '{}',
    slack_channel    text,
    slack_secret_ref text,
    active           boolean NOT NULL DEFAULT true,
    created_by       uuid REFERENCES enterprise.users(id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (connector_id, name),
    CHECK (scope_type <> 'warehouses' OR cardinality(scope_warehouses) > 0),
    CHECK (scope_type <> 'query_tag' OR scope_query_tag IS NOT NULL)
);
CREATE INDEX budgets_active_idx ON enterprise.snowflake_budgets (connector_id) WHERE active;

CREATE TABLE enterprise.snowflake_budget_alerts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    budget_id     uuid NOT NULL REFERENCES enterprise.snowflake_budgets(id) ON DELETE CASCADE,
    connector_id  uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    period_start  date NOT NULL,
    period_end    date NOT NULL,
    threshold_key text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('actual', 'forecast')),
    threshold     jsonb NOT NULL,
    spend         numeric(20, 4) NOT NULL,
    forecast      numeric(20, 4),
    amount        numeric(20, 4) NOT NULL,
    percent       numeric(10, 2) NOT NULL,
    fired_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (budget_id, period_start, threshold_key, kind)
);
CREATE INDEX budget_alerts_budget_idx ON enterprise.snowflake_budget_alerts (budget_id, fired_at DESC);

CREATE TABLE enterprise.snowflake_budget_snapshots (
    budget_id     uuid NOT NULL REFERENCES enterprise.snowflake_budgets(id) ON DELETE CASCADE,
    snapshot_date date NOT NULL,
    period_start  date NOT NULL,
    spend         numeric(20, 4) NOT NULL,
    amount        numeric(20, 4) NOT NULL,
    percent       numeric(10, 2) NOT NULL,
    forecast      numeric(20, 4),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (budget_id, snapshot_date)
);

CREATE TABLE enterprise.notifications (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL REFERENCES enterprise.organizations(id) ON DELETE CASCADE,
    connector_id    uuid REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    source_type     text NOT NULL CHECK (source_type IN ('budget_alert', 'security_alert')),
    source_id       uuid NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('email', 'slack')),
    recipients      text[] NOT NULL DEFAULT '{}',
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      text,
    dedupe_key      text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    sent_at         timestamptz
);
CREATE INDEX notifications_pending_idx ON enterprise.notifications (published_at) WHERE status = 'pending';
CREATE INDEX notifications_source_idx ON enterprise.notifications (source_type, source_id);

-- ---------------------------------------------------------------- security
CREATE TABLE enterprise.snowflake_users (
    connector_id           uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    user_id                bigint NOT NULL,
    name                   text NOT NULL,
    login_name             text,
    email                  text,
    type                   text,
    created_on             timestamptz,
    deleted_on             timestamptz,
    disabled               boolean NOT NULL DEFAULT false,
    has_password           boolean NOT NULL DEFAULT false,
    has_mfa                boolean NOT NULL DEFAULT false,
    ext_authn_duo          boolean NOT NULL DEFAULT false,
    has_rsa_public_key     boolean NOT NULL DEFAULT false,
    has_pat                boolean NOT NULL DEFAULT false,
    default_role           text,
    bypass_mfa_until       timestamptz,
    last_success_login     timestamptz,
    expires_at             timestamptz,
    locked_until_time      timestamptz,
    password_last_set_time timestamptz,
    owner                  text,
    synced_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connector_id, user_id)
);
CREATE INDEX snowflake_users_name_idx ON enterprise.snowflake_users (connector_id, name);

CREATE TABLE enterprise.snowflake_login_history (
    connector_id                 uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    event_id                     bigint NOT NULL,
    event_timestamp              timestamptz NOT NULL,
    event_type                   text,
    user_name                    text,
    client_ip                    text,
    reported_client_type         text,
    reported_client_version      text,
    first_authentication_factor  text,
    second_authentication_factor text,
    is_success                   boolean NOT NULL,
    error_code                   integer,
    error_message                text,
    related_event_id             bigint,
    connection                   text,
    login_details                jsonb,
    PRIMARY KEY (connector_id, event_id)
);
CREATE INDEX slh_connector_time_idx ON enterprise.snowflake_login_history (connector_id, event_timestamp DESC);
CREATE INDEX slh_connector_user_idx ON enterprise.snowflake_login_history (connector_id, user_name, event_timestamp);
CREATE INDEX slh_connector_ip_idx ON enterprise.snowflake_login_history (connector_id, client_ip, event_timestamp);

CREATE TABLE enterprise.snowflake_user_role_grants (
    connector_id uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    grantee_name text NOT NULL,
    role         text NOT NULL,
    granted_by   text,
    created_on   timestamptz NOT NULL,
    deleted_on   timestamptz,
    PRIMARY KEY (connector_id, grantee_name, role, created_on)
);

CREATE TABLE enterprise.snowflake_role_privilege_grants (
    id            bigserial PRIMARY KEY,
    connector_id  uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    privilege     text NOT NULL,
    granted_on    text NOT NULL,
    name          text NOT NULL,
    table_catalog text,
    table_schema  text,
    granted_to    text NOT NULL,
    grantee_name  text NOT NULL,
    grant_option  boolean NOT NULL DEFAULT false,
    granted_by    text,
    created_on    timestamptz NOT NULL,
    modified_on   timestamptz,
    deleted_on    timestamptz,
    UNIQUE (connector_id, privilege, granted_on, name, grantee_name, created_on)
);
CREATE INDEX srpg_role_edges_idx ON enterprise.snowflake_role_privilege_grants (connector_id, granted_on, grantee_name);

CREATE TABLE enterprise.snowflake_network_policies (
    connector_id    uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    name            text NOT NULL,
    policy_id       bigint,
    owner           text,
    created         timestamptz,
    last_altered    timestamptz,
    deleted         timestamptz,
    allowed_ip_list text,
    blocked_ip_list text,
    attached_to     jsonb NOT NULL DEFAULT '[]'::jsonb,
    PRIMARY KEY (connector_id, name)
);

CREATE TABLE enterprise.snowflake_access_history (
    connector_id            uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    query_id                text NOT NULL,
    query_start_time        timestamptz NOT NULL,
    user_name               text,
    direct_objects_accessed jsonb,
    base_objects_accessed   jsonb,
    objects_modified        jsonb,
    PRIMARY KEY (connector_id, query_id)
);
CREATE INDEX sah_connector_time_idx ON enterprise.snowflake_access_history (connector_id, query_start_time);

CREATE TABLE enterprise.snowflake_sessions (
    connector_id               uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    session_id                 bigint NOT NULL,
    created_on                 timestamptz NOT NULL,
    user_name                  text,
    authentication_method      text,
    login_event_id             bigint,
    client_application_id      text,
    client_application_version text,
    client_environment         jsonb,
    PRIMARY KEY (connector_id, session_id)
);

CREATE TABLE enterprise.snowflake_security_queries (
    connector_id     uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    query_id         text NOT NULL,
    query_type       text NOT NULL,
    query_text       text,
    user_name        text,
    role_name        text,
    execution_status text,
    start_time       timestamptz NOT NULL,
    PRIMARY KEY (connector_id, query_id)
);
CREATE INDEX ssq_connector_time_idx ON enterprise.snowflake_security_queries (connector_id, start_time);

CREATE TABLE enterprise.snowflake_security_alerts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connector_id    uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    rule_id         text NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
    fingerprint     text NOT NULL,
    subject         text NOT NULL,
    title           text NOT NULL,
    description     text NOT NULL,
    evidence        jsonb NOT NULL DEFAULT '[]'::jsonb,
    remediation_sql text,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    occurrences     integer NOT NULL DEFAULT 1,
    resolved_at     timestamptz,
    resolved_by     uuid REFERENCES enterprise.users(id) ON DELETE SET NULL,
    resolution_note text,
    reopened_count  integer NOT NULL DEFAULT 0,
    UNIQUE (connector_id, fingerprint),
    CHECK (status <> 'resolved' OR (resolved_at IS NOT NULL AND resolution_note IS NOT NULL))
);
CREATE INDEX ssa_connector_status_idx ON enterprise.snowflake_security_alerts (connector_id, status, severity);

CREATE TABLE enterprise.snowflake_stale_users (
    connector_id       uuid NOT NULL REFERENCES enterprise.connectors(id) ON DELETE CASCADE,
    user_name          text NOT NULL,
    created_on         timestamptz,
    last_success_login timestamptz,
    days_inactive      integer NOT NULL,
    has_password       boolean NOT NULL DEFAULT false,
    default_role       text,
    detected_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connector_id, user_name)
);
