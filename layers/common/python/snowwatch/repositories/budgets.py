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

from snowwatch.db import Connection, query, query_one

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
# b      every selected budget with its evaluation instant (eval_at), period bounds in the connector's
#        timezone (start_local/end_local, timestamps without zone) and the start of the trailing
#        7-local-day window that the forecast's run rate is measured over.
# cs_*   per connector and scope kind: the earliest instant any of its budgets needs, and eval_at.
# acct / wh / tg   spend per connector, key (warehouse or tag) and local day: each spend table is read
#        once, by index range, over exactly the rows some budget needs.
# spend  per budget: credits in the period and in the trailing window.
# state  spend, forecast and percents in the budget's unit (credits, or currency = credits x price).
STATE = """
b AS (
    SELECT bu.id AS budget_id, bu.connector_id, c.org_id, bu.name, bu.scope_type, bu.scope_warehouses,
           bu.scope_query_tag, bu.period, bu.amount, bu.amount_unit, bu.thresholds, bu.alert_emails,
           bu.slack_channel, bu.slack_secret_ref, c.name AS connector_name, c.timezone, c.currency,
           c.credit_price, e.eval_at, e.eval_local, p.start_local, p.start_local + u.step AS end_local,
           (p.start_local AT TIME ZONE c.timezone) AS start_at,
           ((p.start_local + u.step) AT TIME ZONE c.timezone) AS end_at,
           date_trunc('day', e.eval_local) - interval '7 days' AS trail_local,
           ((date_trunc('day', e.eval_local) - interval '7 days') AT TIME ZONE c.timezone) AS trail_at
    FROM enterprise.snowflake_budgets bu
    JOIN enterprise.connectors c ON c.id = bu.connector_id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN :close
                    THEN (date_trunc('day', CAST(:now AS timestamptz) AT TIME ZONE c.timezone) AT TIME ZONE c.timezone)
                    ELSE CAST(:now AS timestamptz) END AS eval_at
    ) e0
    CROSS JOIN LATERAL (
        -- a period is [start, end); the instant of a boundary itself closes the period before it
        SELECT e0.eval_at, (e0.eval_at AT TIME ZONE c.timezone) - interval '1 microsecond' AS eval_local
    ) e
    CROSS JOIN LATERAL (
        SELECT CASE bu.period WHEN 'daily' THEN 'day' WHEN 'weekly' THEN 'week' WHEN 'monthly' THEN 'month'
                              WHEN 'quarterly' THEN 'quarter' ELSE 'year' END AS unit,
               CASE bu.period WHEN 'daily' THEN interval '1 day' WHEN 'weekly' THEN interval '7 days'
                              WHEN 'monthly' THEN interval '1 month' WHEN 'quarterly' THEN interval '3 months'
                              ELSE interval '1 year' END AS step
    ) u
    CROSS JOIN LATERAL (SELECT date_trunc(u.unit, e.eval_local) AS start_local) p
    WHERE (NOT :active_only OR (bu.active AND c.status <> 'paused'))
      AND (CAST(:connector_id AS uuid) IS NULL OR bu.connector_id = CAST(:connector_id AS uuid))
      AND (CAST(:org_id AS uuid) IS NULL OR c.org_id = CAST(:org_id AS uuid))
      AND (CAST(:budget_id AS uuid) IS NULL OR bu.id = CAST(:budget_id AS uuid))
),
cs AS (
    SELECT connector_id, scope_type, min(timezone) AS timezone, min(least(start_at, trail_at)) AS since,
           max(eval_at) AS until, array_agg(DISTINCT scope_query_tag) AS tags
    FROM b GROUP BY connector_id, scope_type
),
acct AS (
    SELECT m.connector_id, NULL::text AS k, (m.start_time AT TIME ZONE cs.timezone)::date AS d,
           sum(m.credits_used) AS credits
    FROM cs JOIN enterprise.snowflake_metering_history m
      ON m.connector_id = cs.connector_id AND m.start_time >= cs.since AND m.start_time < cs.until
    WHERE cs.scope_type = 'account'
    GROUP BY 1, 3
),
wh AS (
    SELECT m.connector_id, m.warehouse_name AS k, (m.start_time AT TIME ZONE cs.timezone)::date AS d,
           sum(m.credits_used) AS credits
    FROM cs JOIN enterprise.snowflake_warehouse_metering m
      ON m.connector_id = cs.connector_id AND m.start_time >= cs.since AND m.start_time < cs.until
    WHERE cs.scope_type = 'warehouses'
    GROUP BY 1, 2, 3
),
tg AS (
    SELECT q.connector_id, q.query_tag AS k, (q.start_time AT TIME ZONE cs.timezone)::date AS d,
           sum(COALESCE(q.credits_attributed_compute, 0)) AS credits
    FROM cs JOIN enterprise.snowflake_query_history q
      ON q.connector_id = cs.connector_id AND q.query_tag = ANY(cs.tags)
     AND q.start_time >= cs.since AND q.start_time < cs.until
    WHERE cs.scope_type = 'query_tag'
    GROUP BY 1, 2, 3
),
spend AS (
    SELECT b.budget_id,
           COALESCE(sum(x.credits) FILTER (WHERE x.d >= b.start_local::date), 0) AS credits,
           COALESCE(sum(x.credits) FILTER (WHERE x.d >= b.trail_local::date), 0) AS trail_credits
    FROM b
    JOIN (
        SELECT 'account' AS scope, connector_id, k, d, credits FROM acct
        UNION ALL SELECT 'warehouses', connector_id, k, d, credits FROM wh
        UNION ALL SELECT 'query_tag', connector_id, k, d, credits FROM tg
    ) x ON x.connector_id = b.connector_id AND x.scope = b.scope_type
       AND x.d >= least(b.start_local, b.trail_local)::date
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

CHECK = f"""
WITH {STATE},
crossed AS (
    SELECT st.*, t.value AS threshold,
           (t.value->>'type') || ':' || trim_scale((t.value->>'value')::numeric)::text AS threshold_key,
           COALESCE(t.value->>'basis', 'actual') AS kind
    FROM state st
    CROSS JOIN LATERAL jsonb_array_elements(st.thresholds) t
    WHERE CASE WHEN COALESCE(t.value->>'basis', 'actual') = 'forecast' THEN st.spend + st.rest ELSE st.spend END
       >= CASE WHEN t.value->>'type' = 'percent' THEN st.amount * (t.value->>'value')::numeric / 100
               ELSE (t.value->>'value')::numeric END
),
fired AS (
    INSERT INTO enterprise.snowflake_budget_alerts
        (budget_id, connector_id, period_start, period_end, threshold_key, kind, threshold, spend, forecast,
         amount, percent, fired_at)
    SELECT budget_id, connector_id, period_start, period_end, threshold_key, kind, threshold, spend4, forecast,
           amount, CASE WHEN kind = 'forecast' THEN forecast_percent ELSE percent END, CAST(:now AS timestamptz)
    FROM crossed
    ON CONFLICT (budget_id, period_start, threshold_key, kind) DO NOTHING
    RETURNING id, budget_id, threshold_key, kind, percent
),
admins AS (
    SELECT org_id, array_agg(email ORDER BY email) AS emails
    FROM enterprise.users
    WHERE role = 'admin' AND org_id IN (SELECT DISTINCT org_id FROM b)
    GROUP BY org_id
),
outbox AS (
    INSERT INTO enterprise.notifications
        (org_id, connector_id, source_type, source_id, channel, recipients, payload, dedupe_key)
    SELECT c.org_id, c.connector_id, 'budget_alert', f.id, ch.channel, ch.recipients,
           jsonb_build_object(
               'budget_id', c.budget_id, 'budget_name', c.name, 'connector_id', c.connector_id,
               'connector_name', c.connector_name, 'period', c.period,
               'period_start', c.period_start, 'period_end', c.period_end,
               'threshold', c.threshold, 'kind', c.kind, 'spend', c.spend4, 'forecast', c.forecast,
               'amount', c.amount, 'unit', c.amount_unit, 'currency', c.currency, 'percent', f.percent,
               'fired_at', CAST(:now AS timestamptz),
               'dashboard_path', '/connectors/' || c.connector_id || '/budgets/' || c.budget_id
           ) || CASE WHEN ch.channel = 'slack'
                     THEN jsonb_build_object('slack', jsonb_build_object(
                              'secret_ref', c.slack_secret_ref, 'channel', c.slack_channel))
                     ELSE '{{}}'::jsonb END,
           'budget_alert:' || f.id || ':' || ch.channel
    FROM fired f
    JOIN crossed c ON c.budget_id = f.budget_id AND c.threshold_key = f.threshold_key AND c.kind = f.kind
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

STATUS = f"""
WITH {STATE}
SELECT budget_id, period_start, period_end, spend4 AS spend, forecast, percent, forecast_percent FROM state
"""


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
    row = query_one(conn, SNAPSHOT, **_filters(now, connector_id=connector_id, org_id=org_id, close=close))
    return int(row["n"]) if row else 0


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
