"""The hourly share (dbt-snowflake-monitoring's method) over the raw query table: its definition, once, as SQL the
loader prices a window with as it inserts it (repositories/cost_sync.py), and the post-load step that reprices a
window of stored rows (services/post_load.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from snowwatch.db import Connection

# The hourly share (dbt-snowflake-monitoring's method), defined once: execution starts after queueing, compilation
# and external-file listing; each query's execution is split across the hours it spans; its share of an hour is its
# milliseconds in that hour over all queries' milliseconds in that hour on that warehouse (attributed queries
# included); its cost is that share of the hour's CREDITS_USED_COMPUTE.
EXEC_START = """start_time + (queued_overload_time + queued_provisioning_time + queued_repair_time
                 + compilation_time + list_external_files_time) * interval '1 millisecond'"""
RUNS = "warehouse_id IS NOT NULL AND end_time IS NOT NULL AND execution_time > 0"  # a query that can have a share


def share_ctes(queries: str) -> str:
    """The CTEs of the hourly share over ``queries`` (query_id, warehouse_id, exec_start, end_time, wanted: the
    queries whose hours count, ``wanted`` those to price); the last, ``cost`` (query_id, credits), prices the wanted
    queries that ran in a metered hour. Needs ``:c``, the connector."""
    return f"""
        q AS ({queries}
        ), spans AS (
            -- a query's milliseconds in each hour it ran in; most run inside one hour: one span, no series
            SELECT query_id, warehouse_id, wanted, date_trunc('hour', exec_start) AS hour,
                   EXTRACT(EPOCH FROM end_time - exec_start) AS s
            FROM q WHERE end_time > exec_start AND end_time <= date_trunc('hour', exec_start) + interval '1 hour'
            UNION ALL
            SELECT q.query_id, q.warehouse_id, q.wanted, h,
                   EXTRACT(EPOCH FROM LEAST(q.end_time, h + interval '1 hour') - GREATEST(q.exec_start, h))
            FROM q
            CROSS JOIN LATERAL generate_series(date_trunc('hour', q.exec_start), q.end_time, interval '1 hour') h
            WHERE q.end_time > date_trunc('hour', q.exec_start) + interval '1 hour' AND h < q.end_time
        ), totals AS (
            -- each hour's milliseconds, for the hours a wanted query ran in (a hash aggregate: no sort of the spans)
            SELECT warehouse_id, hour, SUM(s) AS total FROM spans WHERE s > 0 GROUP BY warehouse_id, hour
            HAVING bool_or(wanted)
        ), cost AS (
            SELECT sp.query_id, round(SUM(sp.s / t.total * m.credits_used_compute), 9) AS credits
            FROM spans sp
            JOIN totals t ON t.warehouse_id = sp.warehouse_id AND t.hour = sp.hour
            JOIN enterprise.snowflake_warehouse_metering m
              ON m.connector_id = :c AND m.warehouse_id = sp.warehouse_id AND m.start_time = sp.hour
            WHERE sp.wanted AND sp.s > 0
            GROUP BY sp.query_id
        )"""


# How far the share reads either side when the longest query is not known (rows loaded before 0507), and at most:
# Snowflake's default STATEMENT_TIMEOUT_IN_SECONDS (2 days) bounds nearly every query; a longer one is priced with
# the queries within this reach.
UNKNOWN_REACH = timedelta(days=1)
MAX_REACH = timedelta(days=2)


def reach(conn: Connection, connector_id: UUID, since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """The start_time range whose queries share an hour with a query started in [since, until): a query that ends
    after the first such hour began at most the longest stored duration D before it; one started after ``until``
    shares an hour only up to the hour after the last of them ends (until + D)."""
    longest = _longest(conn, connector_id)
    first_hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return first_hour - longest, until + longest + timedelta(hours=1)


def settled(conn: Connection, connector_id: UUID, loaded: datetime) -> datetime:
    """Where the queries whose shares are final end, once every query that began before ``loaded`` is stored: a query
    started before this time shares no hour with one started after ``loaded`` (``reach``)."""
    return loaded - _longest(conn, connector_id) - timedelta(hours=1)


def _longest(conn: Connection, connector_id: UUID) -> timedelta:
    """The longest stored query's duration, as far as the share reads either side of a range."""
    found = conn.run("SELECT longest_ms FROM enterprise.query_spans WHERE connector_id = :c", c=connector_id)
    return min(timedelta(milliseconds=int(found[0][0])), MAX_REACH) if found else UNKNOWN_REACH


def apply_hourly_share(conn: Connection, connector_id: UUID, since: datetime, until: datetime) -> int:
    """Per-query compute cost where QUERY_ATTRIBUTION_HISTORY gave none, recomputed for queries started in
    [since, until) (late rows change the shares of their hour). The shares of the hours they span need every query
    running in those hours: those that started up to the longest stored query's duration before the first such hour,
    or after ``until`` before the last one ends (``reach``), so a statement stays bounded by its window. Only rows
    whose cost changed are written (the loader priced most already); returns how many."""
    before, after = reach(conn, connector_id, since, until)
    stored = f"""
            SELECT query_id, warehouse_id, {EXEC_START} AS exec_start, end_time,
                   start_time >= CAST(:since AS timestamptz) AND start_time < CAST(:until AS timestamptz)
                   AND cost_method IS DISTINCT FROM 'attribution' AS wanted
            FROM enterprise.snowflake_query_history
            WHERE connector_id = :c AND start_time >= CAST(:before AS timestamptz)
              AND start_time < CAST(:after AS timestamptz) AND {RUNS}"""
    conn.run(
        f"""
        WITH {share_ctes(stored)}
        UPDATE enterprise.snowflake_query_history t
        SET credits_attributed_compute = c.credits, cost_method = 'hourly_share'
        FROM cost c
        WHERE t.connector_id = :c AND t.query_id = c.query_id
          AND t.start_time >= CAST(:since AS timestamptz) AND t.start_time < CAST(:until AS timestamptz)
          AND t.cost_method IS DISTINCT FROM 'attribution'
          AND (t.credits_attributed_compute, t.cost_method) IS DISTINCT FROM (c.credits, 'hourly_share')
        """,
        c=connector_id,
        since=since,
        until=until,
        before=before,
        after=after,
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
