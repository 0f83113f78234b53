"""Budgets benchmark: budget_check over 10,000 budgets on 1,000 connectors, beside one bare aggregate
query over the same spend rows. Headline: ``budget_check_vs_aggregate_ratio`` (target <= 3).

Data (generated set-based in Postgres, deterministic): per connector 4 warehouses x 24 h x 30 days of
warehouse metering, 24 h x 30 days of metering history (two service types) and 300 tagged queries; per
connector 10 budgets (4 account: daily/weekly/monthly/quarterly; 4 warehouses; 2 query tag), 3 thresholds
each (50 % and 80 % actual, 100 % forecast). Then, per connector and as the sync does it, the daily spend
rollups (``repositories/rollups.rebuild_spend_rollups`` in a transaction), then VACUUM ANALYZE.

Timed (median of 3, after a warm-up; the pass's planner settings apply to every timed statement):
* ``aggregate``: one SELECT summing credits per connector over exactly the rows budget_check reads - the
  rollup days, today's raw metering hours and the tagged queries, each over the same per-connector window
  (the windows come from the pass's own ``cs`` CTE, stored in a temp table first): the floor for any
  set-based pass over those rows.
* ``aggregate_raw`` (detail): the previous floor - the raw hourly rows (and tagged queries) from the earliest
  instant any budget reads to now, what the pass read before the rollups (and still reads for a connector whose
  rollup is missing or in another timezone).
* ``check_steady``: the hourly case - every threshold already fired this period; the pass writes nothing.
* ``check_first``: the first pass of a period - every crossed threshold inserts its alert and outbox rows
  (publishing to SQS is left out: it is per message, not part of the set-based pass).

Standalone: ``python -m bench.budgets``. From ``make bench``: ``run(results)``.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

DATABASE = "snowwatch_bench_budgets"
CONNECTORS = 1000
BUDGETS_PER_CONNECTOR = 10
DAYS = 30
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
REPEATS = 3

SEED = """
INSERT INTO enterprise.organizations (id, external_id, name)
VALUES ('00000000-0000-0000-0000-00000000b0b0', 'bench-budgets', 'bench budgets') ON CONFLICT DO NOTHING;

INSERT INTO enterprise.connectors (id, org_id, name, account_identifier, username, warehouse, secret_ref,
                                   credit_price, timezone)
SELECT ('00000000-0000-0000-0001-' || lpad(to_hex(i), 12, '0'))::uuid, '00000000-0000-0000-0000-00000000b0b0',
       'bench-' || i, 'bench', 'SW', 'WH', 'arn:bench', 2 + (i % 3),
       (ARRAY['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'])[1 + i % 4]
FROM generate_series(1, :connectors) i;

INSERT INTO enterprise.snowflake_warehouse_metering
    (connector_id, warehouse_id, warehouse_name, start_time, end_time, credits_used, credits_used_compute)
SELECT c.id, w, 'WH_' || w, t, t + interval '1 hour', ((c.n * 7 + w * 13 + h) % 10) / 4.0, 0
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM enterprise.connectors WHERE name LIKE 'bench-%') c
CROSS JOIN generate_series(1, 4) w
CROSS JOIN LATERAL (SELECT h, CAST(:now AS timestamptz) - (h + 1) * interval '1 hour' AS t
                    FROM generate_series(0, :hours - 1) h) hh;

INSERT INTO enterprise.snowflake_metering_history
    (connector_id, service_type, entity_id, start_time, end_time, credits_used)
SELECT c.id, s, 0, t, t + interval '1 hour', ((c.n * 3 + h) % 20) / 2.0
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM enterprise.connectors WHERE name LIKE 'bench-%') c
CROSS JOIN unnest(ARRAY['WAREHOUSE_METERING', 'AUTO_CLUSTERING']) s
CROSS JOIN LATERAL (SELECT h, CAST(:now AS timestamptz) - (h + 1) * interval '1 hour' AS t
                    FROM generate_series(0, :hours - 1) h) hh;

INSERT INTO enterprise.snowflake_query_history
    (connector_id, query_id, query_tag, tag_key, warehouse_name, start_time, credits_attributed_compute)
SELECT c.id, 'q' || q, 'team:' || (q % 3), 'team:' || (q % 3), 'WH_1',
       CAST(:now AS timestamptz) - (q * 143) * interval '1 minute', (q % 7) / 10.0
FROM (SELECT id FROM enterprise.connectors WHERE name LIKE 'bench-%') c
CROSS JOIN generate_series(1, 300) q;

INSERT INTO enterprise.snowflake_budgets
    (connector_id, name, scope_type, scope_warehouses, scope_query_tag, period, amount, amount_unit, thresholds,
     alert_emails)
SELECT c.id, 'budget-' || b,
       CASE WHEN b <= 4 THEN 'account' WHEN b <= 8 THEN 'warehouses' ELSE 'query_tag' END,
       CASE WHEN b BETWEEN 5 AND 8 THEN ARRAY['WH_' || (b - 4)] || CASE WHEN b = 8 THEN ARRAY['WH_1'] ELSE '{}' END
            ELSE '{}' END,
       CASE WHEN b > 8 THEN 'team:' || (b - 9) END,
       (ARRAY['daily', 'weekly', 'monthly', 'quarterly'])[1 + b % 4],
       CASE WHEN b <= 4 THEN 300 * (1 + b % 4) * (1 + b % 4) ELSE 100 * (1 + b % 4) END,
       CASE WHEN b % 2 = 0 THEN 'credits' ELSE 'currency' END,
       '[{"type": "percent", "value": 50, "basis": "actual"}, {"type": "percent", "value": 80, "basis": "actual"},
         {"type": "percent", "value": 100, "basis": "forecast"}]'::jsonb,
       ARRAY['finops@example.com']
FROM (SELECT id FROM enterprise.connectors WHERE name LIKE 'bench-%') c
CROSS JOIN generate_series(1, :per) b;
"""

# Per connector and scope kind, the rows the pass reads (its own cs CTE): rollup days [days_from, days_to)
# and raw rows [raw_from, until); since: where the raw path would start.
WINDOWS = """
CREATE TEMP TABLE bench_windows AS
WITH {state}
SELECT connector_id, scope_type, tags, days_from, days_to, raw_from, since, until
FROM cs
"""

# The floor: the same spend rows, the same windows, one GROUP BY, no budget logic.
AGGREGATE = """
SELECT connector_id, sum(credits) AS credits FROM (
    SELECT d.connector_id, d.credits FROM bench_windows w JOIN enterprise.snowflake_spend_daily d
      ON d.connector_id = w.connector_id AND d.dim = 'service_type'
     AND d.usage_date >= w.days_from AND d.usage_date < w.days_to
    WHERE w.scope_type = 'account'
    UNION ALL
    SELECT m.connector_id, m.credits_used FROM bench_windows w JOIN enterprise.snowflake_metering_history m
      ON m.connector_id = w.connector_id AND m.start_time >= w.raw_from AND m.start_time < w.until
    WHERE w.scope_type = 'account'
    UNION ALL
    SELECT d.connector_id, d.credits FROM bench_windows w JOIN enterprise.snowflake_spend_daily d
      ON d.connector_id = w.connector_id AND d.dim = 'warehouse'
     AND d.usage_date >= w.days_from AND d.usage_date < w.days_to
    WHERE w.scope_type = 'warehouses'
    UNION ALL
    SELECT m.connector_id, m.credits_used FROM bench_windows w JOIN enterprise.snowflake_warehouse_metering m
      ON m.connector_id = w.connector_id AND m.start_time >= w.raw_from AND m.start_time < w.until
    WHERE w.scope_type = 'warehouses'
    UNION ALL
    SELECT q.connector_id, q.credits_attributed_compute FROM bench_windows w
    JOIN enterprise.snowflake_query_history q
      ON q.connector_id = w.connector_id AND q.query_tag = ANY(w.tags)
     AND q.start_time >= w.raw_from AND q.start_time < w.until
    WHERE w.scope_type = 'query_tag'
) x GROUP BY connector_id
"""

# The detail figure (the previous floor, unchanged): the raw hourly rows of the three tables over one window,
# from the earliest instant any budget reads to now - what the pass read before the rollups.
AGGREGATE_RAW = """
SELECT connector_id, sum(credits) AS credits FROM (
    SELECT connector_id, credits_used AS credits FROM enterprise.snowflake_warehouse_metering
    WHERE start_time >= :since AND start_time < :now
    UNION ALL
    SELECT connector_id, credits_used FROM enterprise.snowflake_metering_history
    WHERE start_time >= :since AND start_time < :now
    UNION ALL
    SELECT connector_id, credits_attributed_compute FROM enterprise.snowflake_query_history
    WHERE query_tag IS NOT NULL AND start_time >= :since AND start_time < :now
) x GROUP BY connector_id
"""


def _median(fn: Any) -> tuple[float, list[float]]:
    samples = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), samples


def bench() -> dict[str, Any]:
    # after the bench's local stack has set the environment (settings and Powertools read it)
    import pg8000.native

    from snowwatch.db import get_connection, query, query_one, transaction
    from snowwatch.db.connection import connection_params
    from snowwatch.repositories import budgets as repo
    from snowwatch.repositories import rollups
    from snowwatch.services import query_retention
    from snowwatch.settings import JobSettings, get_settings

    settings = get_settings(JobSettings)
    conn = get_connection(settings)
    # the seed runs longer than the functions' 30 s socket timeout: its own connection, no timeout
    seeder = pg8000.native.Connection(**connection_params(settings))
    t = time.perf_counter()
    # the raw query rows' daily partitions (0420), as the sync makes them before it loads: 300 x 143 minutes back
    query_retention.prepare_window(seeder, NOW - timedelta(minutes=300 * 143), NOW + timedelta(minutes=1))
    for statement in SEED.split(";\n\n"):
        if statement.strip():
            params = {
                k: v
                for k, v in {
                    "connectors": CONNECTORS,
                    "now": NOW,
                    "hours": DAYS * 24,
                    "per": BUDGETS_PER_CONNECTOR,
                }.items()
                if f":{k}" in statement
            }
            seeder.run(statement, **params)
    seed_s = time.perf_counter() - t

    # the daily spend rollups, built as the sync builds them: per connector, in its timezone, in a transaction
    t = time.perf_counter()
    for cid, tz in seeder.run("SELECT id, timezone FROM enterprise.connectors ORDER BY id"):
        with transaction(seeder):
            rollups.rebuild_spend_rollups(seeder, cid, tz, None)
    rollup_s = time.perf_counter() - t
    seeder.run("VACUUM ANALYZE")
    seeder.close()

    counts = query_one(
        conn,
        """SELECT (SELECT count(*) FROM enterprise.snowflake_budgets) AS budgets,
                  (SELECT count(DISTINCT connector_id) FROM enterprise.snowflake_budgets) AS connectors,
                  (SELECT count(*) FROM enterprise.snowflake_warehouse_metering) AS warehouse_metering,
                  (SELECT count(*) FROM enterprise.snowflake_metering_history) AS metering_history,
                  (SELECT count(*) FROM enterprise.snowflake_query_history) AS query_history,
                  (SELECT count(*) FROM enterprise.snowflake_spend_daily) AS spend_daily,
                  (SELECT count(*) FROM enterprise.snowflake_rollup_state
                   WHERE rollup = 'spend') AS connectors_rolled""",
    )
    assert counts is not None
    conn.run("DROP TABLE IF EXISTS pg_temp.bench_windows")
    conn.run(WINDOWS.format(state=repo.STATE), **repo._filters(NOW))
    conn.run("ANALYZE pg_temp.bench_windows")
    # how many rows each aggregate reads (its per-connector row counts, summed)
    rows_read = query_one(conn, f"SELECT sum(credits) AS n FROM ({AGGREGATE.replace('sum(credits)', 'count(*)')}) x")
    since = query_one(conn, "SELECT min(since) AS s FROM pg_temp.bench_windows")
    assert rows_read is not None and since is not None
    window = {"since": since["s"], "now": NOW}
    read_raw = query_one(
        conn, f"SELECT sum(credits) AS n FROM ({AGGREGATE_RAW.replace('sum(credits)', 'count(*)')}) x", **window
    )
    assert read_raw is not None

    def aggregate(sql: str, **params: Any) -> None:
        with transaction(conn):  # under the pass's own planner settings (no JIT)
            for setting in repo.PASS_SETTINGS:
                conn.run(setting)
            query(conn, sql, **params)

    aggregate(AGGREGATE)  # warm-up
    aggregate_s, aggregate_samples = _median(lambda: aggregate(AGGREGATE))
    aggregate(AGGREGATE_RAW, **window)
    raw_s, raw_samples = _median(lambda: aggregate(AGGREGATE_RAW, **window))

    t = time.perf_counter()
    alerts, notes = repo.check(conn, NOW)
    first_s = time.perf_counter() - t
    steady_s, steady_samples = _median(lambda: repo.check(conn, NOW))

    snapshot_s, _ = _median(lambda: repo.snapshot(conn, NOW, close=False))

    return {
        "seed_seconds": round(seed_s, 1),
        "rollup_build_seconds": round(rollup_s, 1),
        "rows": {k: int(v) for k, v in counts.items()},
        "rows_read": int(rows_read["n"]),
        "rows_read_raw": int(read_raw["n"]),
        "raw_window_start": str(since["s"]),
        "aggregate_ms": round(aggregate_s * 1000, 1),
        "aggregate_samples_ms": [round(s * 1000, 1) for s in aggregate_samples],
        "aggregate_raw_ms": round(raw_s * 1000, 1),
        "aggregate_raw_samples_ms": [round(s * 1000, 1) for s in raw_samples],
        "check_steady_ms": round(steady_s * 1000, 1),
        "check_steady_samples_ms": [round(s * 1000, 1) for s in steady_samples],
        "check_first_ms": round(first_s * 1000, 1),
        "check_first_alerts": len(alerts),
        "check_first_outbox_rows": len(notes),
        "snapshot_ms": round(snapshot_s * 1000, 1),
        "check_steady_vs_aggregate_ratio": round(steady_s / aggregate_s, 2),
        "check_first_vs_aggregate_ratio": round(first_s / aggregate_s, 2),
        "check_steady_vs_raw_aggregate_ratio": round(steady_s / raw_s, 2),
    }


def run(results: dict[str, Any]) -> None:
    # after the bench's local stack has set the environment (settings and Powertools read it)
    from snowwatch.db import migrate
    from snowwatch.db.connection import close_connection
    from snowwatch.settings import CommonSettings, get_settings
    from snowwatch_local import services

    url = services.ensure_database(DATABASE, fresh=True)
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    close_connection()
    try:
        migrate.apply(get_settings(CommonSettings))
        detail = bench()
    finally:
        close_connection()
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
        get_settings.cache_clear()
        services.drop_database(DATABASE)
    results["budgets"] = detail
    results["budget_check_vs_aggregate_ratio"] = detail["check_steady_vs_aggregate_ratio"]
    results["budget_check_first_pass_vs_aggregate_ratio"] = detail["check_first_vs_aggregate_ratio"]
    results["budget_check_vs_raw_aggregate_ratio"] = detail["check_steady_vs_raw_aggregate_ratio"]


if __name__ == "__main__":
    out: dict[str, Any] = {}
    started = time.perf_counter()
    run(out)
    out["budgets"]["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=2, default=str))
