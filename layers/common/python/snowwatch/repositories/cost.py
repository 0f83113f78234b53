"""Cost reads for the API (and the rollup rebuild the sync runs). Every query filters on connector_id.

Time ranges arrive as [lo, hi) timestamptz computed from the connector's timezone; days are
bucketed with ``AT TIME ZONE :tz`` so a connector in Europe/Berlin sees Berlin days.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, query, query_one

LOCAL_DAY = "(({col}) AT TIME ZONE CAST(:tz AS text))::date"


def _day(col: str) -> str:
    return LOCAL_DAY.format(col=col)


# ---------------------------------------------------------------- rollups (written by the sync)


def rebuild_rollups(conn: Connection, connector_id: UUID, tz: str, since: datetime) -> int:
    """Recompute the daily query rollups for every local day from ``since``'s day on."""
    params = {"c": connector_id, "tz": tz, "since": since}
    first = query_one(conn, f"SELECT {_day('CAST(:since AS timestamptz)')} AS d", **params)
    assert first is not None
    params["d0"] = first["d"]
    conn.run(
        "DELETE FROM enterprise.snowflake_query_rollup WHERE connector_id = :c AND usage_date >= :d0",
        c=connector_id,
        d0=params["d0"],
    )
    measures = """count(*), COALESCE(sum(credits_attributed_compute), 0), sum(credits_used_cloud_services),
        sum(total_elapsed_time), sum(bytes_scanned), sum(bytes_spilled_to_local_storage),
        sum(bytes_spilled_to_remote_storage), sum(bytes_scanned * percentage_scanned_from_cache)::numeric(30, 0),
        sum(partitions_scanned), sum(partitions_total),
        count(*) FILTER (WHERE partitions_total >= 1000 AND partitions_scanned >= 0.9 * partitions_total),
        sum(queued_overload_time), max(query_id)"""
    total = 0
    for dim, keys in (
        ("parameterized_hash", "COALESCE(query_parameterized_hash, ''), ''"),
        ("user", "COALESCE(user_name, ''), COALESCE(role_name, '')"),
        ("warehouse", "COALESCE(warehouse_name, ''), ''"),
    ):
        conn.run(
            f"""INSERT INTO enterprise.snowflake_query_rollup
                SELECT :c, '{dim}', {_day("start_time")}, {keys}, {measures}
                FROM enterprise.snowflake_query_history
                WHERE connector_id = :c AND start_time >= (CAST(:d0 AS date)::timestamp AT TIME ZONE CAST(:tz AS text))
                GROUP BY 3, 4, 5""",
            **params,
        )
        total += int(conn.row_count or 0)
    return total


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


def adjustment(conn: Connection, connector_id: UUID, d_lo: date, d_hi: date) -> Any:
    row = query_one(
        conn,
        """SELECT COALESCE(sum(credits_adjustment_cloud_services), 0) AS adj FROM enterprise.snowflake_daily_costs
           WHERE connector_id = :c AND usage_date BETWEEN :lo AND :hi""",
        c=connector_id,
        lo=d_lo,
        hi=d_hi,
    )
    return row["adj"] if row else 0


def spend_by_service(conn: Connection, connector_id: UUID, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    return query(
        conn,
        """SELECT service_type AS key, sum(credits_used) AS credits, sum(credits_used_compute) AS compute,
                  sum(credits_used_cloud_services) AS cloud_services
           FROM enterprise.snowflake_metering_history
           WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi
           GROUP BY service_type ORDER BY credits DESC""",
        c=connector_id,
        lo=lo,
        hi=hi,
    )


def spend_by_warehouse(conn: Connection, connector_id: UUID, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    return query(
        conn,
        """SELECT warehouse_name AS key, sum(credits_used) AS credits, sum(credits_used_compute) AS compute,
                  sum(credits_used_cloud_services) AS cloud_services,
                  sum(credits_used_compute) FILTER (WHERE credits_attributed_compute_queries IS NOT NULL)
                      AS compute_complete,
                  sum(credits_attributed_compute_queries) AS attributed, count(*) AS metered_hours
           FROM enterprise.snowflake_warehouse_metering
           WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi
           GROUP BY warehouse_name ORDER BY credits DESC""",
        c=connector_id,
        lo=lo,
        hi=hi,
    )


def daily(
    conn: Connection, connector_id: UUID, lo: datetime, hi: datetime, tz: str, group_by: str
) -> list[dict[str, Any]]:
    """Credits per local day, grouped by service type, warehouse, or nothing ('total')."""
    if group_by == "warehouse":
        table, key = "enterprise.snowflake_warehouse_metering", "warehouse_name"
    elif group_by == "service_type":
        table, key = "enterprise.snowflake_metering_history", "service_type"
    else:
        table, key = "enterprise.snowflake_metering_history", "'total'"
    return query(
        conn,
        f"""SELECT {_day("start_time")} AS day, {key} AS key, sum(credits_used) AS credits,
                   sum(credits_used_compute) AS compute, sum(credits_used_cloud_services) AS cloud_services
            FROM {table}
            WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi
            GROUP BY 1, 2 ORDER BY 1, 3 DESC""",
        c=connector_id,
        lo=lo,
        hi=hi,
        tz=tz,
    )


# ---------------------------------------------------------------- warehouses


def warehouse_config(conn: Connection, connector_id: UUID) -> list[dict[str, Any]]:
    return query(
        conn,
        """SELECT warehouse_name, size, warehouse_type, auto_suspend, auto_resume, min_cluster_count,
                  max_cluster_count, scaling_policy, resource_monitor
           FROM enterprise.snowflake_warehouses WHERE connector_id = :c""",
        c=connector_id,
    )


def warehouse_load(conn: Connection, connector_id: UUID, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    return query(
        conn,
        """SELECT warehouse_name, avg(avg_running) AS avg_running, avg(avg_queued_load) AS avg_queued_load,
                  count(*) FILTER (WHERE avg_queued_load > 0) AS queued_intervals, count(*) AS intervals
           FROM enterprise.snowflake_warehouse_load
           WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi
           GROUP BY warehouse_name""",
        c=connector_id,
        lo=lo,
        hi=hi,
    )


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


def top_queries(
    conn: Connection, connector_id: UUID, lo: datetime, hi: datetime, d_lo: date, d_hi: date, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """The most expensive queries started in [lo, hi), walking the cost index; the total comes from the rollup."""
    rows = query(
        conn,
        """SELECT query_id, left(query_text, 500) AS query_text, user_name, role_name, warehouse_name,
                  warehouse_size, start_time, total_elapsed_time, execution_status, query_parameterized_hash,
                  COALESCE(credits_attributed_compute, 0) AS credits_compute, credits_used_cloud_services,
                  cost_method
           FROM enterprise.snowflake_query_history
           WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi
           ORDER BY credits_attributed_compute DESC NULLS LAST, query_id
           LIMIT :l OFFSET :o""",
        c=connector_id,
        lo=lo,
        hi=hi,
        l=limit,
        o=offset,
    )
    total = query_one(
        conn,
        """SELECT COALESCE(sum(queries), 0) AS n FROM enterprise.snowflake_query_rollup
           WHERE connector_id = :c AND dim = 'warehouse' AND usage_date BETWEEN :lo AND :hi""",
        c=connector_id,
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
                   sum(elapsed_ms) AS elapsed_ms, sum(bytes_scanned) AS bytes_scanned, max(sample_query_id) AS sample,
                   count(*) OVER () AS total
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


def sample_texts(conn: Connection, connector_id: UUID, query_ids: list[str]) -> dict[str, str]:
    rows = query(
        conn,
        """SELECT query_id, left(query_text, 500) AS t FROM enterprise.snowflake_query_history
           WHERE connector_id = :c AND query_id = ANY(:ids)""",
        c=connector_id,
        ids=query_ids,
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
