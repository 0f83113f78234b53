"""Cost findings kept between syncs (0450): upsert what a sync sees, resolve what it no longer sees, the admin's
dismiss/snooze, and the credits saved since a finding was resolved."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, query, query_one

COLUMNS = """id, finding_key, kind, subject, claim, first_seen_at, last_seen_at, resolved_at,
    estimated_monthly_savings_credits, state, state_reason, snoozed_until, state_by, state_at,
    queries::text AS queries"""


def by_key(conn: Connection, connector_id: UUID) -> dict[str, dict[str, Any]]:
    rows = query(conn, f"SELECT {COLUMNS} FROM enterprise.cost_findings WHERE connector_id = :c", c=connector_id)
    return {r["finding_key"]: r for r in rows}


def track(conn: Connection, connector_id: UUID, seen: list[dict[str, Any]], now: datetime) -> dict[str, int]:
    """Upsert the findings seen now (reopening a resolved one) and resolve the open ones not seen (two statements)."""
    keys = [f["key"] for f in seen]
    rows = query(
        conn,
        """INSERT INTO enterprise.cost_findings AS f (connector_id, finding_key, kind, subject, claim, first_seen_at,
               last_seen_at, estimated_monthly_savings_credits, queries)
           SELECT :c, k, kd, s, cl, :now, :now, e, q::jsonb
           FROM unnest(CAST(:keys AS text[]), CAST(:kinds AS text[]), CAST(:subjects AS text[]),
                       CAST(:claims AS text[]), CAST(:savings AS numeric[]), CAST(:queries AS text[]))
                AS x(k, kd, s, cl, e, q)
           ON CONFLICT (connector_id, finding_key) DO UPDATE
               SET last_seen_at = EXCLUDED.last_seen_at, resolved_at = NULL, claim = EXCLUDED.claim,
                   estimated_monthly_savings_credits = EXCLUDED.estimated_monthly_savings_credits,
                   queries = EXCLUDED.queries
           RETURNING (xmax = 0) AS inserted""",
        c=connector_id,
        now=now,
        keys=keys,
        kinds=[f["kind"] for f in seen],
        subjects=[f["subject"] for f in seen],
        claims=[f["claim"] for f in seen],
        savings=[f["credits"] for f in seen],
        queries=[f["queries"] for f in seen],
    )
    conn.run(
        """UPDATE enterprise.cost_findings SET resolved_at = :now
           WHERE connector_id = :c AND resolved_at IS NULL AND NOT (finding_key = ANY(CAST(:keys AS text[])))""",
        c=connector_id,
        now=now,
        keys=keys,
    )
    resolved = int(conn.row_count or 0)
    return {"findings_new": sum(1 for r in rows if r["inserted"]), "findings_seen": len(rows), "resolved": resolved}


def set_state(
    conn: Connection,
    connector_id: UUID,
    finding_id: UUID,
    state: str,
    reason: str | None,
    until: date | None,
    by: UUID | None,
) -> dict[str, Any] | None:
    return query_one(
        conn,
        f"""UPDATE enterprise.cost_findings SET state = :s, state_reason = :r, snoozed_until = :u, state_by = :b,
                   state_at = now()
            WHERE connector_id = :c AND id = :id
            RETURNING {COLUMNS}""",
        c=connector_id,
        id=finding_id,
        s=state,
        r=reason,
        u=until,
        b=by,
    )


# Credits saved since resolution, per resolved warehouse finding: the warehouse's credits used per UTC (ISO weekday,
# hour) over the 4 weeks before the resolution hour (/ 4: each slot occurs 4 times) give the expected credits of
# every hour since, up to the last metered hour; saved = expected - actual.
SAVED = """
WITH f AS (
    SELECT id, subject, date_trunc('hour', resolved_at) AS at FROM enterprise.cost_findings
    WHERE connector_id = :c AND resolved_at IS NOT NULL AND kind = ANY(CAST(:kinds AS text[]))
),
until AS (
    SELECT max(start_time) + interval '1 hour' AS t FROM enterprise.snowflake_warehouse_metering WHERE connector_id = :c
),
base AS (
    SELECT f.id, extract(isodow FROM m.start_time AT TIME ZONE 'UTC') AS dow,
           extract(hour FROM m.start_time AT TIME ZONE 'UTC') AS hr, sum(m.credits_used) / 4 AS per_slot,
           min(m.start_time) AS first
    FROM f JOIN enterprise.snowflake_warehouse_metering m
      ON m.connector_id = :c AND m.warehouse_name = f.subject
     AND m.start_time >= f.at - interval '28 days' AND m.start_time < f.at
    GROUP BY 1, 2, 3
),
hours AS (
    SELECT f.id, h FROM f CROSS JOIN until
    CROSS JOIN LATERAL generate_series(f.at, until.t - interval '1 hour', interval '1 hour') h
),
expected AS (
    SELECT hours.id, COALESCE(sum(base.per_slot), 0) AS expected, count(*) AS hours
    FROM hours LEFT JOIN base ON base.id = hours.id AND base.dow = extract(isodow FROM h AT TIME ZONE 'UTC')
                             AND base.hr = extract(hour FROM h AT TIME ZONE 'UTC')
    GROUP BY 1
),
actual AS (
    SELECT f.id, sum(m.credits_used) AS actual
    FROM f CROSS JOIN until JOIN enterprise.snowflake_warehouse_metering m
      ON m.connector_id = :c AND m.warehouse_name = f.subject AND m.start_time >= f.at AND m.start_time < until.t
    GROUP BY 1
)
SELECT c.id, c.kind, c.subject, c.resolved_at, COALESCE(e.hours, 0) AS hours, COALESCE(e.expected, 0) AS expected,
       COALESCE(a.actual, 0) AS actual,
       (SELECT min(first) FROM base WHERE base.id = c.id) <= c.resolved_at - interval '27 days' AS baseline_complete
FROM enterprise.cost_findings c
JOIN f ON f.id = c.id
LEFT JOIN expected e ON e.id = c.id
LEFT JOIN actual a ON a.id = c.id
ORDER BY c.resolved_at, c.finding_key
"""


def measure(conn: Connection, connector_id: UUID, kinds: list[str], now: datetime) -> int:
    """Store, on every resolved warehouse finding, the credits measured since its resolution (SAVED)."""
    conn.run(
        f"""UPDATE enterprise.cost_findings f SET measured_at = :now, hours_measured = s.hours,
                   baseline_credits = s.expected, actual_credits = s.actual,
                   baseline_complete = COALESCE(s.baseline_complete, false)
            FROM ({SAVED}) s
            WHERE f.id = s.id""",
        c=connector_id,
        kinds=kinds,
        now=now,
    )
    return int(conn.row_count or 0)


def saved(conn: Connection, connector_id: UUID, kinds: list[str]) -> list[dict[str, Any]]:
    """The measured resolved findings, as the last full sync stored them."""
    return query(
        conn,
        """SELECT id, kind, subject, resolved_at, hours_measured AS hours, baseline_credits AS expected,
                  actual_credits AS actual, baseline_complete, measured_at
           FROM enterprise.cost_findings
           WHERE connector_id = :c AND resolved_at IS NOT NULL AND measured_at IS NOT NULL
             AND kind = ANY(CAST(:kinds AS text[]))
           ORDER BY resolved_at, finding_key""",
        c=connector_id,
        kinds=kinds,
    )
