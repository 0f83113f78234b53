"""The daily rollups the sync writes: query rollups (user, warehouse, query tag, dbt model) and per-hash day and week
rows per connector-local day, spend rollups (credits and warehouse load per local day). Each builder recomputes the
local days [first, end) it is given, so the sync walks them a window at a time (services/post_load.py) and every
statement is bounded by its window. Also their retention (ROLLUP_RETENTION_MONTHS): rows of older local days are
deleted a month at a time, the retained-from mark ("retained:rollups") moved in the same transaction."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from snowwatch.db import Connection, query_one
from snowwatch.repositories import sync_state
from snowwatch.repositories.cost import (
    CS_FRACTION,
    CS_FRACTION_OF_DAY,
    CS_FRACTIONS,
    billed_cloud_services,
    cloud_services_changed,
    monday,
    raw_from,
    sample_pair,
)

LOCAL_DAY = "((start_time) AT TIME ZONE CAST(:tz AS text))::date"
# The raw rows of local days [d0, d1): start_time between the two local midnights.
LOCAL_DAYS = """start_time >= (CAST(:d0 AS date)::timestamp AT TIME ZONE CAST(:tz AS text))
    AND start_time < (CAST(:d1 AS date)::timestamp AT TIME ZONE CAST(:tz AS text))"""
# While the rollups are rebuilt in a timezone (after a change, or the first build), snowflake_rollup_state holds
# BUILDING + that timezone: readers see a timezone other than the connector's and read the raw rows (services/cost.py
# rolled, budgets), and a continuation goes on from the owed mark instead of starting over.
BUILDING = "~"
RETAINED = "rollups"  # the retained-from mark of every rollup table (sync_state "retained:rollups")


def midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))


def local_day(at: datetime, tz: str) -> date:
    return at.astimezone(ZoneInfo(tz)).date()


def rollups_from(conn: Connection, connector_id: UUID, tz: str) -> date | None:
    """The first local day the rollups are all kept for (None: retention deleted none yet)."""
    kept = sync_state.retained_from(conn, connector_id, RETAINED)
    if kept is None:
        return None
    local = kept.astimezone(ZoneInfo(tz))
    return local.date() if local.time() == time(0) else local.date() + timedelta(days=1)


def _first_raw_day(conn: Connection, connector_id: UUID, tz: str, tables: tuple[str, ...]) -> date | None:
    """The local day before the earliest raw row of ``tables`` (a day early: rows built in another timezone may carry
    the day before); None when there are none. Each min() is the first entry of a (connector_id, start_time) index."""
    mins = " UNION ALL ".join(
        f"SELECT min(start_time) AS t FROM enterprise.{t} WHERE connector_id = :c" for t in tables
    )
    row = query_one(conn, f"SELECT min(t) AS t FROM ({mins}) m", c=connector_id)
    if row is None or row["t"] is None:
        return None
    return local_day(row["t"], tz) - timedelta(days=1)


def start_rebuild(conn: Connection, connector_id: UUID, rollup: str, tz: str) -> bool:
    """Whether every day of ``rollup`` ('query' or 'spend') must be rebuilt in ``tz``: never built, or built in
    another timezone, and no rebuild in ``tz`` under way. Marks one under way (BUILDING + tz) when so."""
    row = query_one(
        conn,
        """SELECT timezone FROM enterprise.snowflake_rollup_state WHERE connector_id = :c AND rollup = :r
           FOR UPDATE""",
        c=connector_id,
        r=rollup,
    )
    if row is not None and row["timezone"] in (tz, BUILDING + tz):
        return False
    _set_state(conn, connector_id, rollup, BUILDING + tz)
    return True


def built(conn: Connection, connector_id: UUID, rollup: str, tz: str) -> None:
    """Every day of ``rollup`` is built in ``tz`` (readers use the rollups)."""
    _set_state(conn, connector_id, rollup, tz)


def _set_state(conn: Connection, connector_id: UUID, rollup: str, tz: str) -> None:
    conn.run(
        """INSERT INTO enterprise.snowflake_rollup_state (connector_id, rollup, timezone, built_at)
           VALUES (:c, :r, :tz, now())
           ON CONFLICT (connector_id, rollup) DO UPDATE SET timezone = EXCLUDED.timezone, built_at = now()""",
        c=connector_id,
        r=rollup,
        tz=tz,
    )


def query_rebuild_from(conn: Connection, connector_id: UUID, tz: str, since: datetime | None) -> date | None:
    """The first local day the query rollups are rebuilt from: ``since``'s day, earlier when a UTC day's billed
    cloud-services fraction changed since it was built (``cloud_services_changed``: a late METERING_DAILY_HISTORY
    update), the first day of the raw rows when ``since`` is None or the rollups are not built in ``tz``
    (``start_rebuild``); never a day whose raw rows retention deleted (nothing to rebuild it from) nor one before the
    kept rollups. None: nothing to build."""
    changed = cloud_services_changed(conn, connector_id)
    if since is not None and changed is not None:
        since = min(since, changed)
    first: date | None
    if start_rebuild(conn, connector_id, "query", tz) or since is None:
        first = _first_raw_day(conn, connector_id, tz, ("snowflake_query_history",))
    else:
        first = local_day(since, tz)
    return _kept(first, raw_from(conn, connector_id, tz), rollups_from(conn, connector_id, tz))


def spend_rebuild_from(conn: Connection, connector_id: UUID, tz: str, since: datetime | None) -> date | None:
    """The first local day the spend rollups are rebuilt from: ``since``'s day, or the first day of the metering
    and load rows when ``since`` is None or they are not built in ``tz``; never one before the kept rollups."""
    first: date | None
    if start_rebuild(conn, connector_id, "spend", tz) or since is None:
        tables = ("snowflake_warehouse_metering", "snowflake_metering_history", "snowflake_warehouse_load")
        first = _first_raw_day(conn, connector_id, tz, tables)
    else:
        first = local_day(since, tz)
    return _kept(first, rollups_from(conn, connector_id, tz))


def _kept(first: date | None, *bounds: date | None) -> date | None:
    if first is None:
        return None
    return max([first, *(b for b in bounds if b is not None)])


def query_rows_up_to(conn: Connection, connector_id: UUID, since: datetime, until: datetime, limit: int) -> int:
    """How many raw query rows the connector has in [since, until), counted up to ``limit + 1`` (an index range of
    key, (connector_id, start_time, query_id), that stops there)."""
    rows = conn.run(
        """SELECT count(*) FROM (SELECT 1 FROM enterprise.snowflake_query_history
               WHERE connector_id = :c AND start_time >= CAST(:a AS timestamptz)
                 AND start_time < CAST(:b AS timestamptz) LIMIT :n) r""",
        c=connector_id,
        a=since,
        b=until,
        n=limit + 1,
    )
    return int(rows[0][0])


def sample(query_id: str, start_time: str) -> str:
    """The two sample columns (sample_query_id, sample_start_time) of a group: :func:`cost.sample_pair`."""
    pair = sample_pair(query_id, start_time)
    return f"({pair})[1], CAST(({pair})[2] AS timestamptz)"


def rebuild_query_days(conn: Connection, connector_id: UUID, tz: str, first: date, end: date) -> int:
    """Recompute the query rollups (user, warehouse, query tag, dbt model), the per-hash day rows of local days
    [first, end) and the week rows of the weeks they touch, from the raw rows. Cloud services are summed billed
    (x the UTC day's billed fraction) and raw; the UTC days starting in the range record the fraction used
    (``cs_fraction_applied``). Returns the rows written."""
    params = {"c": connector_id, "tz": tz, "d0": first, "d1": end}
    # Each query once, with its billed cloud services (its UTC day's WAREHOUSE_METERING daily row).
    source = f"""(SELECT q.*, {billed_cloud_services("q", CS_FRACTION_OF_DAY)} AS cs_billed
            FROM enterprise.snowflake_query_history q
            LEFT JOIN {CS_FRACTIONS.format(q="q")}
            WHERE q.connector_id = :c AND {LOCAL_DAYS.replace("start_time", "q.start_time")}) q"""
    conn.run(
        """DELETE FROM enterprise.snowflake_query_rollup
           WHERE connector_id = :c AND usage_date >= :d0 AND usage_date < :d1""",
        c=connector_id,
        d0=first,
        d1=end,
    )
    conn.run(
        """DELETE FROM enterprise.snowflake_query_hash_daily
           WHERE connector_id = :c AND days = 1 AND usage_date >= :d0 AND usage_date < :d1""",
        c=connector_id,
        d0=first,
        d1=end,
    )
    measures = f"""count(*), COALESCE(sum(credits_attributed_compute), 0), sum(cs_billed),
        sum(credits_used_cloud_services), sum(total_elapsed_time), sum(bytes_scanned),
        sum(bytes_spilled_to_local_storage), sum(bytes_spilled_to_remote_storage),
        sum(bytes_scanned * percentage_scanned_from_cache)::numeric(30, 0), sum(partitions_scanned),
        sum(partitions_total),
        count(*) FILTER (WHERE partitions_total >= 1000 AND partitions_scanned >= 0.9 * partitions_total),
        sum(queued_overload_time), {sample("query_id", "start_time")}"""
    # The four dimensions and the per-hash day rows in one pass over the raw rows (GROUPING SETS: one scan, a hash
    # table per set), not one scan each: the scan of a day's raw rows is what a rollup window costs.
    dims = {
        "user": ("COALESCE(user_name, '')", "COALESCE(role_name, '')"),
        "warehouse": ("COALESCE(warehouse_name, '')",),
        "query_tag": ("COALESCE(tag_key, '')",),
        "dbt_model": ("COALESCE(dbt_model, '')",),
        "hash": ("COALESCE(query_parameterized_hash, '')",),
    }
    dim = "CASE " + " ".join(f"WHEN GROUPING({keys[0]}) = 0 THEN '{name}'" for name, keys in dims.items()) + " END"
    key1 = "COALESCE(" + ", ".join(keys[0] for keys in dims.values()) + ")"
    sets = ", ".join(f"({LOCAL_DAY}, {', '.join(keys)})" for keys in dims.values())
    hash_columns = """(connector_id, days, usage_date, query_parameterized_hash, queries, credits_compute,
            credits_cloud_services, credits_cloud_services_used, elapsed_ms, sample_query_id, sample_start_time)"""
    # a group's columns as the query rollup stores them (the per-hash rows take theirs from the same groups)
    rollup_columns = """dim, usage_date, key1, key2, queries, credits_compute, credits_cloud_services,
            credits_cloud_services_used, elapsed_ms, bytes_scanned, bytes_spilled_local, bytes_spilled_remote,
            cache_scanned_bytes, partitions_scanned, partitions_total, full_scan_queries, queued_overload_ms,
            sample_query_id, sample_start_time"""
    written = conn.run(
        f"""WITH g ({rollup_columns}) AS (
                SELECT {dim}, {LOCAL_DAY}, {key1}, COALESCE({dims["user"][1]}, ''), {measures}
                FROM {source}
                GROUP BY GROUPING SETS ({sets})
            ), rollup AS (
                INSERT INTO enterprise.snowflake_query_rollup (connector_id, {rollup_columns})
                SELECT :c, {rollup_columns} FROM g WHERE dim <> 'hash'
                RETURNING 1
            ), hashes AS (
                INSERT INTO enterprise.snowflake_query_hash_daily {hash_columns}
                SELECT :c, 1, usage_date, key1, queries, credits_compute, credits_cloud_services,
                       credits_cloud_services_used, elapsed_ms, sample_query_id, sample_start_time
                FROM g WHERE dim = 'hash' ORDER BY usage_date, key1
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM rollup) + (SELECT count(*) FROM hashes)""",
        **params,
    )
    total = int(written[0][0])
    # The weeks of those days, from the day rows (days before ``first`` in the first week are already built).
    weeks = {"c": connector_id, "w0": monday(first), "w1": monday(end - timedelta(days=1)) + timedelta(days=7)}
    conn.run(
        """DELETE FROM enterprise.snowflake_query_hash_daily
           WHERE connector_id = :c AND days = 7 AND usage_date >= :w0 AND usage_date < :w1""",
        **weeks,
    )
    conn.run(
        f"""INSERT INTO enterprise.snowflake_query_hash_daily {hash_columns}
            SELECT :c, 7, date_trunc('week', usage_date)::date, query_parameterized_hash, sum(queries),
                   sum(credits_compute), sum(credits_cloud_services), sum(credits_cloud_services_used),
                   sum(elapsed_ms), {sample("sample_query_id", "sample_start_time")}
            FROM enterprise.snowflake_query_hash_daily
            WHERE connector_id = :c AND days = 1 AND usage_date >= :w0 AND usage_date < :w1
            GROUP BY 3, 4 ORDER BY 3, 4""",
        **weeks,
    )
    conn.run(  # the UTC days starting in the range now carry the fraction their queries were summed with
        f"""UPDATE enterprise.snowflake_daily_costs f SET cs_fraction_applied = {CS_FRACTION.format(f="f")}
            WHERE f.connector_id = :c AND f.service_type = 'WAREHOUSE_METERING'
              AND {LOCAL_DAYS.replace("start_time", "(f.usage_date::timestamp AT TIME ZONE 'UTC')")}
              AND f.cs_fraction_applied IS DISTINCT FROM {CS_FRACTION.format(f="f")}""",
        **params,
    )
    return total


def rebuild_spend_days(conn: Connection, connector_id: UUID, tz: str, first: date, end: date) -> int:
    """Recompute credits per local day x warehouse and x service type, and warehouse load per local day, for local
    days [first, end) from the metering and load rows. Returns the rows written."""
    params = {"c": connector_id, "tz": tz, "d0": first, "d1": end}
    for table in ("snowflake_spend_daily", "snowflake_warehouse_load_daily"):
        conn.run(
            f"DELETE FROM enterprise.{table} WHERE connector_id = :c AND usage_date >= :d0 AND usage_date < :d1",
            c=connector_id,
            d0=first,
            d1=end,
        )
    total = 0
    conn.run(
        f"""INSERT INTO enterprise.snowflake_spend_daily
            SELECT :c, 'warehouse', {LOCAL_DAY}, warehouse_name, sum(credits_used),
                   sum(credits_used_compute), sum(credits_used_cloud_services),
                   sum(credits_used_compute) FILTER (WHERE credits_attributed_compute_queries IS NOT NULL),
                   sum(credits_attributed_compute_queries), count(*)
            FROM enterprise.snowflake_warehouse_metering
            WHERE connector_id = :c AND {LOCAL_DAYS}
            GROUP BY 3, 4 ORDER BY 3, 4""",
        **params,
    )
    total += int(conn.row_count or 0)
    conn.run(
        f"""INSERT INTO enterprise.snowflake_spend_daily
            SELECT :c, 'service_type', {LOCAL_DAY}, service_type, sum(credits_used),
                   sum(credits_used_compute), sum(credits_used_cloud_services), NULL, NULL, count(*)
            FROM enterprise.snowflake_metering_history
            WHERE connector_id = :c AND {LOCAL_DAYS}
            GROUP BY 3, 4 ORDER BY 3, 4""",
        **params,
    )
    total += int(conn.row_count or 0)
    conn.run(
        f"""INSERT INTO enterprise.snowflake_warehouse_load_daily
            SELECT :c, {LOCAL_DAY}, warehouse_name, sum(avg_running), sum(avg_queued_load), count(*),
                   count(*) FILTER (WHERE avg_queued_load > 0)
            FROM enterprise.snowflake_warehouse_load
            WHERE connector_id = :c AND {LOCAL_DAYS}
            GROUP BY 2, 3 ORDER BY 2, 3""",
        **params,
    )
    total += int(conn.row_count or 0)
    return total


# ---------------------------------------------------------------- retention (ROLLUP_RETENTION_MONTHS)

# Every rollup table with the (leading) keys its primary key starts with, so each min() is an index probe.
_RETAINED = (
    ("snowflake_query_rollup", "dim", ("user", "warehouse", "query_tag", "dbt_model")),
    ("snowflake_query_hash_daily", "days", (1, 7)),
    ("snowflake_spend_daily", "dim", ("warehouse", "service_type")),
    ("snowflake_warehouse_load_daily", None, (None,)),
)


def oldest_rollup_day(conn: Connection, connector_id: UUID) -> date | None:
    """The oldest local day any rollup row of the connector carries (None: none)."""
    parts, params = [], {}
    for i, (table, key, values) in enumerate(_RETAINED):
        for j, value in enumerate(values):
            where = "connector_id = :c" + (f" AND {key} = :k{i}_{j}" if key else "")
            parts.append(f"SELECT min(usage_date) AS d FROM enterprise.{table} WHERE {where}")
            if key:
                params[f"k{i}_{j}"] = value
    row = query_one(conn, f"SELECT min(d) AS d FROM ({' UNION ALL '.join(parts)}) m", c=connector_id, **params)
    return row["d"] if row else None


def delete_rollups(conn: Connection, connector_id: UUID, first: date, until: date) -> int:
    """Delete every rollup row of local days [first, until) (week rows by their Monday). Returns the rows deleted."""
    total = 0
    for table, key, values in _RETAINED:
        keys = f" AND {key} = ANY(CAST(:k AS {'smallint' if key == 'days' else 'text'}[]))" if key else ""
        conn.run(
            f"""DELETE FROM enterprise.{table}
                WHERE connector_id = :c{keys} AND usage_date >= :d0 AND usage_date < :d1""",
            c=connector_id,
            d0=first,
            d1=until,
            **({"k": list(values)} if key else {}),
        )
        total += int(conn.row_count or 0)
    return total


# ---------------------------------------------------------------- one-shot rebuilds (tests, benchmarks)

LAST = date(2200, 1, 1)  # one-shot rebuilds cover every day from their first on


def rebuild_rollups(conn: Connection, connector_id: UUID, tz: str, since: datetime | None) -> int:
    """Every query rollup day from ``since``'s day (every day when None) in one window, in the caller's
    transaction: what the sync's walk writes, for tests and benchmarks (unbounded: not for the sync)."""
    first = query_rebuild_from(conn, connector_id, tz, since)
    total = rebuild_query_days(conn, connector_id, tz, first, LAST) if first is not None else 0
    built(conn, connector_id, "query", tz)
    return total


def rebuild_spend_rollups(conn: Connection, connector_id: UUID, tz: str, since: datetime | None) -> int:
    """Every spend rollup day from ``since``'s day (every day when None) in one window, in the caller's
    transaction (tests and benchmarks)."""
    first = spend_rebuild_from(conn, connector_id, tz, since)
    total = rebuild_spend_days(conn, connector_id, tz, first, LAST) if first is not None else 0
    built(conn, connector_id, "spend", tz)
    return total
