"""Postgres side of the cost sync: watermarks, bulk loads and the set-based post-load steps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from snowwatch.db import Connection
from snowwatch.db.bulk import upsert
from snowwatch.snowflake import rows

# Target table, its named row type (whose fields are the columns, in load order) and natural key, per view.
TARGETS: dict[str, tuple[str, type[tuple[Any, ...]], tuple[str, ...]]] = {
    "WAREHOUSE_METERING_HISTORY": (
        "enterprise.snowflake_warehouse_metering",
        rows.WarehouseMeteringRow,
        ("warehouse_id", "start_time"),
    ),
    "METERING_HISTORY": (
        "enterprise.snowflake_metering_history",
        rows.MeteringRow,
        ("service_type", "entity_id", "start_time"),
    ),
    "METERING_DAILY_HISTORY": (
        "enterprise.snowflake_daily_costs",
        rows.MeteringDailyRow,
        ("usage_date", "service_type"),
    ),
    "STORAGE_USAGE": ("enterprise.snowflake_storage_usage", rows.StorageUsageRow, ("usage_date",)),
    "DATABASE_STORAGE_USAGE_HISTORY": (
        "enterprise.snowflake_database_storage",
        rows.DatabaseStorageRow,
        ("usage_date", "database_id"),
    ),
    "TABLE_STORAGE_METRICS": ("enterprise.snowflake_table_storage", rows.TableStorageRow, ("table_id",)),
    "QUERY_HISTORY": ("enterprise.snowflake_query_history", rows.QueryRow, ("query_id",)),
    "QUERY_ATTRIBUTION_HISTORY": ("enterprise.snowflake_query_history", rows.QueryAttributionRow, ("query_id",)),
    "WAREHOUSE_LOAD_HISTORY": (
        "enterprise.snowflake_warehouse_load",
        rows.WarehouseLoadRow,
        ("warehouse_name", "start_time"),
    ),
}


def columns(view: str) -> tuple[str, ...]:
    fields: tuple[str, ...] = getattr(TARGETS[view][1], "_fields")  # noqa: B009 - NamedTuple classes
    return fields


# QUERY_ATTRIBUTION_HISTORY only sets the attribution on rows QUERY_HISTORY loaded (or will load).
ATTRIBUTION_UPDATES = ("credits_attributed_compute", "credits_used_query_acceleration", "cost_method")

WAREHOUSE_COLUMNS = (
    "warehouse_name",
    "size",
    "warehouse_type",
    "auto_suspend",
    "auto_resume",
    "min_cluster_count",
    "max_cluster_count",
    "scaling_policy",
    "resource_monitor",
    "owner",
)


def load(conn: Connection, connector_id: UUID, view: str, rows: Iterable[Sequence[Any]]) -> int:
    """Bulk upsert rows (in the view's column order; QUERY_HISTORY: or an Arrow table of those columns, from
    services/query_arrow.py) on the view's natural key."""
    table, _, key = TARGETS[view]
    cols = columns(view)
    if not isinstance(rows, (list, tuple)) and hasattr(rows, "column_names"):
        # lazy: pyarrow is optional (not in the Lambda layer, decisions §26); an Arrow table means it is installed
        from snowwatch.db.arrow_copy import upsert_table

        arrow: Any = rows  # a pyarrow.Table (not importable here)
        return upsert_table(
            conn, table, ("connector_id", connector_id), arrow.select(cols), ("connector_id", *key), "start_time"
        )
    with_connector = ((connector_id, *row) for row in rows)
    if view == "QUERY_ATTRIBUTION_HISTORY":
        return upsert(
            conn,
            table,
            ("connector_id", *cols, "cost_method"),
            ((*row, "attribution") for row in with_connector),
            ("connector_id", *key),
            update=ATTRIBUTION_UPDATES,
        )
    # Re-loading QUERY_HISTORY must keep the attribution already set on a row.
    # A backfill window's rows are new: straight COPY when no stored query falls in the batch's time range.
    fresh = "start_time" if view == "QUERY_HISTORY" else None
    return upsert(conn, table, ("connector_id", *cols), with_connector, ("connector_id", *key), fresh_range=fresh)


def replace_warehouses(conn: Connection, connector_id: UUID, rows: Sequence[Sequence[Any]]) -> int:
    """The configuration as SHOW WAREHOUSES says now: upsert, then drop warehouses that are gone."""
    upsert(
        conn,
        "enterprise.snowflake_warehouses",
        ("connector_id", *WAREHOUSE_COLUMNS, "synced_at"),
        ((connector_id, *row, datetime.now().astimezone()) for row in rows),
        ("connector_id", "warehouse_name"),
    )
    names = [r[0] for r in rows]
    conn.run(
        "DELETE FROM enterprise.snowflake_warehouses WHERE connector_id = :c AND NOT (warehouse_name = ANY(:n))",
        c=connector_id,
        n=names,
    )
    return len(rows)


def apply_hourly_share(conn: Connection, connector_id: UUID, since: datetime, until: datetime) -> int:
    """Per-query compute cost where QUERY_ATTRIBUTION_HISTORY gave none (dbt-snowflake-monitoring's method).

    Execution starts after queueing, compilation and external-file listing; each query's execution
    is split across the hours it spans; its share of an hour is its milliseconds in that hour over
    all queries' milliseconds in that hour on that warehouse (attributed queries included); its cost
    is that share of the hour's CREDITS_USED_COMPUTE. Recomputed for queries started in [since, until)
    (late rows change the shares of their hour); queries a day either side are read for the shares of
    the hours they span, so a statement stays bounded by its window.
    """
    conn.run(
        """
        WITH q AS (
            SELECT query_id, warehouse_id, start_time, cost_method,
                   start_time + (queued_overload_time + queued_provisioning_time + queued_repair_time
                                 + compilation_time + list_external_files_time) * interval '1 millisecond'
                       AS exec_start,
                   end_time
            FROM enterprise.snowflake_query_history
            WHERE connector_id = :c AND start_time >= CAST(:since AS timestamptz) - interval '1 day'
              AND start_time < CAST(:until AS timestamptz) + interval '1 day'
              AND warehouse_id IS NOT NULL AND end_time IS NOT NULL AND execution_time > 0
        ), spans AS (
            SELECT q.query_id, q.warehouse_id, q.start_time, q.cost_method, h AS hour,
                   EXTRACT(EPOCH FROM LEAST(q.end_time, h + interval '1 hour') - GREATEST(q.exec_start, h)) AS s
            FROM q
            CROSS JOIN LATERAL generate_series(date_trunc('hour', q.exec_start), q.end_time, interval '1 hour') h
            WHERE q.end_time > q.exec_start AND h < q.end_time
        ), shares AS (
            SELECT query_id, warehouse_id, start_time, cost_method, hour,
                   s / NULLIF(SUM(s) OVER (PARTITION BY warehouse_id, hour), 0) AS share
            FROM spans WHERE s > 0
        ), cost AS (
            SELECT sh.query_id, SUM(sh.share * m.credits_used_compute) AS credits
            FROM shares sh
            JOIN enterprise.snowflake_warehouse_metering m
              ON m.connector_id = :c AND m.warehouse_id = sh.warehouse_id AND m.start_time = sh.hour
            WHERE sh.start_time >= CAST(:since AS timestamptz) AND sh.start_time < CAST(:until AS timestamptz)
              AND sh.cost_method IS DISTINCT FROM 'attribution'
            GROUP BY sh.query_id
        )
        UPDATE enterprise.snowflake_query_history t
        SET credits_attributed_compute = round(c.credits, 9), cost_method = 'hourly_share'
        FROM cost c
        WHERE t.connector_id = :c AND t.query_id = c.query_id
          AND t.cost_method IS DISTINCT FROM 'attribution'
        """,
        c=connector_id,
        since=since,
        until=until,
    )
    updated = int(conn.row_count or 0)
    # Queries with no metered hour (or no execution) cost nothing by this method; say how it was computed.
    conn.run(
        """UPDATE enterprise.snowflake_query_history SET credits_attributed_compute = 0, cost_method = 'hourly_share'
           WHERE connector_id = :c AND start_time >= CAST(:since AS timestamptz)
             AND start_time < CAST(:until AS timestamptz) AND cost_method IS NULL""",
        c=connector_id,
        since=since,
        until=until,
    )
    return updated


def oldest_query_start(conn: Connection, connector_id: UUID) -> datetime | None:
    """The start of the connector's oldest stored raw query (the first entry of sqh_connector_start_idx)."""
    rows = conn.run(
        "SELECT min(start_time) FROM enterprise.snowflake_query_history WHERE connector_id = :c", c=connector_id
    )
    return rows[0][0] if rows else None


def delete_queries_before(conn: Connection, connector_id: UUID, until: datetime) -> int:
    """Delete the raw query rows started before ``until`` (the retention step calls it a day at a time)."""
    conn.run(
        "DELETE FROM enterprise.snowflake_query_history WHERE connector_id = :c AND start_time < :u",
        c=connector_id,
        u=until,
    )
    return int(conn.row_count or 0)


def apply_currency(conn: Connection, connector_id: UUID, rates: list[tuple[Any, Any]]) -> None:
    """Daily effective rate (currency per credit) from ORGANIZATION_USAGE onto the daily costs."""
    if not rates:
        return
    conn.run(
        """UPDATE enterprise.snowflake_daily_costs d
           SET currency_amount = round(d.credits_billed * r.rate, 6)
           FROM unnest(CAST(:days AS date[]), CAST(:rates AS numeric[])) AS r(usage_date, rate)
           WHERE d.connector_id = :c AND d.usage_date = r.usage_date""",
        c=connector_id,
        days=[d for d, _ in rates],
        rates=[str(r) for _, r in rates],
    )


def set_currency_source(conn: Connection, connector_id: UUID, source: str) -> None:
    conn.run(
        """UPDATE enterprise.connectors SET currency_source = :s, updated_at = now()
           WHERE id = :c AND currency_source <> :s""",
        c=connector_id,
        s=source,
    )


def refresh_table_reads(conn: Connection, connector_id: UUID, min_bytes: int, since: datetime) -> None:
    """last_read_at of large tables: the latest read seen in ACCESS_HISTORY (when synced) or QUERY_HISTORY text.
    Incremental: only rows from ``since`` (what this sync loaded) are scanned; older reads are already in
    last_read_at (ACCESS_HISTORY, loaded by the hourly security job, is read from a day earlier)."""
    conn.run(
        """
        UPDATE enterprise.snowflake_table_storage t
        SET last_read_at = GREATEST(
            (SELECT max(a.query_start_time) FROM enterprise.snowflake_access_history a
             WHERE a.connector_id = t.connector_id
               AND a.query_start_time >= CAST(:since AS timestamptz) - interval '1 day'
               AND a.base_objects_accessed @> jsonb_build_array(jsonb_build_object(
                   'objectName', t.table_catalog || '.' || t.table_schema || '.' || t.table_name))),
            (SELECT max(q.start_time) FROM enterprise.snowflake_query_history q
             WHERE q.connector_id = t.connector_id AND q.start_time >= CAST(:since AS timestamptz)
               AND q.query_text ILIKE '%' || t.table_schema || '.' || t.table_name || '%'),
            t.last_read_at)
        WHERE t.connector_id = :c AND t.active_bytes >= :b AND NOT t.deleted
        """,
        c=connector_id,
        b=min_bytes,
        since=since,
    )


def mark_synced(conn: Connection, connector_id: UUID) -> None:
    conn.run("UPDATE enterprise.connectors SET last_sync_at = now() WHERE id = :c", c=connector_id)
