"""Budgets, their alerts and snapshots: all SQL of the budgets aggregate.

The heart is ``STATE``: one set-based pass that computes, for every selected budget, the current
period (in the connector's timezone), the spend to date and a forecast to period end. The check,
the snapshot and the API's live status all run it; none of them loops over budgets.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pg8000.native import identifier

from snowwatch.db import Connection, query, query_one, transaction

COLUMNS = """b.id, b.connector_id, b.name, b.scope_type, b.scope_warehouses AS warehouses,
    b.scope_query_tag AS query_tag, b.period, b.amount, b.amount_unit, b.thresholds, b.alert_emails,
    b.slack_channel, b.slack_secret_ref, b.active, b.created_at, b.updated_at, c.currency"""

WRITABLE = frozenset(
    {
        "name",
        "scope_type",
        "scope_warehouses",
        "scope_query_tag",
        "period",
        "amount",
        "amount_unit",
        "thresholds",
        "alert_emails",
        "slack_channel",
        "slack_secret_ref",
        "active",
    }
)

# ---------------------------------------------------------------------------------------------- the pass
#
# Parameters: :now (timestamptz), :close (bool: evaluate at the end of the previous local day instead of
# :now), :connector_id / :org_id / :budget_id (optional filters), :active_only (bool).
#
# cb     per connector: the evaluation instant and, in UTC, where the current day, week, month, quarter
#        and year start in the connector's timezone, and the start of the trailing 7 local days; the same
#        starts as local dates; and whether its spend rollup holds its local days (``ROLLED``).
# b      every selected budget with its period bounds (from cb).
# cs     per connector and scope kind: the window some budget needs (earliest start .. eval_at), split into
#        whole local days read from the daily rollup (rolled connectors, account and warehouse scopes) and
#        the rest read from the raw rows (today so far; everything for a connector that is not rolled, and
#        for query tags).
# spent  every spend row budget_check reads, bucketed: each row is compared with its connector's period
#        starts (dates for rollup days, UTC instants for raw rows: no per-row timezone arithmetic) into a
#        bitmask and summed once per (connector, scope, key, bucket).
# sums   per connector, scope and key (warehouse or tag): one column per period kind plus the trailing week.
# spend  per budget: credits in its period and in the trailing week.
# state  spend, forecast and percents in the budget's unit (credits, or currency = credits x price).

# The rule of services/cost.py ``rolled()`` (repositories/cost.py ``rollup_timezone``), set-based: the spend
# rollups hold a connector's local days when they were built in its current timezone; until the next sync
# after a timezone change (or before the first), spend comes from the raw tables.
ROLLED = """EXISTS (SELECT 1 FROM enterprise.snowflake_rollup_state rs
                    WHERE rs.connector_id = c.id AND rs.rollup = 'spend' AND rs.timezone = c.timezone)"""

_BUCKET = """(({t} >= cs.day_{s})::int + ({t} >= cs.week_{s})::int * 2 + ({t} >= cs.month_{s})::int * 4
                + ({t} >= cs.quarter_{s})::int * 8 + ({t} >= cs.year_{s})::int * 16
                + ({t} >= cs.trail_{s})::int * 32)"""
_DAYS = _BUCKET.format(t="d.usage_date", s="d")  # rollup rows: local dates against local dates
# raw rows: instants against instants; after the rollup days (today so far) a row lies in every period
_HOURS = f"CASE WHEN cs.rolled THEN 63 ELSE {_BUCKET.format(t='m.start_time', s='at')} END"


def _state(budgets: str) -> str:
    """The pass over the budgets in ``budgets`` (a table or a subquery with the snowflake_budgets columns)."""
    return f"""
cb AS (
    SELECT c.id AS connector_id, c.org_id, c.name AS connector_name, c.timezone, c.currency, c.credit_price,
           e.eval_at, e.eval_local, {ROLLED} AS rolled,
           l.day_l, l.week_l, l.month_l, l.quarter_l, l.year_l, l.trail_l,
           l.day_l AT TIME ZONE c.timezone AS day_at, l.week_l AT TIME ZONE c.timezone AS week_at,
           l.month_l AT TIME ZONE c.timezone AS month_at, l.quarter_l AT TIME ZONE c.timezone AS quarter_at,
           l.year_l AT TIME ZONE c.timezone AS year_at, l.trail_l AT TIME ZONE c.timezone AS trail_at,
           (l.day_l + interval '1 day') AT TIME ZONE c.timezone AS day_end_at,
           (l.week_l + interval '7 days') AT TIME ZONE c.timezone AS week_end_at,
           (l.month_l + interval '1 month') AT TIME ZONE c.timezone AS month_end_at,
           (l.quarter_l + interval '3 months') AT TIME ZONE c.timezone AS quarter_end_at,
           (l.year_l + interval '1 year') AT TIME ZONE c.timezone AS year_end_at,
           l.day_l::date AS day_d, l.week_l::date AS week_d, l.month_l::date AS month_d,
           l.quarter_l::date AS quarter_d, l.year_l::date AS year_d, l.trail_l::date AS trail_d
    FROM enterprise.connectors c
    CROSS JOIN LATERAL (
        SELECT CASE WHEN :close
                    THEN (date_trunc('day', CAST(:now AS timestamptz) AT TIME ZONE c.timezone) AT TIME ZONE c.timezone)
                    ELSE CAST(:now AS timestamptz) END AS eval_at
    ) e0
    CROSS JOIN LATERAL (
        -- a period is [start, end); the instant of a boundary itself closes the period before it
        SELECT e0.eval_at, (e0.eval_at AT TIME ZONE c.timezone) - interval '1 microsecond' AS eval_local
    ) e
    CROSS JOIN LATERAL (  -- where each period kind starts, in local time
        SELECT date_trunc('day', e.eval_local) AS day_l, date_trunc('week', e.eval_local) AS week_l,
               date_trunc('month', e.eval_local) AS month_l, date_trunc('quarter', e.eval_local) AS quarter_l,
               date_trunc('year', e.eval_local) AS year_l,
               date_trunc('day', e.eval_local) - interval '7 days' AS trail_l
    ) l
    WHERE (NOT :active_only OR c.status <> 'paused')
      AND (CAST(:connector_id AS uuid) IS NULL OR c.id = CAST(:connector_id AS uuid))
      AND (CAST(:org_id AS uuid) IS NULL OR c.org_id = CAST(:org_id AS uuid))
),
b AS (
    -- per budget only picks from cb: no timezone arithmetic per budget
    SELECT bu.id AS budget_id, bu.connector_id, cb.org_id, bu.name, bu.scope_type, bu.scope_warehouses,
           bu.scope_query_tag, bu.period, bu.amount, bu.amount_unit, bu.thresholds, bu.alert_emails,
           bu.slack_channel, bu.slack_secret_ref, cb.connector_name, cb.timezone, cb.currency, cb.credit_price,
           cb.eval_at, cb.eval_local, cb.trail_at, cb.trail_l AS trail_local,
           CASE bu.period WHEN 'daily' THEN cb.day_at WHEN 'weekly' THEN cb.week_at WHEN 'monthly' THEN cb.month_at
                          WHEN 'quarterly' THEN cb.quarter_at ELSE cb.year_at END AS start_at,
           CASE bu.period WHEN 'daily' THEN cb.day_l WHEN 'weekly' THEN cb.week_l WHEN 'monthly' THEN cb.month_l
                          WHEN 'quarterly' THEN cb.quarter_l ELSE cb.year_l END AS start_local,
           CASE bu.period WHEN 'daily' THEN cb.day_end_at WHEN 'weekly' THEN cb.week_end_at
                          WHEN 'monthly' THEN cb.month_end_at WHEN 'quarterly' THEN cb.quarter_end_at
                          ELSE cb.year_end_at END AS end_at,
           CASE bu.period WHEN 'daily' THEN cb.day_l + interval '1 day' WHEN 'weekly' THEN cb.week_l + interval '7 days'
                          WHEN 'monthly' THEN cb.month_l + interval '1 month'
                          WHEN 'quarterly' THEN cb.quarter_l + interval '3 months'
                          ELSE cb.year_l + interval '1 year' END AS end_local
    FROM {budgets} bu
    JOIN cb ON cb.connector_id = bu.connector_id
    WHERE (NOT :active_only OR bu.active)
      AND (CAST(:budget_id AS uuid) IS NULL OR bu.id = CAST(:budget_id AS uuid))
),
cs AS (
    -- [days_from, days_to): whole local days from the rollup; [raw_from, until): raw rows. Every period and the
    -- trailing week start at a local midnight, so the split is exact. ``rolled``: the raw rows are today's only.
    SELECT w.connector_id, w.scope_type, w.tags, w.since, cb.eval_at AS until, w.days_from, r.rolled,
           CASE WHEN r.rolled THEN cb.day_d ELSE w.days_from END AS days_to,
           CASE WHEN r.rolled THEN cb.day_at ELSE w.since END AS raw_from,
           cb.day_at, cb.week_at, cb.month_at, cb.quarter_at, cb.year_at, cb.trail_at,
           cb.day_d, cb.week_d, cb.month_d, cb.quarter_d, cb.year_d, cb.trail_d
    FROM (
        SELECT b.connector_id, b.scope_type, least(min(b.start_at), min(b.trail_at)) AS since,
               least(min(b.start_local), min(b.trail_local))::date AS days_from,
               array_agg(b.scope_query_tag) AS tags
        FROM b
        GROUP BY b.connector_id, b.scope_type
    ) w
    JOIN cb ON cb.connector_id = w.connector_id
    CROSS JOIN LATERAL (SELECT cb.rolled AND w.scope_type <> 'query_tag' AS rolled) r  -- tags: query history
),
spent AS (
    -- float8 while summing (exact to ~1e-9 credits at these magnitudes, and cheaper than numeric)
    SELECT cs.connector_id, 'account' AS scope, NULL::text AS k, sum(d.credits::float8) AS credits,
           {_DAYS} AS bucket
    FROM cs
    JOIN enterprise.snowflake_spend_daily d
      ON d.connector_id = cs.connector_id AND d.dim = 'service_type'
     AND d.usage_date >= cs.days_from AND d.usage_date < cs.days_to
    WHERE cs.scope_type = 'account'
    GROUP BY 1, 3, 5
    UNION ALL
    SELECT cs.connector_id, 'account', NULL::text, sum(m.credits_used::float8), {_HOURS}
    FROM cs
    JOIN enterprise.snowflake_metering_history m
      ON m.connector_id = cs.connector_id AND m.start_time >= cs.raw_from AND m.start_time < cs.until
    WHERE cs.scope_type = 'account'
    GROUP BY 1, 3, 5
    UNION ALL
    SELECT cs.connector_id, 'warehouses', d.key, sum(d.credits::float8), {_DAYS}
    FROM cs
    JOIN enterprise.snowflake_spend_daily d
      ON d.connector_id = cs.connector_id AND d.dim = 'warehouse'
     AND d.usage_date >= cs.days_from AND d.usage_date < cs.days_to
    WHERE cs.scope_type = 'warehouses'
    GROUP BY 1, 3, 5
    UNION ALL
    SELECT cs.connector_id, 'warehouses', m.warehouse_name, sum(m.credits_used::float8), {_HOURS}
    FROM cs
    JOIN enterprise.snowflake_warehouse_metering m
      ON m.connector_id = cs.connector_id AND m.start_time >= cs.raw_from AND m.start_time < cs.until
    WHERE cs.scope_type = 'warehouses'
    GROUP BY 1, 3, 5
    UNION ALL
    SELECT cs.connector_id, 'query_tag', m.tag_key, sum(m.credits_attributed_compute::float8), {_HOURS}
    FROM cs
    JOIN enterprise.snowflake_query_history m
      ON m.connector_id = cs.connector_id AND m.tag_key = ANY(cs.tags)
     AND m.start_time >= cs.raw_from AND m.start_time < cs.until
    WHERE cs.scope_type = 'query_tag'
    GROUP BY 1, 3, 5
),
sums AS (
    SELECT connector_id, scope, k,
           sum(credits) FILTER (WHERE bucket & 1 > 0) AS s_day,
           sum(credits) FILTER (WHERE bucket & 2 > 0) AS s_week,
           sum(credits) FILTER (WHERE bucket & 4 > 0) AS s_month,
           sum(credits) FILTER (WHERE bucket & 8 > 0) AS s_quarter,
           sum(credits) FILTER (WHERE bucket & 16 > 0) AS s_year,
           sum(credits) FILTER (WHERE bucket & 32 > 0) AS s_trail
    FROM spent
    GROUP BY connector_id, scope, k
),
spend AS (
    SELECT b.budget_id,
           COALESCE(sum(CASE b.period WHEN 'daily' THEN x.s_day WHEN 'weekly' THEN x.s_week
                                      WHEN 'monthly' THEN x.s_month WHEN 'quarterly' THEN x.s_quarter
                                      ELSE x.s_year END), 0)::numeric AS credits,
           COALESCE(sum(x.s_trail), 0)::numeric AS trail_credits
    FROM b
    JOIN sums x ON x.connector_id = b.connector_id AND x.scope = b.scope_type
       AND (b.scope_type = 'account'
            OR (b.scope_type = 'warehouses' AND x.k = ANY(b.scope_warehouses))
            OR (b.scope_type = 'query_tag' AND x.k = b.scope_query_tag))
    GROUP BY b.budget_id
),
priced AS (
    SELECT b.*,
           COALESCE(s.credits, 0) * m.mult AS spend,
           -- run rate over the trailing 7 local days up to eval_at, times the hours left in the period
           COALESCE(s.trail_credits, 0) * m.mult
             / greatest(extract(epoch FROM b.eval_at - b.trail_at) / 3600.0, 1)
             * greatest(extract(epoch FROM b.end_at - b.eval_at) / 3600.0, 0) AS rest
    FROM b
    LEFT JOIN spend s ON s.budget_id = b.budget_id
    CROSS JOIN LATERAL (SELECT CASE WHEN b.amount_unit = 'currency' THEN b.credit_price ELSE 1 END AS mult) m
),
state AS (
    SELECT p.*, round(p.spend, 4) AS spend4, round(p.spend + p.rest, 4) AS forecast,
           least(round(p.spend * 100 / p.amount, 2), 99999999) AS percent,
           least(round((p.spend + p.rest) * 100 / p.amount, 2), 99999999) AS forecast_percent,
           p.start_local::date AS period_start, (p.end_local::date - 1) AS period_end
    FROM priced p
)
"""


STATE = _state("enterprise.snowflake_budgets")

# The month-end forecast of the cost endpoints (overview, forecast, org overview): the pass above over one virtual
# budget per connector -- account scope, monthly, in credits -- so a monthly account budget and the cost pages agree
# by construction (one forecast; method in services/forecast.py).
_VIRTUAL_MONTHLY = (
    "(SELECT c.id, c.id AS connector_id, 'month-end forecast'::text AS name, 'account'::text AS scope_type,"
    " '{}'::text[] AS scope_warehouses, NULL::text AS scope_query_tag, 'monthly'::text AS period,"
    " 1::numeric AS amount, 'credits'::text AS amount_unit, '[]'::jsonb AS thresholds, '{}'::text[] AS alert_emails,"
    " NULL::text AS slack_channel, NULL::text AS slack_secret_ref, true AS active FROM enterprise.connectors c)"
)
MONTH_FORECAST = f"""
WITH {_state(_VIRTUAL_MONTHLY)}
SELECT connector_id, period_start, period_end, spend4 AS spend, forecast, eval_at, trail_at, end_at FROM state
"""

CHECK = f"""
WITH {STATE},
crossed AS (
    -- narrow on purpose: the steady state (nothing new) only needs the unique key and the numbers
    SELECT st.budget_id, st.connector_id, st.period_start, st.period_end, st.spend4, st.forecast, st.amount,
           t.value AS threshold, t.threshold_key, t.kind,
           CASE WHEN t.kind = 'forecast' THEN st.forecast_percent ELSE st.percent END AS percent
    FROM state st
    CROSS JOIN LATERAL (
        SELECT j.value, (j.value->>'type') || ':' || trim_scale((j.value->>'value')::numeric)::text AS threshold_key,
               COALESCE(j.value->>'basis', 'actual') AS kind,
               CASE WHEN j.value->>'type' = 'percent' THEN st.amount * (j.value->>'value')::numeric / 100
                    ELSE (j.value->>'value')::numeric END AS level
        FROM jsonb_array_elements(st.thresholds) j
    ) t
    WHERE CASE WHEN t.kind = 'forecast' THEN st.spend + st.rest ELSE st.spend END >= t.level
),
fired AS (
    INSERT INTO enterprise.snowflake_budget_alerts
        (budget_id, connector_id, period_start, period_end, threshold_key, kind, threshold, spend, forecast,
         amount, percent, fired_at)
    SELECT budget_id, connector_id, period_start, period_end, threshold_key, kind, threshold, spend4, forecast,
           amount, percent, CAST(:now AS timestamptz)
    FROM crossed c
    WHERE NOT EXISTS (  -- cheap pre-filter for the steady state; the unique key below is the guarantee
        SELECT 1 FROM enterprise.snowflake_budget_alerts a
        WHERE a.budget_id = c.budget_id AND a.period_start = c.period_start
          AND a.threshold_key = c.threshold_key AND a.kind = c.kind)
    ON CONFLICT (budget_id, period_start, threshold_key, kind) DO NOTHING
    RETURNING id, budget_id, period_start, period_end, threshold, kind, spend, forecast, percent
),
admins AS (
    SELECT org_id, array_agg(email ORDER BY email) AS emails
    FROM enterprise.users
    WHERE role = 'admin' AND org_id IN (SELECT DISTINCT org_id FROM b)
    GROUP BY org_id
),
outbox AS (
    -- the budget's fields come from b, joined to the alerts just inserted only
    INSERT INTO enterprise.notifications
        (org_id, connector_id, source_type, source_id, channel, recipients, payload, dedupe_key)
    SELECT c.org_id, c.connector_id, 'budget_alert', f.id, ch.channel, ch.recipients,
           jsonb_build_object(
               'budget_id', c.budget_id, 'budget_name', c.name, 'connector_id', c.connector_id,
               'connector_name', c.connector_name, 'period', c.period,
               'period_start', f.period_start, 'period_end', f.period_end,
               'threshold', f.threshold, 'kind', f.kind, 'spend', f.spend, 'forecast', f.forecast,
               'amount', c.amount, 'unit', c.amount_unit, 'currency', c.currency, 'percent', f.percent,
               'fired_at', CAST(:now AS timestamptz),
               'dashboard_path', '/connectors/' || c.connector_id || '/budgets/' || c.budget_id
           ) || CASE WHEN ch.channel = 'slack'
                     THEN jsonb_build_object('slack', jsonb_build_object(
                              'secret_ref', c.slack_secret_ref, 'channel', c.slack_channel))
                     ELSE '{{}}'::jsonb END,
           'budget_alert:' || f.id || ':' || ch.channel
    FROM fired f
    JOIN b c ON c.budget_id = f.budget_id
    LEFT JOIN admins a ON a.org_id = c.org_id
    CROSS JOIN LATERAL (VALUES
        ('email', CASE WHEN cardinality(c.alert_emails) > 0 THEN c.alert_emails ELSE a.emails END),
        ('slack', CASE WHEN c.slack_secret_ref IS NOT NULL
                       THEN ARRAY[COALESCE(c.slack_channel, 'webhook')] END)
    ) ch(channel, recipients)
    WHERE cardinality(ch.recipients) > 0
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id
)
SELECT 'alert' AS kind, id FROM fired
UNION ALL SELECT 'notification', id FROM outbox
"""

SNAPSHOT = f"""
WITH {STATE},
written AS (
    INSERT INTO enterprise.snowflake_budget_snapshots
        (budget_id, snapshot_date, period_start, spend, amount, percent, forecast)
    SELECT budget_id, eval_local::date, period_start, spend4, amount, percent, forecast FROM state
    ON CONFLICT (budget_id, snapshot_date) DO UPDATE
        SET period_start = EXCLUDED.period_start, spend = EXCLUDED.spend, amount = EXCLUDED.amount,
            percent = EXCLUDED.percent, forecast = EXCLUDED.forecast, created_at = now()
    RETURNING 1
)
SELECT count(*) AS n FROM written
"""

# Each connector's month in one pass: every active budget and, beside them, each connector's virtual monthly account
# budget (id = the connector's id: its month-end forecast); stored for the org overview (0453).
MONTH_STATE = f"""
WITH {
    _state(
        "(SELECT id, connector_id, name, scope_type, scope_warehouses, scope_query_tag, period, amount, amount_unit,"
        " thresholds, alert_emails, slack_channel, slack_secret_ref, active"
        " FROM enterprise.snowflake_budgets WHERE active"
        " UNION ALL " + _VIRTUAL_MONTHLY[1:-1] + ")"
    )
}
INSERT INTO enterprise.cost_month_state AS m (connector_id, evaluated_at, period_start, spend, forecast, budgets, over,
    forecast_over)
SELECT connector_id, min(eval_at), min(period_start) FILTER (WHERE budget_id = connector_id),
       COALESCE(max(spend4) FILTER (WHERE budget_id = connector_id), 0),
       COALESCE(max(forecast) FILTER (WHERE budget_id = connector_id), 0),
       count(*) FILTER (WHERE budget_id <> connector_id),
       count(*) FILTER (WHERE budget_id <> connector_id AND percent >= 100),
       count(*) FILTER (WHERE budget_id <> connector_id AND forecast_percent >= 100)
FROM state GROUP BY connector_id
ON CONFLICT (connector_id) DO UPDATE SET evaluated_at = EXCLUDED.evaluated_at, period_start = EXCLUDED.period_start,
    spend = EXCLUDED.spend, forecast = EXCLUDED.forecast, budgets = EXCLUDED.budgets, over = EXCLUDED.over,
    forecast_over = EXCLUDED.forecast_over
"""

STATUS = f"""
WITH {STATE}
SELECT budget_id, period_start, period_end, spend4 AS spend, forecast, percent, forecast_percent FROM state
"""


# Planner settings for the pass, in its own transaction. JIT compilation costs more than it saves here. CTEs
# have no statistics, so the planner thinks each spend branch returns a few dozen rows and sorts 100k+ rows to
# group them; hashing is what a set-based pass wants (~25 ms of ~350 ms at 10k budgets), with memory for it.
PASS_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL enable_sort = off", "SET LOCAL work_mem = '64MB'")


def _filters(
    now: datetime,
    *,
    connector_id: UUID | None = None,
    org_id: UUID | None = None,
    budget_id: UUID | None = None,
    active_only: bool = True,
    close: bool = False,
) -> dict[str, Any]:
    return {
        "now": now,
        "close": close,
        "connector_id": connector_id,
        "org_id": org_id,
        "budget_id": budget_id,
        "active_only": active_only,
    }


def check(
    conn: Connection, now: datetime, *, connector_id: UUID | None = None, org_id: UUID | None = None
) -> tuple[list[UUID], list[UUID]]:
    """Record every newly crossed threshold and its outbox rows, atomically (one statement).

    Returns (alert ids, notification ids) written now; thresholds that fired earlier in the same
    period hit the unique key and write nothing.
    """
    with transaction(conn):
        for setting in PASS_SETTINGS:
            conn.run(setting)
        rows = query(conn, CHECK, **_filters(now, connector_id=connector_id, org_id=org_id))
    alerts = [r["id"] for r in rows if r["kind"] == "alert"]
    notes = [r["id"] for r in rows if r["kind"] == "notification"]
    return alerts, notes


def snapshot(
    conn: Connection,
    now: datetime,
    *,
    close: bool,
    connector_id: UUID | None = None,
    org_id: UUID | None = None,
) -> int:
    """Upsert one snapshot per active budget for the local day of the evaluation instant."""
    with transaction(conn):
        for setting in PASS_SETTINGS:
            conn.run(setting)
        row = query_one(conn, SNAPSHOT, **_filters(now, connector_id=connector_id, org_id=org_id, close=close))
    return int(row["n"]) if row else 0


def month_forecast(
    conn: Connection, now: datetime, *, connector_id: UUID | None = None, org_id: UUID | None = None
) -> dict[UUID, dict[str, Any]]:
    """Per connector (one, or every connector of an org, in one statement): month spend to ``now`` and the
    month-end forecast, in credits used, by the budgets' pass."""
    with transaction(conn):
        for setting in PASS_SETTINGS:
            conn.run(setting)
        rows = query(conn, MONTH_FORECAST, **_filters(now, connector_id=connector_id, org_id=org_id, active_only=False))
    return {r.pop("connector_id"): r for r in rows}


def refresh_month_state(
    conn: Connection, now: datetime, *, connector_id: UUID | None = None, org_id: UUID | None = None
) -> int:
    """Store each selected connector's month (spend, forecast, budget counts) as of ``now`` (one pass)."""
    with transaction(conn):
        for setting in PASS_SETTINGS:
            conn.run(setting)
        conn.run(MONTH_STATE, **_filters(now, connector_id=connector_id, org_id=org_id, active_only=False))
        return int(conn.row_count or 0)


def status(
    conn: Connection, now: datetime, connector_id: UUID, budget_id: UUID | None = None
) -> dict[UUID, dict[str, Any]]:
    rows = query(conn, STATUS, **_filters(now, connector_id=connector_id, budget_id=budget_id, active_only=False))
    return {r.pop("budget_id"): r for r in rows}


# ---------------------------------------------------------------------------------------------- CRUD


def _decode(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is not None and isinstance(row.get("thresholds"), str):
        row["thresholds"] = json.loads(row["thresholds"])
    return row


def get(conn: Connection, connector_id: UUID, budget_id: UUID) -> dict[str, Any] | None:
    return _decode(
        query_one(
            conn,
            f"""SELECT {COLUMNS} FROM enterprise.snowflake_budgets b
                JOIN enterprise.connectors c ON c.id = b.connector_id
                WHERE b.id = :id AND b.connector_id = :cid""",
            id=budget_id,
            cid=connector_id,
        )
    )


def list_for_connector(
    conn: Connection, connector_id: UUID, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    rows = query(
        conn,
        f"""SELECT {COLUMNS}, count(*) OVER () AS _total FROM enterprise.snowflake_budgets b
            JOIN enterprise.connectors c ON c.id = b.connector_id
            WHERE b.connector_id = :cid ORDER BY b.name LIMIT :limit OFFSET :offset""",
        cid=connector_id,
        limit=limit,
        offset=offset,
    )
    if rows:
        total = int(rows[0]["_total"])
    else:
        n = query_one(
            conn, "SELECT count(*) AS n FROM enterprise.snowflake_budgets WHERE connector_id = :cid", cid=connector_id
        )
        total = int(n["n"]) if n else 0
    for r in rows:
        r.pop("_total")
        _decode(r)
    return rows, total


def insert(conn: Connection, values: dict[str, Any]) -> UUID:
    cols = list(values)
    row = query_one(
        conn,
        f"INSERT INTO enterprise.snowflake_budgets ({', '.join(identifier(c) for c in cols)}) "
        f"VALUES ({', '.join(('CAST(:' + c + ' AS jsonb)') if c == 'thresholds' else ':' + c for c in cols)}) "
        "RETURNING id",
        **{k: (json.dumps(v) if k == "thresholds" else v) for k, v in values.items()},
    )
    assert row is not None
    return UUID(str(row["id"]))


def update(conn: Connection, connector_id: UUID, budget_id: UUID, values: dict[str, Any]) -> bool:
    unknown = set(values) - WRITABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    sets = ", ".join(
        f"{identifier(c)} = CAST(:{c} AS jsonb)" if c == "thresholds" else f"{identifier(c)} = :{c}" for c in values
    )
    row = query_one(
        conn,
        f"UPDATE enterprise.snowflake_budgets SET {sets}, updated_at = now() "
        "WHERE id = :_id AND connector_id = :_cid RETURNING id",
        _id=budget_id,
        _cid=connector_id,
        **{k: (json.dumps(v) if k == "thresholds" else v) for k, v in values.items()},
    )
    return row is not None


def delete(conn: Connection, connector_id: UUID, budget_id: UUID) -> dict[str, Any] | None:
    return query_one(
        conn,
        "DELETE FROM enterprise.snowflake_budgets WHERE id = :id AND connector_id = :cid "
        "RETURNING id, slack_secret_ref",
        id=budget_id,
        cid=connector_id,
    )


def unknown_warehouses(conn: Connection, connector_id: UUID, names: list[str]) -> list[str]:
    """Names that are neither in the connector's warehouse list nor in its metering history."""
    rows = query(
        conn,
        """SELECT n.name FROM unnest(CAST(:names AS text[])) AS n(name)
           WHERE NOT EXISTS (SELECT 1 FROM enterprise.snowflake_warehouses w
                             WHERE w.connector_id = :cid AND upper(w.warehouse_name) = upper(n.name))
             AND NOT EXISTS (SELECT 1 FROM enterprise.snowflake_warehouse_metering m
                             WHERE m.connector_id = :cid AND upper(m.warehouse_name) = upper(n.name))
           ORDER BY n.name""",
        names=names,
        cid=connector_id,
    )
    return [r["name"] for r in rows]


def history(conn: Connection, budget_id: UUID, start: date, end: date) -> list[dict[str, Any]]:
    return query(
        conn,
        """SELECT snapshot_date, period_start, spend, amount, percent, forecast
           FROM enterprise.snowflake_budget_snapshots
           WHERE budget_id = :id AND snapshot_date BETWEEN :start AND :end ORDER BY snapshot_date""",
        id=budget_id,
        start=start,
        end=end,
    )


def alerts(conn: Connection, budget_id: UUID, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Alerts newest first, each with its outbox rows (one per channel) as `deliveries`."""
    rows = query(
        conn,
        """SELECT a.id, a.period_start, a.period_end, a.threshold_key, a.kind, a.threshold, a.spend, a.forecast,
                  a.amount, a.percent, a.fired_at, count(*) OVER () AS _total,
                  COALESCE((SELECT jsonb_agg(jsonb_build_object(
                                'id', n.id, 'channel', n.channel, 'recipients', n.recipients, 'status', n.status,
                                'attempts', n.attempts, 'last_error', n.last_error, 'created_at', n.created_at,
                                'sent_at', n.sent_at) ORDER BY n.channel)
                            FROM enterprise.notifications n
                            WHERE n.source_type = 'budget_alert' AND n.source_id = a.id), '[]'::jsonb) AS deliveries
           FROM enterprise.snowflake_budget_alerts a
           WHERE a.budget_id = :id
           ORDER BY a.fired_at DESC, a.threshold_key, a.kind
           LIMIT :limit OFFSET :offset""",
        id=budget_id,
        limit=limit,
        offset=offset,
    )
    total = int(rows[0]["_total"]) if rows else 0
    if not rows and offset:
        n = query_one(
            conn, "SELECT count(*) AS n FROM enterprise.snowflake_budget_alerts WHERE budget_id = :id", id=budget_id
        )
        total = int(n["n"]) if n else 0
    for r in rows:
        r.pop("_total")
        for key in ("threshold", "deliveries"):
            if isinstance(r[key], str):
                r[key] = json.loads(r[key])
    return rows, total
