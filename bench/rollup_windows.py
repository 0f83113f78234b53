"""The post-load walk's windows at a 1M-queries/day account: how long one local day of the query rollups (with the
last-read refresh) and one month of spend rollups take, statement by statement, against
JOB_STATEMENT_TIMEOUT_SECONDS (300 s). Not part of ``make bench``.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<migrated db> python -m bench.rollup_windows [queries/day] [days]

Generates ``days`` days of ``queries/day`` queries (bench/cost.py's shape: 50 warehouses, 2,000 hashes, 200 users)
and their hourly metering into a new connector (the raw rows in their daily partitions, as the sync loads them),
then walks them as the sync does (services/post_load.py) with a statement timer, and prints the JSON.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.cost import insert_queries

WAREHOUSES = 50


def main(per_day: int, days: int) -> dict[str, Any]:
    from snowwatch.db import get_connection
    from snowwatch.repositories import query_partitions, sync_state
    from snowwatch.services import post_load
    from snowwatch.services.extraction import Budget
    from snowwatch.settings import JobSettings, get_settings

    conn = get_connection(get_settings(JobSettings))
    conn.run("SET statement_timeout = 0")
    org, cid = uuid.uuid4(), uuid.uuid4()
    conn.run("INSERT INTO enterprise.organizations (id, external_id, name) VALUES (:o, :e, 'bench')", o=org, e=str(org))
    conn.run(
        """INSERT INTO enterprise.connectors (id, org_id, name, account_identifier, username, role_name, warehouse,
               secret_ref, credit_price, timezone, backfill_days)
           VALUES (:c, :o, 'rollup-windows', 'bench', 'B', 'R', 'W', 'none', 3, 'UTC', 90)""",
        c=cid,
        o=org,
    )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = (now - timedelta(days=days)).replace(hour=0)
    t0 = time.perf_counter()
    query_partitions.ensure_query_partitions(conn, start - timedelta(days=1), now + timedelta(days=2))
    conn.run(
        """INSERT INTO enterprise.snowflake_warehouse_metering
           SELECT :c, w, 'WH_' || lpad(w::text, 2, '0'), CAST(:s AS timestamptz) + h * interval '1 hour',
                  CAST(:s AS timestamptz) + (h + 1) * interval '1 hour', 1.1, 1, 0.1, 0.7
           FROM generate_series(1, :w) w, generate_series(0, :h - 1) h""",
        c=cid,
        s=start,
        w=WAREHOUSES,
        h=days * 24,
    )
    conn.run(
        """INSERT INTO enterprise.snowflake_metering_history
           SELECT connector_id, 'WAREHOUSE_METERING', warehouse_id, 'WAREHOUSE', warehouse_name, start_time, end_time,
                  credits_used_compute, credits_used_cloud_services, credits_used
           FROM enterprise.snowflake_warehouse_metering WHERE connector_id = :c""",
        c=cid,
    )
    n = per_day * days
    insert_queries(conn, {"c": cid, "s": start, "w": WAREHOUSES, "h": days * 24}, n, "'attribution'")
    conn.run("ANALYZE enterprise.snowflake_query_history")
    generated_s = time.perf_counter() - t0

    statements: list[float] = []
    real_run = conn.run

    def timed(sql: str, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return real_run(sql, **kw)
        finally:
            statements.append(time.perf_counter() - t)

    conn.run = timed
    out: dict[str, Any] = {"queries_per_day": per_day, "days": days, "generated_s": round(generated_s, 1)}
    for step, walk in (("spend", post_load.spend_rollups), ("queries", post_load.query_rollups)):
        sync_state.owe(conn, cid, step, start)
        statements.clear()
        windows: list[float] = []
        finished = False
        while not finished:  # one window per call: each call is a run out of time after its first window
            t = time.perf_counter()
            _, finished = walk(conn, cid, "UTC", Budget(deadline=0.0), now)
            windows.append(time.perf_counter() - t)
        out[step] = {
            "windows": len(windows),
            "window_s_max": round(max(windows), 2),
            "window_s_median": round(sorted(windows)[len(windows) // 2], 2),
            "statement_s_max": round(max(statements), 2),
            "total_s": round(sum(windows), 1),
        }
    conn.run = real_run
    conn.run("DELETE FROM enterprise.organizations WHERE id = :o", o=org)
    return out


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(json.dumps(main(*(args + [1_000_000, 3][len(args) :])), indent=2))
