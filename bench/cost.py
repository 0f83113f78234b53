"""Cost benchmark: loader vs psql \\copy, uncached cost API latency at a year x 50 warehouses x 2M queries,
and the number of statements one sync issues to Snowflake.

Standalone: ``python -m bench.cost`` (prints the JSON). From ``make bench``: ``run(results)``.
The 2M query-history rows are generated straight into Postgres with generate_series (fakesnow
would be the slow part, and the API reads Postgres only).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

LOADER_ROWS = 200_000
QUERY_ROWS = 2_000_000
WAREHOUSES = 50
DAYS = 365
API_SAMPLES = 30
ORG_CONNECTORS = 1_000  # the org overview's org (the demo org) gets this many more connectors
SPIKE_DAY = 6  # days before now: a 6x day, so the anomalies endpoint computes drivers


def _pg() -> Any:
    # after the bench's local stack has set the environment (settings and Powertools read it)
    from snowwatch.db import get_connection
    from snowwatch.settings import JobSettings, get_settings

    return get_connection(get_settings(JobSettings))


def _qh_rows(n: int, start: datetime) -> list[tuple[Any, ...]]:
    out = []
    for s in range(n):
        st = start + timedelta(seconds=s * 13)
        out.append(
            (
                f"bench-load-{s:010d}", f"SELECT * FROM T{s % 37} WHERE id = {s}", "SELECT", f"USER_{s % 7}",
                "ANALYST", s % WAREHOUSES + 1, f"WH_{s % WAREHOUSES + 1:02d}", "Small", None, "SUCCESS", None,
                st, st + timedelta(milliseconds=1000 + s % 5000), 1000 + s % 5000, 900 + s % 5000, 50, 0, 0, 0,
                0, 1_000_000 + s, 0.5, 10, 100, 0, 0, s % 1000, "0.00001", f"qh{s % 113}", f"ph{s % 37}", None, None,
                None,
            )
        )  # fmt: skip
    return out


def _psql_copy(table: str, columns: tuple[str, ...], path: str) -> float:
    # after the bench's local stack has set the environment (settings and Powertools read it)
    from snowwatch.db.connection import connection_params
    from snowwatch.settings import CommonSettings, get_settings

    p = connection_params(get_settings(CommonSettings))
    env = {**os.environ, "PGPASSWORD": p.get("password") or ""}
    where = ["-h", str(p["host"]), "-p", str(p["port"])] if "host" in p else ["-h", p["unix_sock"].rsplit("/", 1)[0]]
    cmd = f"\\copy {table} ({', '.join(columns)}) FROM '{path}' WITH (FORMAT csv, NULL '\\N')"
    t = time.perf_counter()
    subprocess.run(
        ["psql", *where, "-U", p["user"], "-d", p["database"], "-c", cmd], check=True, env=env, capture_output=True
    )
    return time.perf_counter() - t


def bench_loader(connector_id: UUID) -> dict[str, Any]:
    """Rows/s of the loader (QUERY_HISTORY rows as the sync loads them) beside psql \\copy of the same
    rows from a ready CSV file into a table of the same shape: same primary key, indexes and foreign key.

    Two loader cases: a first load (the connector has no rows yet: COPY straight into the table) and a
    re-load of the same rows, as every sync's lookback window re-reads them (COPY into a staging table
    + INSERT ... ON CONFLICT DO UPDATE, which skips unchanged rows). The headline ratio uses the slower
    of the two cases."""
    # after the bench's local stack has set the environment (settings and Powertools read it)
    from snowwatch.db import transaction
    from snowwatch.db.bulk import to_csv
    from snowwatch.repositories import cost_sync
    from snowwatch.services import query_retention

    conn = _pg()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rows = _qh_rows(LOADER_ROWS, start)
    # the days' partitions first, as the sync makes them before each window (0420)
    query_retention.prepare_window(conn, start, start + timedelta(seconds=13 * LOADER_ROWS + 1))
    conn.run("DELETE FROM enterprise.snowflake_query_history WHERE connector_id = :c", c=connector_id)
    timings = {}
    for case in ("first_load", "reload"):
        t = time.perf_counter()
        with transaction(conn):
            cost_sync.load(conn, connector_id, "QUERY_HISTORY", rows)
        timings[case] = time.perf_counter() - t
    loaded = conn.run(
        "SELECT count(*) FROM enterprise.snowflake_query_history WHERE connector_id = :c", c=connector_id
    )[0][0]

    columns = ("connector_id", *cost_sync.columns("QUERY_HISTORY"))
    with tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as f:
        f.write(to_csv([(connector_id, *r) for r in rows]).getvalue())
        path = f.name
    copies = {}
    for case, ddl in (
        ("same_shape", "(LIKE enterprise.snowflake_query_history INCLUDING ALL)"),
        ("bare", "(LIKE enterprise.snowflake_query_history INCLUDING DEFAULTS)"),
    ):
        conn.run("DROP TABLE IF EXISTS public.bench_copy_qh")
        conn.run(f"CREATE TABLE public.bench_copy_qh {ddl}")
        if case == "same_shape":
            conn.run(
                "ALTER TABLE public.bench_copy_qh ADD FOREIGN KEY (connector_id) "
                "REFERENCES enterprise.connectors(id) ON DELETE CASCADE"
            )
        copies[case] = _psql_copy("public.bench_copy_qh", columns, path)
    os.unlink(path)
    conn.run("DROP TABLE public.bench_copy_qh")
    conn.run("DELETE FROM enterprise.snowflake_query_history WHERE connector_id = :c", c=connector_id)
    rate = {
        k: round(LOADER_ROWS / v) for k, v in {**timings, **{f"psql_copy_{k}": v for k, v in copies.items()}}.items()
    }
    return {
        "rows": LOADER_ROWS,
        "rows_in_table_after_both_loads": loaded,
        "rows_per_s": rate,
        "loader_vs_copy_ratio": round(copies["same_shape"] / max(timings.values()), 3),
        "first_load_vs_copy_ratio": round(copies["same_shape"] / timings["first_load"], 3),
        "reload_vs_bare_copy_ratio": round(copies["bare"] / timings["reload"], 3),
        "note": "psql \\copy reads a ready CSV file; the loader also turns Python rows into CSV. "
        "same_shape = same primary key, indexes and foreign key as the real table; bare = no indexes.",
    }


# ``n`` generated queries spread evenly over ``:h`` hours from ``:s`` on ``:w`` warehouses (also in
# bench/rollup_windows.py); ``cost_method`` is the SQL of the column (``s`` is the query's number).
QUERIES_SQL = """INSERT INTO enterprise.snowflake_query_history (connector_id, query_id, query_text, query_type,
               user_name,
               role_name, warehouse_id, warehouse_name, warehouse_size, execution_status, start_time, end_time,
               total_elapsed_time, execution_time, compilation_time, bytes_scanned, percentage_scanned_from_cache,
               partitions_scanned, partitions_total, bytes_spilled_to_remote_storage, credits_used_cloud_services,
               query_hash, query_parameterized_hash, credits_attributed_compute, cost_method, query_tag, tag_key,
               dbt_model)
           SELECT :c, 'bench-' || s, 'SELECT * FROM T' || (s % 500) || ' WHERE id = ' || s, 'SELECT',
                  'USER_' || (s % 200), 'ROLE_' || (s % 20), s % :w + 1, 'WH_' || lpad((s % :w + 1)::text, 2, '0'),
                  'Small', 'SUCCESS', st, st + interval '2 seconds', 2000, 1800, 200, 1000000 + s % 1000000,
                  (s % 10) / 10.0, s % 100, 100, CASE WHEN s % 31 = 0 THEN 5000000 ELSE 0 END, 0.00001,
                  'qh' || (s % 5000), 'ph' || (s % 2000), (s % 1000) / 10000.0,
                  {cost_method},
                  CASE WHEN s % 4 = 0 THEN 'team:' || (s % 7) END, CASE WHEN s % 4 = 0 THEN 'team:' || (s % 7) END,
                  CASE WHEN s % 3 = 0 THEN 'model.shop.m' || (s % 300) END
           FROM generate_series(1, :n) s,
                LATERAL (SELECT CAST(:s AS timestamptz) + (s * (:h * 3600.0 / :n)) * interval '1 second' AS st) x"""


def insert_queries(conn: Any, params: dict[str, Any], n: int, cost_method: str) -> None:
    """Generate ``n`` raw query rows for ``params`` (c, s, w, h) in one INSERT … SELECT."""
    conn.run(QUERIES_SQL.format(cost_method=cost_method), **params, n=n)


def generate(connector_id: UUID, tz: str = "UTC") -> dict[str, Any]:
    """A year for 50 warehouses and 2M query-history rows, set-based, then the rollups the sync builds."""
    # after the bench's local stack has set the environment (settings and Powertools read it)
    import pg8000.native

    from snowwatch.db import query_one
    from snowwatch.db.connection import connection_params
    from snowwatch.models.connectors import Connector
    from snowwatch.repositories import cost_sync, rollups
    from snowwatch.services import query_retention, savings
    from snowwatch.settings import CommonSettings, get_settings

    # Bulk generation outlives the functions' 30 s socket timeout: its own connection.
    conn = pg8000.native.Connection(**connection_params(get_settings(CommonSettings)), timeout=900)
    t0 = time.perf_counter()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=DAYS)
    p = {"c": connector_id, "s": start, "w": WAREHOUSES, "h": DAYS * 24}
    conn.run(
        """INSERT INTO enterprise.snowflake_warehouse_metering
           SELECT :c, w, 'WH_' || lpad(w::text, 2, '0'), CAST(:s AS timestamptz) + h * interval '1 hour',
                  CAST(:s AS timestamptz) + (h + 1) * interval '1 hour', c * 1.1, c, c * 0.1, c * 0.7
           FROM generate_series(1, :w) w, generate_series(0, :h - 1) h,
                LATERAL (SELECT ((w % 4) + 1) * (30 + (h * 7 + w) % 60) / 100.0
                                * CASE WHEN h / 24 = :h / 24 - :spike AND w % 10 = 1 THEN 6 ELSE 1 END AS c) x""",
        **p,
        spike=SPIKE_DAY,
    )
    conn.run(
        """INSERT INTO enterprise.snowflake_metering_history
           SELECT connector_id, 'WAREHOUSE_METERING', warehouse_id, 'WAREHOUSE', warehouse_name, start_time, end_time,
                  credits_used_compute, credits_used_cloud_services, credits_used
           FROM enterprise.snowflake_warehouse_metering WHERE connector_id = :c""",
        c=connector_id,
    )
    conn.run(
        """INSERT INTO enterprise.snowflake_daily_costs
           SELECT :c, start_time::date, 'WAREHOUSE_METERING', sum(credits_used_compute),
                  sum(credits_used_cloud_services), sum(credits_used), -sum(credits_used_cloud_services),
                  sum(credits_used_compute), NULL
           FROM enterprise.snowflake_metering_history WHERE connector_id = :c GROUP BY 2""",
        c=connector_id,
    )
    conn.run(
        """INSERT INTO enterprise.snowflake_warehouse_load
           SELECT :c, 'WH_' || lpad(w::text, 2, '0'), CAST(:s AS timestamptz) + h * interval '1 hour',
                  0.5, CASE WHEN w = 2 THEN 1.5 ELSE 0 END, 0, 0
           FROM generate_series(1, :w) w, generate_series(0, :h - 1) h""",
        **p,
    )
    conn.run(
        """INSERT INTO enterprise.snowflake_storage_usage
           SELECT :c, CAST(:s AS date) + d, 50e12 + d * 1e10, 1e12, 2e12, 0 FROM generate_series(0, :d) d""",
        c=connector_id,
        s=start,
        d=DAYS,
    )
    conn.run(
        """INSERT INTO enterprise.snowflake_database_storage
           SELECT :c, CAST(:s AS date) + d, db, 'DB_' || db, NULL, 1e12 * db + d * 1e9, 1e11
           FROM generate_series(0, :d) d, generate_series(1, 20) db""",
        c=connector_id,
        s=start,
        d=DAYS,
    )
    conn.run(
        """INSERT INTO enterprise.snowflake_table_storage (connector_id, table_id, table_catalog, table_schema,
               table_name, active_bytes, time_travel_bytes, failsafe_bytes)
           SELECT :c, t, 'DB_' || (t % 20), 'PUBLIC', 'T' || t, (t % 997) * 1e9, (t % 13) * 1e9, (t % 7) * 1e9
           FROM generate_series(1, 5000) t""",
        c=connector_id,
    )
    conn.run(
        """INSERT INTO enterprise.snowflake_warehouses (connector_id, warehouse_name, size, auto_suspend,
               min_cluster_count, max_cluster_count, resource_monitor)
           SELECT :c, 'WH_' || lpad(w::text, 2, '0'), 'Small', CASE WHEN w % 5 = 0 THEN 3600 ELSE 60 END, 1, 1,
                  CASE WHEN w % 3 = 0 THEN NULL ELSE 'M' END
           FROM generate_series(1, :w) w""",
        c=connector_id,
        w=WAREHOUSES,
    )
    for day in range(DAYS + 1):  # the daily partitions (0420), a transaction each (bounded locks)
        query_retention.prepare_window(conn, start + timedelta(days=day), start + timedelta(days=day + 1))
    insert_queries(conn, p, QUERY_ROWS, "CASE WHEN s % 3 = 0 THEN 'hourly_share' ELSE 'attribution' END")
    conn.run(  # findings resolved 10 days ago: the savings endpoint measures them against their 4 weeks before
        """INSERT INTO enterprise.cost_findings (connector_id, finding_key, kind, subject, claim, first_seen_at,
               last_seen_at, resolved_at)
           SELECT :c, 'auto_suspend_off:WH_' || lpad(w::text, 2, '0'), 'auto_suspend_off',
                  'WH_' || lpad(w::text, 2, '0'),
                  'idle:WH_' || lpad(w::text, 2, '0'), CAST(:now AS timestamptz) - interval '60 days',
                  CAST(:now AS timestamptz) - interval '10 days', CAST(:now AS timestamptz) - interval '10 days'
           FROM generate_series(1, :w) w WHERE w % 5 = 1""",
        c=connector_id,
        now=now,
        w=WAREHOUSES,
    )
    generated_s = time.perf_counter() - t0
    t = time.perf_counter()
    # The same set-based rebuilds the sync runs after its loads (here: every day, as on a first sync).
    rollups.rebuild_spend_rollups(conn, connector_id, tz, None)
    rollups.rebuild_rollups(conn, connector_id, tz, None)
    cost_sync.refresh_table_reads(
        conn, connector_id, 2**40, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    rollup_s = time.perf_counter() - t
    # Then the retention step, as the sync's last post-load step: raw days older than QUERY_RETENTION_DAYS go (their
    # rollups stay), so the API plans over the ~37 partitions a deployed table holds, not 366.
    from snowwatch.services.extraction import Budget
    from snowwatch.settings import JobSettings, get_settings

    keep = get_settings(JobSettings).query_retention_days
    dropped_days = query_retention.drop_expired(conn, now, keep, DAYS + 1, Budget())
    t = time.perf_counter()
    # What the full sync does next: record the findings (their queries) and measure the resolved ones' savings.
    connector = Connector.model_validate(
        query_one(conn, "SELECT * FROM enterprise.connectors WHERE id = :c", c=connector_id)
    )
    tracked = savings.track(conn, connector)
    track_s = time.perf_counter() - t
    for table in (
        "snowflake_query_history",
        "snowflake_warehouse_metering",
        "snowflake_metering_history",
        "snowflake_query_rollup",
        "snowflake_query_hash_daily",
        "snowflake_spend_daily",
        "snowflake_warehouse_load_daily",
        "snowflake_warehouse_load",
        "snowflake_table_storage",
        "snowflake_database_storage",
    ):
        conn.run(f"ANALYZE enterprise.{table}")
    conn.close()
    return {
        "generate_s": round(generated_s, 1),
        "rollups_s": round(rollup_s, 1),
        "raw_days_dropped_by_retention": dropped_days,
        "findings_track_s": round(track_s, 1),
        "findings": tracked,
        "query_rows": QUERY_ROWS,
    }


ENDPOINTS: list[tuple[str, dict[str, str]]] = [
    ("overview", {}),
    ("daily", {}),
    ("daily", {"group_by": "warehouse"}),
    ("warehouses", {}),
    ("storage", {}),
    ("waste", {}),
    ("queries", {}),
    ("queries", {"group_by": "parameterized_hash"}),
    ("users", {}),
    ("users", {"group_by": "role"}),
    ("anomalies", {}),
    ("forecast", {}),
    ("savings", {}),
    ("attribution", {}),
    ("attribution", {"by": "query_tag"}),
    ("queries", {"group_by": "dbt_model"}),
]


def org_connectors(stack: Any, n: int) -> dict[str, Any]:
    """``n`` more connectors in the demo org (the bench caller's), each with 3 days of hourly metering, a budget,
    open alerts on some; half of them in EUR. Set-based."""
    # after the bench's local stack has set the environment (settings and Powertools read it)
    import pg8000.native

    from snowwatch.db.connection import connection_params
    from snowwatch.repositories import budgets as budgets_repo
    from snowwatch.settings import CommonSettings, get_settings

    conn = pg8000.native.Connection(**connection_params(get_settings(CommonSettings)), timeout=900)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    conn.run(
        """INSERT INTO enterprise.connectors (org_id, name, account_identifier, username, warehouse, secret_ref,
               currency, credit_price)
           SELECT org_id, 'org-bench-' || lpad(i::text, 4, '0'), 'org-bench', 'U', 'W', 'arn:none',
                  CASE WHEN i % 2 = 0 THEN 'EUR' ELSE 'USD' END, 3
           FROM enterprise.connectors, generate_series(1, :n) i WHERE id = :demo""",
        n=n,
        demo=stack.connector_id,
    )
    conn.run(
        """INSERT INTO enterprise.snowflake_metering_history (connector_id, service_type, entity_id, start_time,
               end_time, credits_used_compute, credits_used)
           SELECT c.id, 'WAREHOUSE_METERING', 1, t, t + interval '1 hour', 1.5, 1.5
           FROM enterprise.connectors c,
                generate_series(CAST(:now AS timestamptz) - interval '72 hours', CAST(:now AS timestamptz)
                                - interval '1 hour', interval '1 hour') t
           WHERE c.name LIKE 'org-bench-%'""",
        now=now,
    )
    conn.run(
        """INSERT INTO enterprise.snowflake_budgets (connector_id, name, scope_type, period, amount)
           SELECT id, 'monthly', 'account', 'monthly', 50 FROM enterprise.connectors WHERE name LIKE 'org-bench-%'"""
    )
    conn.run("UPDATE enterprise.connectors SET last_sync_at = now() WHERE name LIKE 'org-bench-%'")
    conn.run(  # their spend rollups, as their syncs build them
        """INSERT INTO enterprise.snowflake_spend_daily
           SELECT m.connector_id, 'service_type', (m.start_time AT TIME ZONE 'UTC')::date, m.service_type,
                  sum(m.credits_used), sum(m.credits_used_compute), 0, NULL, NULL, count(*)
           FROM enterprise.snowflake_metering_history m JOIN enterprise.connectors c ON c.id = m.connector_id
           WHERE c.name LIKE 'org-bench-%' GROUP BY 1, 3, 4"""
    )
    conn.run(
        """INSERT INTO enterprise.snowflake_rollup_state (connector_id, rollup, timezone)
           SELECT id, 'spend', timezone FROM enterprise.connectors WHERE name LIKE 'org-bench-%'"""
    )
    for table in ("connectors", "snowflake_metering_history", "snowflake_budgets", "snowflake_spend_daily"):
        conn.run(f"ANALYZE enterprise.{table}")
    org = conn.run("SELECT org_id FROM enterprise.connectors WHERE id = :c", c=stack.connector_id)[0][0]
    t = time.perf_counter()  # what the hourly budget check does for the org overview: every connector's month
    refreshed = budgets_repo.refresh_month_state(conn, datetime.now(UTC), org_id=org)
    refresh_ms = round((time.perf_counter() - t) * 1000, 1)
    conn.close()
    return {"connectors_added": n, "month_states_refreshed": refreshed, "month_state_refresh_ms": refresh_ms}


def bench_api(stack: Any, connector_id: UUID) -> dict[str, Any]:
    """Uncached latency (the stage cache is cleared before every call) through the local API Gateway: every cost
    endpoint of the year-long connector, and the org overview of its org (1,000 more connectors)."""
    # after the bench's local stack has set the environment (settings and Powertools read it)
    from snowwatch_local.gateway import Gateway
    from snowwatch_local.stack import ADMIN

    gateway = Gateway()
    token = stack.token(ADMIN)
    out: dict[str, Any] = {}
    targets = [(f"/api/connectors/{connector_id}/cost/{name}", name, query) for name, query in ENDPOINTS]
    targets.append(("/api/org/overview", "org_overview", {"limit": "50"}))
    for path, name, query in targets:
        times = []
        for i in range(API_SAMPLES + 3):
            gateway.cache._entries.clear()
            t = time.perf_counter()
            answer = gateway.handle(
                "GET", path, {"Authorization": f"Bearer {token}"}, {k: [v] for k, v in query.items()}
            )
            elapsed = (time.perf_counter() - t) * 1000
            assert answer.status == 200, answer.body[:500]
            if i >= 3:  # warm-up: connection, imports
                times.append(elapsed)
        times.sort()
        label = name + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        out[label] = {
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
        }
    return out


def bench_sync_statements(stack: Any) -> dict[str, Any]:
    """Statements one full sync and one metering sync issue (fixed by construction: one per view + checks)."""
    full = stack.run_job("sync", connector_id=stack.connector_id)["rows"]
    again = stack.run_job("sync", connector_id=stack.connector_id)["rows"]
    metering = stack.run_job("sync", connector_id=stack.connector_id, mode="metering")["rows"]
    return {
        "full_first": full["statements"],
        "full_incremental": again["statements"],
        "metering": metering["statements"],
        "query_history_rows_first": full["QUERY_HISTORY"],
        "query_history_rows_incremental": again["QUERY_HISTORY"],
    }


def run(results: dict[str, Any]) -> None:
    # after the bench's local stack has set the environment (settings and Powertools read it)
    from snowwatch_local.stack import LocalStack
    from tests.integration.cost_helpers import new_connector

    stack = LocalStack(database="snowwatch_bench_cost", fresh_database=True, size="tiny", dispatch_mode="inline")
    stack.start()
    try:
        statements = bench_sync_statements(stack)
        cid = new_connector(stack, "bench-cost")
        loader = bench_loader(cid)
        gen = generate(cid)
        gen["org"] = org_connectors(stack, ORG_CONNECTORS)
        api = bench_api(stack, cid)
    finally:
        stack.stop()
        # after the bench's local stack has set the environment (settings and Powertools read it)
        from snowwatch_local.services import drop_database

        drop_database("snowwatch_bench_cost")
    detail = {"loader": loader, "data": gen, "api": api, "sync_statements": statements}
    results["cost"] = detail
    results["loader_vs_copy_ratio"] = loader["loader_vs_copy_ratio"]
    results["cost_api_p95_ms_max"] = max(v["p95_ms"] for v in api.values())
    results["sync_statements_per_connector"] = statements["full_first"]


if __name__ == "__main__":
    out: dict[str, Any] = {}
    started = time.perf_counter()
    run(out)
    out["cost"]["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=2, default=str))
