"""Large-account benchmark (issue 14): a chained backfill of >= 2M QUERY_HISTORY rows through the real sync path.

The whole local stack (a fresh Postgres database, moto, a fakesnow server seeded with the tiny synthetic
account) plus LARGE_ROWS extra QUERY_HISTORY rows over the LARGE_DAYS days before the last day, generated inside
fakesnow with one ``INSERT ... SELECT FROM TABLE(GENERATOR(...))`` (DuckDB underneath: seconds, no rows through
Python). Every generated query also gets a QUERY_ATTRIBUTION_HISTORY row (the worst case: real accounts leave very
short queries out), so the backfill and the incremental run carry the attribution too.
The sync then runs in a child process, exactly as the sync function would (its real handler, inline dispatch
so that continuations run in the same process), with a simulated 60 s per-run budget
(``JOB_TIME_BUDGET_SECONDS=60``, ``JOB_STOP_MARGIN_SECONDS=10``); continuations chain until done.

Keys: large_sync_rows_per_s (source QUERY_HISTORY rows / wall time of the whole chain),
large_sync_postgres_rows_per_s (``cost_sync.load`` alone into the real table, from Arrow tables as the sync gives
it: 200k rows of a backfill window, priced as they load; rows inside an already loaded range:
``large.loader_upsert_rows_per_s``; the same rows' bare COPY into the table, no staging or pricing, the floor any
loader is above: ``large.copy_floor_rows_per_s``), large_sync_peak_rss_mb (the sync process's own peak RSS: its
``VmHWM``, read by the child as it ends; not ``wait4``'s ``ru_maxrss``, which on Linux also counts the peak RSS of
the bench process that spawned it, carried through vfork/exec, so it reported ``make bench``'s earlier modules),
query_row_bytes (query table + its indexes / stored rows), backfill_runs, backfill_exact, incremental_sync_s (the
next day's run: a day's rows, LARGE_ROWS / LARGE_DAYS with their attribution, are generated over the last day, and
the run reads them with each view's LOOKBACK, QUERY_HISTORY's day and QUERY_ATTRIBUTION_HISTORY's 7 days, then walks
the post-load steps they owe; ``large.incremental_exact``: the stored rows are then exactly the source's).
``large.attribution_lookback``: QUERY_ATTRIBUTION_HISTORY alone re-read over its 7-day LOOKBACK (its watermark set
back to ``now - 7 days`` first): ``seconds`` = ``extraction_s`` (a run reading it alone, post-load steps left owed)
+ ``post_load_s`` (the next run, which has only those steps to do), ``rows_read``, and the query rows it
``rows_written`` (n_tup_upd + n_tup_ins of the query partitions) and ``rows_locked`` (rows whose xmax it set).

Standalone: ``python -m bench.large`` (prints the JSON). From ``make bench``: ``run(results)``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

LARGE_ROWS = int(os.environ.get("BENCH_LARGE_ROWS", "2000000"))
LARGE_DAYS = int(os.environ.get("BENCH_LARGE_DAYS", "30"))  # denser days: more rows a day for the same total
BUDGET_S = 60
MARGIN_S = 10
LOADER_ROWS = 200_000
DAY = timedelta(days=1)

_SYNC = """
import sys
from snowwatch.services.dispatch import register_local
from snowwatch_local.stack import LocalStack
sync = LocalStack.local_function("sync")
register_local("sync", sync)  # continuations run in this process, after the run that queued them
from snowwatch.services import sync as sync_service
if len(sys.argv) > 2:  # only these views (comma-separated)
    sync_service.VIEWS = tuple(v for v in sync_service.VIEWS if v.name in sys.argv[2].split(","))
if len(sys.argv) > 3:  # the extraction alone: the post-load steps stay owed (a later run pays them)
    sync_service._post_load = lambda *args: {}
sync({"connector_id": sys.argv[1]})
"""

# Appended to a child's code: its own peak RSS (kB), on the last line of its stderr.
_PEAK = """
import sys
for _line in open("/proc/self/status"):
    if _line.startswith("VmHWM:"):
        print("peak_rss_kb", int(_line.split()[1]), file=sys.stderr, flush=True)
"""

_GENERATE = """
INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY (QUERY_ID, QUERY_TEXT, QUERY_TYPE, SESSION_ID, USER_NAME, ROLE_NAME,
    WAREHOUSE_ID, WAREHOUSE_NAME, WAREHOUSE_SIZE, QUERY_TAG, EXECUTION_STATUS, START_TIME, END_TIME,
    TOTAL_ELAPSED_TIME, COMPILATION_TIME, EXECUTION_TIME, QUEUED_PROVISIONING_TIME, QUEUED_REPAIR_TIME,
    QUEUED_OVERLOAD_TIME, LIST_EXTERNAL_FILES_TIME, BYTES_SCANNED, PERCENTAGE_SCANNED_FROM_CACHE, PARTITIONS_SCANNED,
    PARTITIONS_TOTAL, BYTES_SPILLED_TO_LOCAL_STORAGE, BYTES_SPILLED_TO_REMOTE_STORAGE, ROWS_PRODUCED,
    CREDITS_USED_CLOUD_SERVICES, QUERY_HASH, QUERY_PARAMETERIZED_HASH)
SELECT 'large-' || LPAD(TO_VARCHAR(s + {first}), 10, '0'),
       'SELECT * FROM ANALYTICS.PUBLIC.T' || TO_VARCHAR(MOD(s, 37)) || ' WHERE id = ' || TO_VARCHAR(s),
       'SELECT', 200000 + MOD(s, 5000), 'USER_' || TO_VARCHAR(MOD(s, 50)), 'ANALYST',
       MOD(s, 3) + 1, 'WH_' || TO_VARCHAR(MOD(s, 3) + 1), 'Small', IFF(MOD(s, 10) = 0, 'finance', NULL), 'SUCCESS',
       st, DATEADD(millisecond, 1500 + MOD(s, 5000), st), 1500 + MOD(s, 5000), 50, 1400 + MOD(s, 5000), 0, 0, 0, 0,
       1000000 + s, 0.5, 10, 100, 0, 0, MOD(s, 1000), 0.00001,
       'qh' || TO_VARCHAR(MOD(s, 997)), 'ph' || TO_VARCHAR(MOD(s, 113))
FROM (SELECT s, DATEADD(millisecond, -CAST(FLOOR(s * {step}) AS INTEGER), '{end}'::TIMESTAMP_NTZ) AS st
      FROM (SELECT SEQ8() AS s FROM TABLE(GENERATOR(ROWCOUNT => {n}))))
"""
# An attribution row for every generated query (its execution at 2 credits an hour, some acceleration).
_GENERATE_ATTRIBUTION = """
INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.QUERY_ATTRIBUTION_HISTORY (QUERY_ID, WAREHOUSE_ID, WAREHOUSE_NAME, QUERY_HASH,
    QUERY_PARAMETERIZED_HASH, QUERY_TAG, USER_NAME, START_TIME, END_TIME, CREDITS_ATTRIBUTED_COMPUTE,
    CREDITS_USED_QUERY_ACCELERATION)
SELECT QUERY_ID, WAREHOUSE_ID, WAREHOUSE_NAME, QUERY_HASH, QUERY_PARAMETERIZED_HASH, QUERY_TAG, USER_NAME, START_TIME,
       END_TIME, ROUND(EXECUTION_TIME / 1800000.0, 9), IFF(MOD(EXECUTION_TIME, 29) = 0, 0.001, 0)
FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY WHERE QUERY_ID LIKE 'large-%' AND QUERY_ID >= 'large-{first:010d}'
"""


def _pg() -> Any:
    # after the bench's local stack has set the environment (settings and Powertools read it)
    from snowwatch.db import get_connection
    from snowwatch.settings import JobSettings, get_settings

    return get_connection(get_settings(JobSettings))


def _generate(
    stack: Any, n: int, first: int = 0, days: float = LARGE_DAYS, end_ago: timedelta = DAY
) -> tuple[float, int]:
    """``n`` rows into fakesnow's QUERY_HISTORY (inside DuckDB), QUERY_IDs from ``first`` on, evenly over ``days``
    days ending ``end_ago`` before now, each with its attribution row; (seconds, distinct source QUERY_IDs)."""
    # after the bench's local stack has set the environment (settings and Powertools read it)
    from snowwatch_local import services

    end = datetime.now(UTC).replace(tzinfo=None) - end_ago
    step_ms = days * 86_400_000 / n
    t = time.perf_counter()
    with contextlib.closing(services.snowflake_connection(stack.fakesnow, database="SNOWFLAKE")) as sf:
        cur = sf.cursor()
        cur.execute(_GENERATE.format(step=step_ms, end=end.strftime("%Y-%m-%d %H:%M:%S"), n=n, first=first))
        cur.execute(_GENERATE_ATTRIBUTION.format(first=first))
        cur.execute("SELECT COUNT(DISTINCT QUERY_ID) FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY")
        distinct = int(cur.fetchone()[0])
    return time.perf_counter() - t, distinct


def _sync(stack: Any, connector_id: UUID, views: str | None = None, post_load: bool = True) -> tuple[float, int]:
    """One sync (and its continuations) in a child process, of ``views`` only when given (comma-separated names),
    without its post-load steps when not ``post_load``; (seconds, the child's own peak RSS in KB)."""
    env = {
        **os.environ,
        **stack.env(),
        "DISPATCH_MODE": "inline",
        "JOB_TIME_BUDGET_SECONDS": str(BUDGET_S),
        "JOB_STOP_MARGIN_SECONDS": str(MARGIN_S),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    args = [str(connector_id), *([views or ""] if views or not post_load else [])]
    return _child(_SYNC, [*args, *([] if post_load else ["no-post-load"])], env)


def _child(code: str, args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Run ``code`` in a child Python; (seconds, the child's own peak RSS in KB, its ``VmHWM`` as it ends)."""
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code + _PEAK, *args],
        check=False,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode(errors="replace")[-4000:])
        raise RuntimeError(f"sync process exited {proc.returncode}")
    last = proc.stderr.decode(errors="replace").strip().splitlines()[-1].split()
    return time.perf_counter() - t, int(last[1])


def _attribution_lookback(stack: Any, connector_id: UUID) -> dict[str, Any]:
    """QUERY_ATTRIBUTION_HISTORY alone re-read over its 7-day LOOKBACK, nothing changed at the source: seconds (the
    extraction, then the post-load steps it owes, each a child process), rows read, query rows written (the steps'
    included) and locked."""
    conn = _pg()
    conn.run(
        """UPDATE enterprise.sync_state SET watermark = now() - interval '7 days'
           WHERE connector_id = :c AND view_name = 'QUERY_ATTRIBUTION_HISTORY'""",
        c=connector_id,
    )
    written = """SELECT COALESCE(sum(n_tup_upd + n_tup_ins), 0) FROM pg_stat_user_tables
                 WHERE relid IN (SELECT relid FROM pg_partition_tree('enterprise.snowflake_query_history'))"""
    locked = """SELECT count(*) FROM enterprise.snowflake_query_history
                WHERE connector_id = :c AND xmax::text::bigint >= :x AND start_time >= now() - interval '8 days'"""
    before = int(conn.run(written)[0][0])
    xid = int(conn.run("SELECT txid_current()")[0][0]) % 2**32
    seconds, _ = _sync(stack, connector_id, "QUERY_ATTRIBUTION_HISTORY", post_load=False)
    run = conn.run(
        "SELECT rows FROM enterprise.job_runs WHERE connector_id = :c ORDER BY created_at DESC LIMIT 1", c=connector_id
    )[0][0]
    post_load_s, _ = _sync(stack, connector_id, "-")  # no view left to read: the post-load steps it owes
    conn.run("SELECT pg_stat_clear_snapshot()")
    return {
        "seconds": round(seconds + post_load_s, 1),
        "extraction_s": round(seconds, 1),
        "post_load_s": round(post_load_s, 1),
        "rows_read": run.get("QUERY_ATTRIBUTION_HISTORY"),
        "rows_written": int(conn.run(written)[0][0]) - before,
        "rows_locked": int(conn.run(locked, c=connector_id, x=xid)[0][0]),
    }


def _loader_rows_per_s(connector_id: UUID) -> dict[str, float]:
    """cost_sync.load alone into the real table, LOADER_ROWS rows in 50k batches given as Arrow tables (what the sync's
    QUERY_HISTORY windows give it), for a connector that already has rows: ``fresh`` = a backfill window (no stored
    query near the batch's time range), ``upsert`` = new rows inside an already loaded range. Each batch is staged,
    priced by the hourly share and inserted (``cost_sync._load_queries``); building the Arrow tables is not timed."""
    # after the bench's local stack has set the environment (settings and Powertools read it)
    import pyarrow as pa

    from snowwatch.db import arrow_copy, transaction
    from snowwatch.repositories import cost_sync
    from snowwatch.repositories import jobs as jobs_repo
    from snowwatch.services import query_retention
    from snowwatch.settings import JobSettings, get_settings
    from snowwatch.snowflake import rows

    conn = _pg()
    jobs_repo.bound_statements(conn, get_settings(JobSettings).job_statement_timeout_seconds)  # as a job's session
    start = datetime(2020, 1, 1, tzinfo=UTC)
    # the days' partitions first, as the sync makes them before each window (0420)
    query_retention.prepare_window(conn, start, start + timedelta(seconds=2 * LOADER_ROWS + 1))
    out = {}
    for case, offset in (("fresh", 0), ("upsert", LOADER_ROWS), ("copy_floor", 2 * LOADER_ROWS)):
        batch: list[rows.QueryRow] = []
        elapsed = 0.0
        for i in range(LOADER_ROWS):
            s = i + offset
            st = start + timedelta(seconds=i, milliseconds=offset and 500)
            batch.append(
                rows.QueryRow(
                    f"loader-{s:010d}", f"SELECT * FROM T{s % 37} WHERE id = {s}", "SELECT", f"USER_{s % 50}",
                    "ANALYST", 1, "WH_1", "Small", None, "SUCCESS", None, st, st + timedelta(seconds=2), 2000, 1900,
                    50, 0, 0, 0, 0, 1_000_000 + s, 0.5, 10, 100, 0, 0, s % 1000, Decimal(0), f"qh{s % 997}",
                    f"ph{s % 113}", None, None, None,
                )
            )  # fmt: skip
            if len(batch) == 50_000:
                table = pa.table({f: [getattr(r, f) for r in batch] for f in rows.QueryRow._fields})
                t = time.perf_counter()
                with transaction(conn):
                    if case == "copy_floor":  # the bare write: one COPY of the same CSV into the real table
                        data = arrow_copy.with_tenant(table, ("connector_id", connector_id))
                        conn.run(
                            f"COPY {cost_sync.QUERY_TABLE} ({', '.join(data.column_names)}) "
                            "FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                            stream=arrow_copy.csv_chunks(data),
                        )
                    else:
                        cost_sync.load(conn, connector_id, "QUERY_HISTORY", table)
                elapsed += time.perf_counter() - t
                batch = []
        out[case] = LOADER_ROWS / elapsed
    return out


def measure() -> dict[str, Any]:
    # after the bench's local stack has set the environment (settings and Powertools read it)
    from snowwatch_local.stack import LocalStack
    from tests.integration.cost_helpers import new_connector

    name = f"snowwatch_bench_large_{os.getpid()}"
    stack = LocalStack(database=name, fresh_database=True, size="tiny", dispatch_mode="inline")
    stack.start()
    try:
        generate_s, source_rows = _generate(stack, LARGE_ROWS)
        cid = new_connector(stack, "bench-large", backfill_days=60)  # the tiny account (35 days) too
        conn = _pg()
        backfill_s, rss_kb = _sync(stack, cid)
        runs = conn.run(
            "SELECT status, progress FROM enterprise.job_runs WHERE connector_id = :c ORDER BY created_at", c=cid
        )
        loaded = int(
            conn.run("SELECT count(*) FROM enterprise.snowflake_query_history WHERE connector_id = :c", c=cid)[0][0]
        )
        # the next day: a day's rows (and their attribution) arrive, then the daily run reads them with the lookbacks
        day_rows = LARGE_ROWS // LARGE_DAYS
        _, source_after = _generate(stack, day_rows, first=LARGE_ROWS, days=23 / 24, end_ago=timedelta(hours=1))
        incremental_s, rss2_kb = _sync(stack, cid)
        count = "SELECT count(*) FROM enterprise.snowflake_query_history WHERE connector_id = :c"
        last = conn.run(
            "SELECT status FROM enterprise.job_runs WHERE connector_id = :c ORDER BY created_at DESC LIMIT 1", c=cid
        )[0][0]
        incremental_exact = int(int(conn.run(count, c=cid)[0][0]) == source_after and last == "succeeded")
        lookback = _attribution_lookback(stack, cid)
        conn.run("ANALYZE enterprise.snowflake_query_history")
        size = conn.run(  # the daily partitions and DEFAULT (0420): the parent itself stores nothing
            """SELECT sum(pg_total_relation_size(relid)), sum(pg_relation_size(relid)),
                      (SELECT count(*) FROM enterprise.snowflake_query_history)
               FROM pg_partition_tree('enterprise.snowflake_query_history') WHERE isleaf"""
        )[0]
        loader = _loader_rows_per_s(cid)
        return {
            "large_sync_rows_per_s": round(source_rows / backfill_s),
            "large_sync_postgres_rows_per_s": round(loader["fresh"]),
            "large_sync_peak_rss_mb": round(max(rss_kb, rss2_kb) / 1024, 1),
            "query_row_bytes": round(size[0] / size[2]),
            "backfill_runs": len(runs),
            "backfill_exact": int(loaded == source_rows and all(r[0] == "succeeded" for r in runs)),
            "incremental_sync_s": round(incremental_s, 1),
            "large": {
                "source_query_rows": source_rows,
                "loaded_query_rows": loaded,
                "generate_in_fakesnow_s": round(generate_s, 1),
                "backfill_s": round(backfill_s, 1),
                "incremental_new_rows": day_rows,
                "incremental_exact": incremental_exact,
                "run_budget_s": BUDGET_S,
                "stop_margin_s": MARGIN_S,
                "days": LARGE_DAYS,
                "query_table_heap_bytes_per_row": round(size[1] / size[2]),
                "loader_upsert_rows_per_s": round(loader["upsert"]),
                "copy_floor_rows_per_s": round(loader["copy_floor"]),
                "attribution_lookback": lookback,
                "runs": [{"status": r[0], **(r[1] or {})} for r in runs],
            },
        }
    finally:
        stack.stop()
        # after the bench's local stack has set the environment (settings and Powertools read it)
        from snowwatch_local.services import drop_database

        drop_database(name)


def run(results: dict[str, Any]) -> None:
    out = measure()
    results.update({k: v for k, v in out.items() if k != "large"})
    results["large"] = out["large"]


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2, default=str))
