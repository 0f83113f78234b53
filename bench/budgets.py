"""Budgets benchmark: budget_check over 10,000 budgets on 1,000 connectors, beside one bare aggregate
query over the same spend rows. Headline: ``budget_check_vs_aggregate_ratio`` (target <= 3).

Data (generated set-based in Postgres, deterministic): per connector 4 warehouses x 24 h x 30 days of
warehouse metering, 24 h x 30 days of metering history (two service types) and 300 tagged queries; per
connector 10 budgets (4 account: daily/weekly/monthly/quarterly; 4 warehouses; 2 query tag), 3 thresholds
each (50 % and 80 % actual, 100 % forecast).

Timed (median of 3, after a warm-up):
* ``aggregate``: one SELECT summing credits per connector over the rows budget_check reads (the same
  three tables, the same time window): the floor for any set-based pass.
* ``check_steady``: the hourly case - every threshold already fired this period; the pass writes nothing.
* ``check_first``: the first pass of a period - every crossed threshold inserts its alert and outbox rows
  (publishing to SQS is left out: it is per message, not part of the set-based pass).

Standalone: ``python -m bench.budgets``. From ``make bench``: ``run(results)``.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime
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
    (connector_id, query_id, query_tag, warehouse_name, start_time, credits_attributed_compute)
SELECT c.id, 'q' || q, 'team:' || (q % 3), 'WH_1',
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

# The floor: the same spend rows, the same window, one GROUP BY, no budget logic.
AGGREGATE = """
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
    import pg8000.native

    from snowwatch.db import get_connection, query, query_one
    from snowwatch.db.connection import connection_params
    from snowwatch.repositories import budgets as repo
    from snowwatch.settings import JobSettings, get_settings

    settings = get_settings(JobSettings)
    conn = get_connection(settings)
    # the seed runs longer than the functions' 30 s socket timeout: its own connection, no timeout
    seeder = pg8000.native.Connection(**connection_params(settings))
    t = time.perf_counter()
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
    seeder.run("VACUUM ANALYZE")
    seeder.close()
    seed_s = time.perf_counter() - t

    counts = query_one(
        conn,
        """SELECT (SELECT count(*) FROM enterprise.snowflake_budgets) AS budgets,
                  (SELECT count(DISTINCT connector_id) FROM enterprise.snowflake_budgets) AS connectors,
                  (SELECT count(*) FROM enterprise.snowflake_warehouse_metering) AS warehouse_metering,
                  (SELECT count(*) FROM enterprise.snowflake_metering_history) AS metering_history,
                  (SELECT count(*) FROM enterprise.snowflake_query_history) AS query_history""",
    )
    assert counts is not None
    # the earliest instant any budget reads (its period start or its trailing week): the aggregate's window
    since = query_one(
        conn, f"WITH {repo.STATE} SELECT min(least(start_at, trail_at)) AS s FROM b", **repo._filters(NOW)
    )
    assert since is not None
    window = {"since": since["s"], "now": NOW}

    query(conn, AGGREGATE, **window)  # warm-up
    aggregate_s, aggregate_samples = _median(lambda: query(conn, AGGREGATE, **window))

    t = time.perf_counter()
    alerts, notes = repo.check(conn, NOW)
    first_s = time.perf_counter() - t
    steady_s, steady_samples = _median(lambda: repo.check(conn, NOW))

    snapshot_s, _ = _median(lambda: repo.snapshot(conn, NOW, close=False))

    return {
        "seed_seconds": round(seed_s, 1),
        "rows": {k: int(v) for k, v in counts.items()},
        "window_start": str(since["s"]),
        "aggregate_ms": round(aggregate_s * 1000, 1),
        "aggregate_samples_ms": [round(s * 1000, 1) for s in aggregate_samples],
        "check_steady_ms": round(steady_s * 1000, 1),
        "check_steady_samples_ms": [round(s * 1000, 1) for s in steady_samples],
        "check_first_ms": round(first_s * 1000, 1),
        "check_first_alerts": len(alerts),
        "check_first_outbox_rows": len(notes),
        "snapshot_ms": round(snapshot_s * 1000, 1),
        "check_steady_vs_aggregate_ratio": round(steady_s / aggregate_s, 2),
        "check_first_vs_aggregate_ratio": round(first_s / aggregate_s, 2),
    }


def run(results: dict[str, Any]) -> None:
    import os

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


if __name__ == "__main__":
    out: dict[str, Any] = {}
    started = time.perf_counter()
    run(out)
    out["budgets"]["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=2, default=str))
