"""Cost reads for the API (their rollups are built by repositories/rollups.py). Every query filters on connector_id.

Time ranges arrive as [lo, hi) timestamptz computed from the connector's timezone; days are
bucketed with ``AT TIME ZONE :tz`` so a connector in Europe/Berlin sees Berlin days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo

from snowwatch.db import Connection, query, query_one
from snowwatch.repositories import sync_state

LOCAL_DAY = "(({col}) AT TIME ZONE CAST(:tz AS text))::date"


def _day(col: str) -> str:
    return LOCAL_DAY.format(col=col)


# ---------------------------------------------------------------- cloud services: billed fraction per UTC day

# Snowflake bills cloud services only above 10% of the day's warehouse compute (METERING_DAILY_HISTORY, UTC days).
# Queries run on warehouses, so a query's day is read from the WAREHOUSE_METERING row: billed fraction =
# max(0, used + adjustment) / used, to 15 decimals; 1 when the day has no row yet (or no cloud services) -- the raw
# figure until METERING_DAILY_HISTORY has the day. ``{f}`` is that row's alias (NULL columns when absent: ELSE).
CS_FRACTION = """round(CASE WHEN {f}.credits_used_cloud_services > 0
    THEN GREATEST({f}.credits_used_cloud_services + {f}.credits_adjustment_cloud_services, 0)
         / {f}.credits_used_cloud_services
    ELSE 1 END, 15)"""
# The WAREHOUSE_METERING daily row of each query's UTC start day (a page of queries: index lookups).
CS_DAY_JOIN = """LEFT JOIN enterprise.snowflake_daily_costs {f}
    ON {f}.connector_id = {q}.connector_id AND {f}.service_type = 'WAREHOUSE_METERING'
   AND {f}.usage_date = ({q}.start_time AT TIME ZONE 'UTC')::date"""
# For whole-history scans: every UTC day's fraction from the connector's first daily row to its last (gaps: 1), as
# rows ``fr(usage_date, fraction)`` to hash-join on the query's UTC day. Built on generate_series, whose row estimate
# does not depend on statistics: right after a bulk load (no statistics, or a connector's daily rows estimated at 1)
# a plain join on snowflake_daily_costs could become a nested loop over millions of queries x hundreds of days.
CS_FRACTIONS = f"""(SELECT g::date AS usage_date, {CS_FRACTION.format(f="f")} AS fraction
    FROM (SELECT min(usage_date) AS lo, max(usage_date) AS hi FROM enterprise.snowflake_daily_costs
          WHERE connector_id = :c AND service_type = 'WAREHOUSE_METERING') b
    CROSS JOIN LATERAL generate_series(b.lo, b.hi, interval '1 day') g
    LEFT JOIN enterprise.snowflake_daily_costs f
      ON f.connector_id = :c AND f.service_type = 'WAREHOUSE_METERING' AND f.usage_date = g::date) fr
    ON fr.usage_date = ({{q}}.start_time AT TIME ZONE 'UTC')::date"""
# A query's fraction through that join (no row: a day before or after the daily rows, 1).
CS_FRACTION_OF_DAY = "COALESCE(fr.fraction, 1)"


def billed_cloud_services(q: str, fraction: str) -> str:
    """A query's billed cloud-services credits: its raw credits x its UTC day's billed ``fraction`` (9 decimals,
    Snowflake's precision, so sums over any set of queries compose exactly)."""
    return f"round({q}.credits_used_cloud_services * {fraction}, 9)"


def cloud_services_changed(conn: Connection, connector_id: UUID) -> datetime | None:
    """The first UTC day whose billed fraction differs from the one the query rollups were built with (a late
    METERING_DAILY_HISTORY update, a day loaded since), as that day's UTC midnight; None when none differs."""
    row = query_one(
        conn,
        f"""SELECT min(usage_date)::text AS d FROM enterprise.snowflake_daily_costs f
            WHERE connector_id = :c AND service_type = 'WAREHOUSE_METERING'
              AND cs_fraction_applied IS DISTINCT FROM {CS_FRACTION.format(f="f")}""",
        c=connector_id,
    )
    if not row or row["d"] is None:
        return None
    return datetime.combine(date.fromisoformat(row["d"]), time.min, tzinfo=UTC)


# ---------------------------------------------------------------- rollups (built by repositories/rollups.py)


class Span(NamedTuple):
    """Local days first..last of a connector and the [lo, hi) instants they cover."""

    first: date
    last: date
    lo: datetime
    hi: datetime
    tz: str


def rollup_timezone(conn: Connection, connector_id: UUID, rollup: str) -> str | None:
    """The timezone the connector's 'spend' or 'query' rollups were built in (None: never built)."""
    row = query_one(
        conn,
        "SELECT timezone FROM enterprise.snowflake_rollup_state WHERE connector_id = :c AND rollup = :r",
        c=connector_id,
        r=rollup,
    )
    return row["timezone"] if row else None


def monday(day: date) -> date:
    """The Monday starting ``day``'s week (Postgres date_trunc('week'))."""
    return day - timedelta(days=day.weekday())


def raw_from(conn: Connection, connector_id: UUID, tz: str) -> date | None:
    """The first local day whose raw query rows are all kept (None: none deleted by retention yet)."""
    kept = sync_state.retained_from(conn, connector_id)
    if kept is None:
        return None
    local = kept.astimezone(ZoneInfo(tz))
    return local.date() if local.time() == time(0) else local.date() + timedelta(days=1)


# ---------------------------------------------------------------- spend


def rate(conn: Connection, connector_id: UUID, d_lo: date, d_hi: date) -> dict[str, Any] | None:
    """Currency actually paid per credit in the range (ORGANIZATION_USAGE), when the sync found it."""
    return query_one(
        conn,
        """SELECT sum(currency_amount) AS amount, sum(credits_billed) FILTER (WHERE currency_amount IS NOT NULL)
                  AS credits
           FROM enterprise.snowflake_daily_costs
           WHERE connector_id = :c AND usage_date BETWEEN :lo AND :hi""",
        c=connector_id,
        lo=d_lo,
        hi=d_hi,
    )


def adjustments(conn: Connection, connector_id: UUID, span: Span, previous: Span) -> list[dict[str, Any]]:
    """The daily cloud-services adjustment (<= 0) per service type, over ``span``'s days (``adj``) and over
    ``previous``'s (``prev_adj``). METERING_DAILY_HISTORY days are UTC days, matched to local days by date."""
    return query(
        conn,
        """SELECT service_type AS key,
                  COALESCE(sum(credits_adjustment_cloud_services) FILTER (WHERE usage_date >= :first), 0) AS adj,
                  COALESCE(sum(credits_adjustment_cloud_services) FILTER (WHERE usage_date < :first), 0) AS prev_adj
           FROM enterprise.snowflake_daily_costs
           WHERE connector_id = :c AND usage_date BETWEEN :pfirst AND :last
           GROUP BY service_type""",
        c=connector_id,
        first=span.first,
        last=span.last,
        pfirst=previous.first,
    )


def first_spend_day(conn: Connection, connector_id: UUID, tz: str, rolled: bool) -> date | None:
    """The connector's first local day with metered spend (None: no spend at all)."""
    if rolled:
        sql = """SELECT min(usage_date)::text AS d FROM enterprise.snowflake_spend_daily
                 WHERE connector_id = :c AND dim = 'service_type'"""
        row = query_one(conn, sql, c=connector_id)
    else:
        sql = f"""SELECT {_day("min(start_time)")}::text AS d FROM enterprise.snowflake_metering_history
                  WHERE connector_id = :c"""
        row = query_one(conn, sql, c=connector_id, tz=tz)
    return date.fromisoformat(row["d"]) if row and row["d"] else None


def spend_by_service(conn: Connection, connector_id: UUID, span: Span, rolled: bool) -> list[dict[str, Any]]:
    if rolled:
        sql = """SELECT key, sum(credits) AS credits, sum(credits_compute) AS compute,
                        sum(credits_cloud_services) AS cloud_services
                 FROM enterprise.snowflake_spend_daily
                 WHERE connector_id = :c AND dim = 'service_type' AND usage_date BETWEEN :first AND :last
                 GROUP BY key ORDER BY credits DESC"""
    else:
        sql = """SELECT service_type AS key, sum(credits_used) AS credits, sum(credits_used_compute) AS compute,
                        sum(credits_used_cloud_services) AS cloud_services
                 FROM enterprise.snowflake_metering_history
                 WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi
                 GROUP BY service_type ORDER BY credits DESC"""
    return query(conn, sql, **_span_params(connector_id, span, rolled))


def credits_by_period(
    conn: Connection, connector_id: UUID, span: Span, previous: Span
) -> tuple[list[dict[str, Any]], Any]:
    """Overview from the rollup in one pass: per service type in ``span``, and the total of ``previous``
    (the days just before it)."""
    rows = query(
        conn,
        """SELECT key, sum(credits) FILTER (WHERE usage_date >= :first) AS credits,
                  sum(credits) FILTER (WHERE usage_date < :first) AS previous
           FROM enterprise.snowflake_spend_daily
           WHERE connector_id = :c AND dim = 'service_type' AND usage_date BETWEEN :pfirst AND :last
           GROUP BY key""",
        c=connector_id,
        first=span.first,
        last=span.last,
        pfirst=previous.first,
    )
    current = sorted((r for r in rows if r["credits"] is not None), key=lambda r: r["credits"], reverse=True)
    prev = [r["previous"] for r in rows if r["previous"] is not None]
    return current, (sum(prev) if prev else None)


def spend_by_warehouse(conn: Connection, connector_id: UUID, span: Span, rolled: bool) -> list[dict[str, Any]]:
    if rolled:
        sql = """SELECT key, sum(credits) AS credits, sum(credits_compute) AS compute,
                        sum(credits_cloud_services) AS cloud_services, sum(compute_complete) AS compute_complete,
                        sum(attributed) AS attributed, sum(hours) AS metered_hours
                 FROM enterprise.snowflake_spend_daily
                 WHERE connector_id = :c AND dim = 'warehouse' AND usage_date BETWEEN :first AND :last
                 GROUP BY key ORDER BY credits DESC"""
    else:
        sql = """SELECT warehouse_name AS key, sum(credits_used) AS credits, sum(credits_used_compute) AS compute,
                        sum(credits_used_cloud_services) AS cloud_services,
                        sum(credits_used_compute) FILTER (WHERE credits_attributed_compute_queries IS NOT NULL)
                            AS compute_complete,
                        sum(credits_attributed_compute_queries) AS attributed, count(*) AS metered_hours
                 FROM enterprise.snowflake_warehouse_metering
                 WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi
                 GROUP BY warehouse_name ORDER BY credits DESC"""
    return query(conn, sql, **_span_params(connector_id, span, rolled))


def daily(conn: Connection, connector_id: UUID, span: Span, group_by: str, rolled: bool) -> list[dict[str, Any]]:
    """Credits per local day, grouped by service type, warehouse, or nothing ('total')."""
    if rolled:
        dim = "warehouse" if group_by == "warehouse" else "service_type"
        key = "'total'" if group_by == "total" else "key"
        return _days(
            query(
                conn,
                f"""SELECT usage_date::text AS day, {key} AS key, sum(credits) AS credits,
                           sum(credits_compute) AS compute, sum(credits_cloud_services) AS cloud_services
                FROM enterprise.snowflake_spend_daily
                WHERE connector_id = :c AND dim = '{dim}' AND usage_date BETWEEN :first AND :last
                GROUP BY 1, 2 ORDER BY 1, 3 DESC""",
                **_span_params(connector_id, span, rolled),
            )
        )
    if group_by == "warehouse":
        table, key = "enterprise.snowflake_warehouse_metering", "warehouse_name"
    elif group_by == "service_type":
        table, key = "enterprise.snowflake_metering_history", "service_type"
    else:
        table, key = "enterprise.snowflake_metering_history", "'total'"
    return _days(
        query(
            conn,
            f"""SELECT {_day("start_time")}::text AS day, {key} AS key, sum(credits_used) AS credits,
                       sum(credits_used_compute) AS compute, sum(credits_used_cloud_services) AS cloud_services
                FROM {table}
                WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi
                GROUP BY 1, 2 ORDER BY 1, 3 DESC""",
            **_span_params(connector_id, span, rolled),
            tz=span.tz,
        )
    )


def _days(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Days travel as ISO text: pg8000 parses dates with strptime, the slowest part of a long daily answer."""
    for r in rows:
        r["day"] = date.fromisoformat(r["day"])
    return rows


def _span_params(connector_id: UUID, span: Span, rolled: bool) -> dict[str, Any]:
    if rolled:
        return {"c": connector_id, "first": span.first, "last": span.last}
    return {"c": connector_id, "lo": span.lo, "hi": span.hi}


# ---------------------------------------------------------------- warehouses


def warehouse_config(conn: Connection, connector_id: UUID) -> list[dict[str, Any]]:
    return query(
        conn,
        """SELECT warehouse_name, size, warehouse_type, auto_suspend, auto_resume, min_cluster_count,
                  max_cluster_count, scaling_policy, resource_monitor
           FROM enterprise.snowflake_warehouses WHERE connector_id = :c""",
        c=connector_id,
    )


def warehouse_load(conn: Connection, connector_id: UUID, span: Span, rolled: bool) -> list[dict[str, Any]]:
    if rolled:
        sql = """SELECT warehouse_name, sum(running_sum) / sum(intervals)::float8 AS avg_running,
                        sum(queued_sum) / sum(intervals)::float8 AS avg_queued_load,
                        sum(queued_intervals) AS queued_intervals, sum(intervals) AS intervals
                 FROM enterprise.snowflake_warehouse_load_daily
                 WHERE connector_id = :c AND usage_date BETWEEN :first AND :last
                 GROUP BY warehouse_name"""
    else:
        sql = """SELECT warehouse_name, avg(avg_running) AS avg_running, avg(avg_queued_load) AS avg_queued_load,
                        count(*) FILTER (WHERE avg_queued_load > 0) AS queued_intervals, count(*) AS intervals
                 FROM enterprise.snowflake_warehouse_load
                 WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi
                 GROUP BY warehouse_name"""
    return query(conn, sql, **_span_params(connector_id, span, rolled))


# ---------------------------------------------------------------- storage


def storage_trend(conn: Connection, connector_id: UUID, d_lo: date, d_hi: date) -> list[dict[str, Any]]:
    return query(
        conn,
        """SELECT usage_date AS day, storage_bytes, stage_bytes, failsafe_bytes, hybrid_table_storage_bytes
           FROM enterprise.snowflake_storage_usage
           WHERE connector_id = :c AND usage_date BETWEEN :lo AND :hi ORDER BY usage_date""",
        c=connector_id,
        lo=d_lo,
        hi=d_hi,
    )


def storage_databases(conn: Connection, connector_id: UUID, d_lo: date, d_hi: date) -> list[dict[str, Any]]:
    """Each database's bytes on the latest day of the range, and its average over the range."""
    return query(
        conn,
        """SELECT database_name, database_id,
                  (array_agg(average_database_bytes ORDER BY usage_date DESC))[1] AS database_bytes,
                  (array_agg(average_failsafe_bytes ORDER BY usage_date DESC))[1] AS failsafe_bytes,
                  avg(average_database_bytes + average_failsafe_bytes) AS avg_total_bytes,
                  max(usage_date) AS as_of
           FROM enterprise.snowflake_database_storage
           WHERE connector_id = :c AND usage_date BETWEEN :lo AND :hi
           GROUP BY database_name, database_id ORDER BY database_bytes DESC""",
        c=connector_id,
        lo=d_lo,
        hi=d_hi,
    )


def storage_tables(conn: Connection, connector_id: UUID, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    rows = query(
        conn,
        """SELECT table_catalog, table_schema, table_name, is_transient, active_bytes, time_travel_bytes,
                  failsafe_bytes, retained_for_clone_bytes, table_created, last_read_at
           FROM enterprise.snowflake_table_storage
           WHERE connector_id = :c
           ORDER BY (active_bytes + time_travel_bytes + failsafe_bytes) DESC, table_id
           LIMIT :l OFFSET :o""",
        c=connector_id,
        l=limit,
        o=offset,
    )
    total = query_one(
        conn, "SELECT count(*) AS n FROM enterprise.snowflake_table_storage WHERE connector_id = :c", c=connector_id
    )
    return rows, int(total["n"]) if total else 0


def large_tables(conn: Connection, connector_id: UUID, min_bytes: int) -> list[dict[str, Any]]:
    return query(
        conn,
        """SELECT table_catalog, table_schema, table_name, active_bytes, time_travel_bytes, failsafe_bytes,
                  last_read_at, table_created
           FROM enterprise.snowflake_table_storage
           WHERE connector_id = :c AND NOT deleted AND (active_bytes >= :b OR time_travel_bytes >= :b)
           ORDER BY active_bytes DESC""",
        c=connector_id,
        b=min_bytes,
    )


# ---------------------------------------------------------------- queries and users


# The raw query rows' cost order, as sqh_connector_cost_qid_idx keys it (0509): credits in whole nano-credits, exact
# (numeric(20,9) scaled by 1e9), clamped where bigint would overflow. A read ordered by it walks the index.
COST_ORDER = """(CASE WHEN credits_attributed_compute > 9000000000 THEN 9000000000
                      WHEN credits_attributed_compute < -9000000000 THEN -9000000000
                      ELSE credits_attributed_compute END * 1000000000)::bigint"""


def top_queries(
    conn: Connection,
    connector_id: UUID,
    lo: datetime,
    hi: datetime,
    d_lo: date,
    d_hi: date,
    limit: int,
    offset: int,
    warehouse: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The most expensive queries started in [lo, hi), walking the cost index; the total comes from the rollup."""
    # The page first (walking the cost index), then each query's UTC day's billed fraction for the page only.
    rows = query(
        conn,
        f"""SELECT q.query_id, q.query_text, q.user_name, q.role_name, q.warehouse_name, q.warehouse_size,
                   q.start_time, q.total_elapsed_time, q.execution_status, q.query_parameterized_hash,
                   COALESCE(q.credits_attributed_compute, 0) AS credits_compute,
                   {billed_cloud_services("q", CS_FRACTION.format(f="f"))} AS credits_cloud_services,
                   q.credits_used_cloud_services AS credits_cloud_services_used, q.cost_method
            FROM (SELECT connector_id, query_id, left(query_text, 500) AS query_text, user_name, role_name,
                         warehouse_name, warehouse_size, start_time, total_elapsed_time, execution_status,
                         query_parameterized_hash, credits_attributed_compute, credits_used_cloud_services,
                         cost_method
                  FROM enterprise.snowflake_query_history
                  WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi
                    AND (CAST(:w AS text) IS NULL OR warehouse_name = CAST(:w AS text))
                  ORDER BY {COST_ORDER} DESC NULLS LAST, query_id
                  LIMIT :l OFFSET :o) q
            {CS_DAY_JOIN.format(q="q", f="f")}
            ORDER BY q.credits_attributed_compute DESC NULLS LAST, q.query_id""",
        c=connector_id,
        w=warehouse,
        lo=lo,
        hi=hi,
        l=limit,
        o=offset,
    )
    total = query_one(
        conn,
        """SELECT COALESCE(sum(queries), 0) AS n FROM enterprise.snowflake_query_rollup
           WHERE connector_id = :c AND dim = 'warehouse' AND usage_date BETWEEN :lo AND :hi
             AND (CAST(:w AS text) IS NULL OR key1 = CAST(:w AS text))""",
        c=connector_id,
        w=warehouse,
        lo=d_lo,
        hi=d_hi,
    )
    return rows, int(total["n"]) if total else 0


def rollup(
    conn: Connection, connector_id: UUID, dim: str, d_lo: date, d_hi: date, by: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Rollup groups over local days [d_lo, d_hi], grouped by 'key1', 'key2' or 'both'."""
    group = {"key1": "key1", "key2": "key2", "both": "key1, key2"}[by]
    k1 = "key1" if by in ("key1", "both") else "NULL"
    k2 = "key2" if by in ("key2", "both") else "NULL"
    rows = query(
        conn,
        f"""SELECT {k1} AS key1, {k2} AS key2, sum(queries) AS queries,
                   sum(credits_compute) AS credits_compute, sum(credits_cloud_services) AS credits_cloud_services,
                   sum(credits_cloud_services_used) AS credits_cloud_services_used,
                   sum(elapsed_ms) AS elapsed_ms, sum(bytes_scanned) AS bytes_scanned, {SAMPLE} AS sample,
                   count(*) OVER () AS total,
                   COALESCE(sum(sum(credits_compute + credits_cloud_services)) OVER (
                       ORDER BY sum(credits_compute) DESC, {k1}, {k2}
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
            FROM enterprise.snowflake_query_rollup
            WHERE connector_id = :c AND dim = :dim AND usage_date BETWEEN :lo AND :hi
            GROUP BY {group}
            ORDER BY 4 DESC, 1, 2
            LIMIT :l OFFSET :o""",
        c=connector_id,
        dim=dim,
        lo=d_lo,
        hi=d_hi,
        l=limit,
        o=offset,
    )
    total = int(rows[0]["total"]) if rows else 0
    if not rows and offset:
        count = query_one(
            conn,
            f"""SELECT count(*) AS n FROM (SELECT 1 FROM enterprise.snowflake_query_rollup
                WHERE connector_id = :c AND dim = :dim AND usage_date BETWEEN :lo AND :hi GROUP BY {group}) g""",
            c=connector_id,
            dim=dim,
            lo=d_lo,
            hi=d_hi,
        )
        total = int(count["n"]) if count else 0
    return rows, total


def hash_rollup(
    conn: Connection, connector_id: UUID, d_lo: date, d_hi: date, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Queries per parameterized hash over local days [d_lo, d_hi], most expensive first: the rows of the
    whole weeks inside the range, plus the day rows before and after them."""
    w_lo = monday(d_lo + timedelta(days=6))  # the first Monday on or after d_lo
    w_hi = monday(d_hi + timedelta(days=1))  # weeks starting in [w_lo, w_hi) end by d_hi
    if w_lo >= w_hi:  # no whole week inside: days only
        w_lo = w_hi = d_hi + timedelta(days=1)
    params = {"c": connector_id, "lo": d_lo, "hi": d_hi, "wlo": w_lo, "whi": w_hi}
    where = """connector_id = :c AND (
                   (days = 1 AND usage_date >= :lo AND usage_date < :wlo)
                   OR (days = 7 AND usage_date >= :wlo AND usage_date < :whi)
                   OR (days = 1 AND usage_date >= :whi AND usage_date <= :hi))"""
    rows = query(
        conn,
        f"""SELECT query_parameterized_hash AS key1, sum(queries) AS queries,
                   sum(credits_compute) AS credits_compute, sum(credits_cloud_services) AS credits_cloud_services,
                   sum(credits_cloud_services_used) AS credits_cloud_services_used,
                   sum(elapsed_ms) AS elapsed_ms, {SAMPLE} AS sample, count(*) OVER () AS total,
                   COALESCE(sum(sum(credits_compute + credits_cloud_services)) OVER (
                       ORDER BY sum(credits_compute) DESC, query_parameterized_hash
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
            FROM enterprise.snowflake_query_hash_daily
            WHERE {where}
            GROUP BY query_parameterized_hash
            ORDER BY 3 DESC, 1
            LIMIT :l OFFSET :o""",
        **params,
        l=limit,
        o=offset,
    )
    total = int(rows[0]["total"]) if rows else 0
    if not rows and offset:
        count = query_one(
            conn,
            f"""SELECT count(DISTINCT query_parameterized_hash) AS n FROM enterprise.snowflake_query_hash_daily
                WHERE {where}""",
            **params,
        )
        total = int(count["n"]) if count else 0
    return rows, total


def query_credits_total(
    conn: Connection, connector_id: UUID, d_lo: date, d_hi: date, warehouse: str | None = None
) -> dict[str, Any]:
    """Every query of local days [d_lo, d_hi]: their count and credits (compute + billed cloud services)."""
    row = query_one(
        conn,
        """SELECT COALESCE(sum(queries), 0) AS queries,
                  COALESCE(sum(credits_compute + credits_cloud_services), 0) AS credits
           FROM enterprise.snowflake_query_rollup
           WHERE connector_id = :c AND dim = 'warehouse' AND usage_date BETWEEN :lo AND :hi
             AND (CAST(:w AS text) IS NULL OR key1 = CAST(:w AS text))""",
        c=connector_id,
        w=warehouse,
        lo=d_lo,
        hi=d_hi,
    )
    return row or {"queries": 0, "credits": 0}


def top_queries_before(
    conn: Connection, connector_id: UUID, lo: datetime, hi: datetime, offset: int, warehouse: str | None = None
) -> Any:
    """Credits (compute + billed cloud services) of the ``offset`` most expensive queries before a page."""
    row = query_one(
        conn,
        f"""SELECT COALESCE(sum(COALESCE(q.credits_attributed_compute, 0)
                                + {billed_cloud_services("q", CS_FRACTION.format(f="f"))}), 0) AS before
            FROM (SELECT connector_id, start_time, credits_attributed_compute, credits_used_cloud_services
                  FROM enterprise.snowflake_query_history
                  WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi
                    AND (CAST(:w AS text) IS NULL OR warehouse_name = CAST(:w AS text))
                  ORDER BY {COST_ORDER} DESC NULLS LAST, query_id
                  LIMIT :o) q
            {CS_DAY_JOIN.format(q="q", f="f")}""",
        c=connector_id,
        w=warehouse,
        lo=lo,
        hi=hi,
        o=offset,
    )
    return row["before"] if row else 0


def sample_pair(query_id: str, start_time: str) -> str:
    """A group's sample query as [query_id, start_time as text]: its greatest QUERY_ID, with that query's
    start_time, so that its text is found by the raw table's key (0508; the rollups keep it: rollups.sample)."""
    return f"max(ARRAY[{query_id}, CAST({start_time} AS text)])"


# A rollup group's sample query over several rollup rows.
SAMPLE = sample_pair("sample_query_id", "sample_start_time")


def sample_texts(conn: Connection, connector_id: UUID, samples: list[list[str | None]]) -> dict[str, str]:
    """The text of each rollup group's sample query, by the key: ``samples`` are [query_id, start_time as text]
    (a rollup row's ``sample``); a sample without a start_time, or no longer stored, has none."""
    found = [s for s in samples if s[0] is not None and s[1] is not None]
    rows = query(
        conn,
        """SELECT q.query_id, left(q.query_text, 500) AS t
           FROM unnest(CAST(:ids AS text[]), CAST(:starts AS text[])) AS s(query_id, start_time)
           JOIN enterprise.snowflake_query_history q
             ON q.connector_id = :c AND q.start_time = CAST(s.start_time AS timestamptz) AND q.query_id = s.query_id""",
        c=connector_id,
        ids=[s[0] for s in found],
        starts=[s[1] for s in found],
    )
    return {r["query_id"]: r["t"] for r in rows}


def warehouse_query_stats(conn: Connection, connector_id: UUID, d_lo: date, d_hi: date) -> list[dict[str, Any]]:
    return query(
        conn,
        """SELECT key1 AS warehouse_name, sum(queries) AS queries, sum(bytes_scanned) AS bytes_scanned,
                  sum(bytes_spilled_local) AS bytes_spilled_local, sum(bytes_spilled_remote) AS bytes_spilled_remote,
                  sum(cache_scanned_bytes) AS cache_scanned_bytes, sum(partitions_scanned) AS partitions_scanned,
                  sum(partitions_total) AS partitions_total, sum(full_scan_queries) AS full_scan_queries,
                  sum(queued_overload_ms) AS queued_overload_ms, sum(credits_compute) AS credits_compute
           FROM enterprise.snowflake_query_rollup
           WHERE connector_id = :c AND dim = 'warehouse' AND usage_date BETWEEN :lo AND :hi
           GROUP BY key1""",
        c=connector_id,
        lo=d_lo,
        hi=d_hi,
    )


# The condition that puts a query behind each query-level finding.
FINDING_QUERY = """CASE x.kind
    WHEN 'remote_spilling' THEN q.bytes_spilled_to_remote_storage > 0
    WHEN 'full_scans' THEN q.partitions_total >= 1000 AND q.partitions_scanned >= 0.9 * q.partitions_total
    WHEN 'low_cache' THEN q.bytes_scanned > 0 AND q.percentage_scanned_from_cache < 0.1
    ELSE false END"""


def finding_queries(
    conn: Connection, connector_id: UUID, lo: datetime, hi: datetime, findings: list[tuple[str, str]], limit: int
) -> list[dict[str, Any]]:
    """For each (warehouse, finding kind): its most expensive queries in [lo, hi) that show the problem. One pass over
    the range's rows for every finding: a walk of the cost index per finding passed every more expensive query of
    the other warehouses first, the whole range when few queries show the problem (2M rows, a second, per finding)."""
    return query(
        conn,
        f"""SELECT warehouse, kind, query_id, query_parameterized_hash, user_name, start_time, credits, bytes_scanned,
                   bytes_spilled_to_remote_storage, partitions_scanned, partitions_total, percentage_scanned_from_cache
            FROM (SELECT x.wh AS warehouse, x.kind, q.query_id, q.query_parameterized_hash, q.user_name, q.start_time,
                         COALESCE(q.credits_attributed_compute, 0) AS credits, q.bytes_scanned,
                         q.bytes_spilled_to_remote_storage, q.partitions_scanned, q.partitions_total,
                         q.percentage_scanned_from_cache,
                         row_number() OVER (PARTITION BY x.wh, x.kind
                                            ORDER BY q.credits_attributed_compute DESC NULLS LAST, q.query_id) AS n
                  FROM enterprise.snowflake_query_history q
                  JOIN unnest(CAST(:whs AS text[]), CAST(:kinds AS text[])) AS x(wh, kind)
                    ON q.warehouse_name = x.wh AND {FINDING_QUERY}
                  WHERE q.connector_id = :c AND q.start_time >= :lo AND q.start_time < :hi) r
            WHERE n <= :l
            ORDER BY warehouse, kind, n""",
        c=connector_id,
        lo=lo,
        hi=hi,
        whs=[w for w, _ in findings],
        kinds=[k for _, k in findings],
        l=limit,
    )


# Per anomaly day and key of a dimension: its credits that day and its mean over the ``n`` days before (rollups).
_DRIVER_SOURCES = {
    "service_type": ("enterprise.snowflake_spend_daily", "dim = 'service_type'", "key", "credits"),
    "warehouse": ("enterprise.snowflake_spend_daily", "dim = 'warehouse'", "key", "credits"),
    "user": ("enterprise.snowflake_query_rollup", "dim = 'user'", "key1", "credits_compute + credits_cloud_services"),
    "query_hash": (
        "enterprise.snowflake_query_hash_daily",
        "days = 1",
        "query_parameterized_hash",
        "credits_compute + credits_cloud_services",
    ),
}


# Rows of each anomaly day (a.day) and of the ``n`` days before it. Query hashes read their Monday-aligned week rows
# for the whole weeks inside the baseline [a.wlo, a.whi) and day rows for the rest: a third of the rows.
_DRIVER_ROWS = {
    "days": "r.usage_date BETWEEN a.day - CAST(:n AS integer) AND a.day",
    "weeks": """((r.days = 1 AND (r.usage_date = a.day
                                 OR (r.usage_date >= a.day - CAST(:n AS integer) AND r.usage_date < a.wlo)
                                 OR (r.usage_date >= a.whi AND r.usage_date < a.day)))
                 OR (r.days = 7 AND r.usage_date >= a.wlo AND r.usage_date < a.whi))""",
}


def day_drivers(
    conn: Connection, connector_id: UUID, days: list[date], factors: list[Any], n: int, top: int
) -> list[dict[str, Any]]:
    """Per dimension and anomaly day: each key's contribution (its credits that day - its mean over the ``n`` days
    before x the day's factor), the ``top`` largest by size, then one row (key NULL) for the rest of the keys;
    ``whole``: the sum over every key. One statement for every dimension and day, aggregated here (a day with
    thousands of query hashes returns ``top + 1`` rows)."""
    parts = []
    for dim, (table, where, key, measure) in _DRIVER_SOURCES.items():
        weeks = dim == "query_hash"
        on_day = "r.days = 1 AND r.usage_date = a.day" if weeks else "r.usage_date = a.day"
        parts.append(
            f"""SELECT '{dim}' AS dim, a.day, r.{key} AS key,
                       COALESCE(sum({measure}) FILTER (WHERE {on_day}), 0)
                       - COALESCE(sum({measure}) FILTER (WHERE NOT ({on_day})), 0) / CAST(:n AS numeric) * a.f AS c
                FROM a JOIN {table} r ON r.connector_id = :c AND {"TRUE" if weeks else "r." + where}
                 AND {_DRIVER_ROWS["weeks" if weeks else "days"]}
                GROUP BY a.day, a.f, r.{key}"""
        )
    union = "\n                UNION ALL\n".join(parts)
    rows = query(
        conn,
        f"""WITH a AS (
                SELECT * FROM unnest(CAST(:days AS date[]), CAST(:factors AS numeric[]), CAST(:wlo AS date[]),
                                     CAST(:whi AS date[])) AS a(day, f, wlo, whi)
            ), k AS (
                {union}
            ), ranked AS (
                SELECT dim, day, key, c, row_number() OVER (PARTITION BY dim, day ORDER BY abs(c) DESC, key) AS rn,
                       sum(c) OVER (PARTITION BY dim, day) AS whole
                FROM k
            )
            SELECT dim, day::text AS day, CASE WHEN rn <= :top THEN key END AS key, sum(c) AS value,
                   min(whole) AS whole, min(rn) AS rn
            FROM ranked GROUP BY 1, 2, 3 ORDER BY 1, 2, min(rn)""",
        c=connector_id,
        days=days,
        factors=factors,
        wlo=[monday(d - timedelta(days=n - 6)) for d in days],
        whi=[monday(d) for d in days],
        n=n,
        top=top,
    )
    return _days(rows)


def rollup_key_credits(conn: Connection, connector_id: UUID, dim: str, d_lo: date, d_hi: date, key: str) -> Any:
    """Query credits (compute + billed cloud services) of one rollup key over local days [d_lo, d_hi]."""
    row = query_one(
        conn,
        """SELECT COALESCE(sum(credits_compute + credits_cloud_services), 0) AS credits
           FROM enterprise.snowflake_query_rollup
           WHERE connector_id = :c AND dim = :dim AND usage_date BETWEEN :lo AND :hi AND key1 = :k""",
        c=connector_id,
        dim=dim,
        lo=d_lo,
        hi=d_hi,
        k=key,
    )
    return row["credits"] if row else 0
