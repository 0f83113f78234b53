"""Postgres side of the cost sync: watermarks, bulk loads and the set-based post-load steps."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from snowwatch.db import Connection
from snowwatch.db.bulk import copy_rows, csv_chunks, latest_by_key, qualified, stage_rows, upsert
from snowwatch.errors import NotFoundError
from snowwatch.repositories.query_share import EXEC_START, RUNS, share_ctes
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
    # The raw query table is partitioned by start_time (0420): its key carries it (a query's START_TIME never changes).
    "QUERY_HISTORY": ("enterprise.snowflake_query_history", rows.QueryRow, ("query_id", "start_time")),
    "QUERY_ATTRIBUTION_HISTORY": (
        "enterprise.snowflake_query_history",
        rows.QueryAttributionRow,
        ("query_id", "start_time"),
    ),
    "WAREHOUSE_LOAD_HISTORY": (
        "enterprise.snowflake_warehouse_load",
        rows.WarehouseLoadRow,
        ("warehouse_name", "start_time"),
    ),
}


def columns(view: str) -> tuple[str, ...]:
    fields: tuple[str, ...] = getattr(TARGETS[view][1], "_fields")  # noqa: B009 - NamedTuple classes
    return fields


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


QUERY_TABLE = "enterprise.snowflake_query_history"


def lock_connector(conn: Connection, connector_id: UUID) -> None:
    """What a foreign key checks on every row, taken once for a load into the raw query table (it has no foreign key,
    0506): the connector exists and stays until this transaction ends (a concurrent delete waits, then its trigger
    deletes what was loaded). Raises NotFoundError when the connector is gone."""
    if not conn.run("SELECT 1 FROM enterprise.connectors WHERE id = :c FOR KEY SHARE", c=connector_id):
        raise NotFoundError(f"connector {connector_id} no longer exists")


def load(conn: Connection, connector_id: UUID, view: str, rows: Iterable[Sequence[Any]]) -> int:
    """Bulk upsert one batch of rows (in the view's column order; QUERY_HISTORY: or an Arrow table of those columns,
    from services/query_arrow.py) on the view's natural key."""
    return load_window(conn, connector_id, view, [rows])


def load_window(
    conn: Connection,
    connector_id: UUID,
    view: str,
    batches: Iterable[Iterable[Sequence[Any]]],
    attribution: Iterable[Iterable[Sequence[Any]]] | None = None,
) -> int:
    """One extraction window's batches, as :func:`load` takes them (QUERY_HISTORY: priced and inserted together,
    with the same window's QUERY_ATTRIBUTION_HISTORY batches when given: ``attribution``)."""
    table, _, key = TARGETS[view]
    cols = columns(view)
    if table == QUERY_TABLE:
        lock_connector(conn, connector_id)
    if view == "QUERY_HISTORY":
        return _load_queries(conn, connector_id, cols, batches, attribution)
    if view == "QUERY_ATTRIBUTION_HISTORY":
        return load_attribution(conn, connector_id, batches)[0]
    total = 0
    for batch in batches:
        with_connector = ((connector_id, *row) for row in batch)
        total += upsert(conn, table, ("connector_id", *cols), with_connector, ("connector_id", *key))
    return total


def load_attribution(
    conn: Connection, connector_id: UUID, batches: Iterable[Iterable[Sequence[Any]]]
) -> tuple[int, datetime | None]:
    """A window of QUERY_ATTRIBUTION_HISTORY's own read (:func:`_apply_attribution`); returns the rows read and the
    earliest start_time of a query row it wrote (None: it wrote none)."""
    lock_connector(conn, connector_id)
    stage, count = _stage_window(conn, connector_id, "QUERY_ATTRIBUTION_HISTORY", batches)
    changed = _apply_attribution(conn, connector_id, stage, count)
    conn.run(f"DROP TABLE {stage}")
    return count, changed


def _stage_window(
    conn: Connection, connector_id: UUID, view: str, batches: Iterable[Iterable[Sequence[Any]]]
) -> tuple[str, int]:
    """A query view's window streamed into one COPY to the staging table (a batch in memory at a time): its batches
    are Arrow tables of the view's columns (services/query_arrow.py) or lists of its named rows. The window's rows
    are unique on QUERY_ID (its statement deduplicates; a batch's own repeats are dropped here). Returns the staging
    table (the caller drops it) and the rows staged."""
    table = TARGETS[view][0]
    cols = columns(view)
    count = 0

    def stream() -> Iterator[bytes]:
        nonlocal count
        for batch in batches:
            if not isinstance(batch, (list, tuple)) and hasattr(batch, "column_names"):
                # lazy: pyarrow is optional (decisions §26); an Arrow table means it is installed
                from snowwatch.db import arrow_copy

                arrow: Any = batch  # a pyarrow.Table (not importable here)
                data = arrow_copy.with_tenant(arrow.select(cols), ("connector_id", connector_id))
                count += int(data.num_rows)
                yield from arrow_copy.csv_chunks(data)
            else:
                unique = latest_by_key(((connector_id, *row) for row in batch), [1])
                count += len(unique)
                yield from csv_chunks(unique)

    stage = stage_rows(conn, table, ("connector_id", *cols), stream(), name=view.lower())
    return stage, count


def _apply_attribution(
    conn: Connection, connector_id: UUID, stage: str, count: int, loaded_with: str | None = None
) -> datetime | None:
    """A window of QUERY_ATTRIBUTION_HISTORY rows staged in ``stage`` (``count`` rows; the 7-day lookback re-reads
    each of them daily): ONE UPDATE writes the attribution onto the stored query rows whose attribution differs. A
    row re-read unchanged is neither rewritten (no new tuple, no dead one, no index entries) nor locked (an ``INSERT
    ... ON CONFLICT DO UPDATE ... WHERE`` locks every conflicting row). The join carries the partition key
    (start_time) and the window's constant bounds, so only the window's day partitions are read.

    A query QUERY_HISTORY has not stored (yet) is inserted from the attribution's columns, as the upsert always did;
    QUERY_HISTORY fills the rest when it loads it and keeps the attribution. ``loaded_with``: the staged
    QUERY_HISTORY window just loaded with this attribution; its queries are left out (they have it already).
    Returns the earliest start_time of a query row written (None: none was)."""
    table, _, key = TARGETS["QUERY_ATTRIBUTION_HISTORY"]
    loaded = ("connector_id", *columns("QUERY_ATTRIBUTION_HISTORY"))
    if count and loaded_with is not None:
        # usually every attribution row was a query of the window: nothing is left (no DELETE of the staged rows);
        # "was" as the insert's join says: the same query_id and start_time
        same = "q.query_id = s.query_id AND q.start_time = s.start_time"
        if not conn.run(
            f"SELECT EXISTS (SELECT 1 FROM {stage} s WHERE NOT EXISTS (SELECT 1 FROM {loaded_with} q WHERE {same}))"
        )[0][0]:
            return None
        conn.run(f"DELETE FROM {stage} s USING {loaded_with} q WHERE {same}")
        count -= int(conn.row_count or 0)
    if count:
        # a temp table has no statistics (the planner would guess a few rows): the row count and the join's columns
        conn.run(f"ANALYZE {stage} (query_id, start_time)")
        lo, hi = conn.run(f"SELECT min(start_time), max(start_time) FROM {stage}")[0]
        stored = """t.connector_id = :c AND t.query_id = s.query_id AND t.start_time = s.start_time
              AND t.start_time >= CAST(:lo AS timestamptz) AND t.start_time <= CAST(:hi AS timestamptz)"""
        updates = ", ".join(f"{c} = s.{c}" for c in rows.ATTRIBUTION_CREDITS)
        mine = ", ".join(f"t.{c}" for c in rows.ATTRIBUTION_CREDITS)
        theirs = ", ".join(f"s.{c}" for c in rows.ATTRIBUTION_CREDITS)
        changed: datetime | None = conn.run(
            f"""WITH updated AS (
                    UPDATE {table} t SET {updates}, cost_method = 'attribution'
                    FROM {stage} s
                    WHERE {stored} AND ROW({mine}, t.cost_method) IS DISTINCT FROM ROW({theirs}, 'attribution')
                    RETURNING t.start_time
                ), inserted AS (
                    INSERT INTO {table} ({", ".join(loaded)}, cost_method)
                    SELECT {", ".join(f"s.{c}" for c in loaded)}, 'attribution' FROM {stage} s
                    WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {stored})
                    ON CONFLICT ({", ".join(("connector_id", *key))}) DO NOTHING
                    RETURNING start_time
                )
                SELECT min(start_time)
                FROM (SELECT start_time FROM updated UNION ALL SELECT start_time FROM inserted) w""",
            c=connector_id,
            lo=lo,
            hi=hi,
        )[0][0]
        return changed
    return None


def _load_queries(
    conn: Connection,
    connector_id: UUID,
    cols: tuple[str, ...],
    batches: Iterable[Iterable[Sequence[Any]]],
    attribution: Iterable[Iterable[Sequence[Any]]] | None = None,
) -> int:
    """A window of QUERY_HISTORY rows in with their cost already set: its batches streamed into one COPY to a
    staging table (a batch in memory at a time), priced together, then inserted once. ``attribution``: the same
    window's QUERY_ATTRIBUTION_HISTORY rows (its companion read, decisions §38), staged first; a query they cover is
    inserted with its attribution, and the rest of them go the way of :func:`_apply_attribution`.

    Each row is written once (no second UPDATE pass leaving a dead tuple and an index entry per row). A query without
    attribution gets its hourly share: of an hour, it counts the window's queries and the stored ones that began up
    to an hour before its first (windows load in time order); what later windows or longer queries change (the
    hours at a window's end) the post-load step corrects, rewriting only rows whose cost changed. A window whose
    every query is attributed is not priced. A re-read row keeps the attribution it has unless the window brings
    one, and is left alone when nothing of it changed."""
    attr, attributed = (None, 0)
    if attribution is not None:
        attr, attributed = _stage_window(conn, connector_id, "QUERY_ATTRIBUTION_HISTORY", attribution)
    stage, count = _stage_window(conn, connector_id, "QUERY_HISTORY", batches)
    if count:
        if attr is not None and attributed:
            conn.run(f"ANALYZE {attr} (query_id, start_time)")
        _insert_queries(conn, connector_id, cols, stage, attr if attributed else None)
    if attr is not None:
        _apply_attribution(conn, connector_id, attr, attributed, loaded_with=stage)
    conn.run(f"DROP TABLE {', '.join(t for t in (stage, attr) if t)}")
    return count


def load_fresh(conn: Connection, connector_id: UUID, window: Any) -> int | None:
    """A QUERY_HISTORY window read whole, joined with its attribution in Arrow (services/query_arrow.py ``Window``),
    when the connector has no stored query in its time range (nothing can conflict: decisions §40); None when it has
    one (the caller loads the window the staged way, :func:`load_window`). The attributed queries are copied straight
    into the raw table as they are priced: no staging table, no INSERT ... SELECT (decisions §42). The rest are staged
    and inserted priced by the hourly share, whose hours read the window's other queries where they are now stored;
    attribution rows of no query of the window go the way of :func:`_apply_attribution`. Each row is written once,
    with what :func:`_load_queries` would write. Returns the window's queries."""
    lock_connector(conn, connector_id)
    if conn.run(f"SELECT {_stored_in(':first', ':last')}", c=connector_id, first=window.first, last=window.last)[0][0]:
        return None
    _note_longest(conn, connector_id, window.longest_ms)
    if window.attributed:
        copy_rows(conn, qualified(QUERY_TABLE), window.copy_columns, window.copy_csv)
    if window.unattributed.num_rows:
        stage, _ = _stage_window(conn, connector_id, "QUERY_HISTORY", [window.unattributed])
        _insert_queries(conn, connector_id, columns("QUERY_HISTORY"), stage, None, (window.first, window.last))
        conn.run(f"DROP TABLE {stage}")
    if window.leftover is not None and window.leftover.num_rows:
        load_attribution(conn, connector_id, [window.leftover])
    return int(window.attributed + window.unattributed.num_rows)


def _stored_in(first: str, last: str) -> str:
    """Whether the connector (``:c``) has a stored query that began between ``first`` and ``last`` (SQL)."""
    return f"""EXISTS (SELECT 1 FROM {QUERY_TABLE} t WHERE t.connector_id = :c
                       AND t.start_time >= CAST({first} AS timestamptz)
                       AND t.start_time <= CAST({last} AS timestamptz))"""


def _note_longest(conn: Connection, connector_id: UUID, longest_ms: Any) -> None:
    """The longest query stored (how far the post-load share must read either side of a day): never shrinks."""
    if longest_ms is not None:
        conn.run(
            """INSERT INTO enterprise.query_spans (connector_id, longest_ms) VALUES (:c, :ms)
               ON CONFLICT (connector_id) DO UPDATE SET longest_ms = EXCLUDED.longest_ms
               WHERE query_spans.longest_ms < EXCLUDED.longest_ms""",
            c=connector_id,
            ms=int(longest_ms),
        )


def _insert_queries(
    conn: Connection,
    connector_id: UUID,
    cols: tuple[str, ...],
    stage: str,
    attr: str | None,
    stored: tuple[datetime, datetime] | None = None,
) -> None:
    """The staged window into the query table, priced (see :func:`_load_queries`); ``attr``: its staged attribution.
    ``stored``: the window's first and last start, when its other queries are stored already (:func:`load_fresh`)."""
    table, _, key = TARGETS["QUERY_HISTORY"]
    loaded = ("connector_id", *cols)
    # A temp table has no statistics: without them the planner guesses a few rows. The row count and the columns the
    # pricing joins and filters on are enough (all columns, query_text included, cost as much as the COPY itself).
    conn.run(f"ANALYZE {stage} (query_id, warehouse_id, start_time, end_time, execution_time)")
    match = "a.query_id = s.query_id AND a.start_time = s.start_time"
    unattributed = "true" if attr is None else f"NOT EXISTS (SELECT 1 FROM {attr} a WHERE {match})"
    priced = conn.run(f"SELECT EXISTS (SELECT 1 FROM {stage} s WHERE {RUNS} AND {unattributed})")[0][0]
    if stored is None:
        # A window with no stored query of its time range (every backfill window, and a day's new queries) cannot
        # conflict with the key: a plain INSERT, without ON CONFLICT's check and speculative insertion per row (a
        # fifth of the loader's time, decisions §40). Runs of a connector's jobs never overlap (services/jobs.py).
        first, longest, conflicts = conn.run(
            f"""SELECT w.first, w.longest, {_stored_in("w.first", "w.last")}
                FROM (SELECT min(start_time) AS first, max(start_time) AS last,
                             ceil(EXTRACT(EPOCH FROM max(end_time - start_time) FILTER (WHERE end_time > start_time))
                                  * 1000) AS longest
                      FROM {stage}) w""",
            c=connector_id,
        )[0]
        _note_longest(conn, connector_id, longest)
        until = first  # the hours' other queries: those stored that began in the hour before the window's first
    else:
        (first, last), conflicts = stored, False
        until = last + timedelta(microseconds=1)  # and the window's own, stored already
    staged = f"""
            SELECT query_id, warehouse_id, {EXEC_START} AS exec_start, end_time, {unattributed} AS wanted
            FROM {stage} s WHERE {RUNS}
            UNION ALL
            SELECT query_id, warehouse_id, {EXEC_START} AS exec_start, end_time, false
            FROM {table}
            WHERE connector_id = :c AND start_time < :until AND {RUNS}
              AND start_time >= date_trunc('hour', CAST(:first AS timestamptz)) - interval '1 hour'
              AND (start_time >= :first OR end_time > date_trunc('hour', CAST(:first AS timestamptz)))"""
    share = "COALESCE(c.credits, 0)" if priced else "0"
    if attr is None:
        cost = f"{share}, NULL, 'hourly_share'"
        joins = ""
    else:
        cost = f"""CASE WHEN a.query_id IS NULL THEN {share} ELSE a.credits_attributed_compute END,
               a.credits_used_query_acceleration,
               CASE WHEN a.query_id IS NULL THEN 'hourly_share' ELSE 'attribution' END"""
        joins = f"LEFT JOIN {attr} a ON {match}"
    conn.run(
        f"""
        {"WITH " + share_ctes(staged) if priced else ""}
        INSERT INTO {table} AS t ({", ".join(loaded)}, {", ".join(rows.ATTRIBUTION_CREDITS)}, cost_method)
        SELECT {", ".join(f"s.{c}" for c in loaded)}, {cost}
        FROM {stage} s {joins} {"LEFT JOIN cost c ON c.query_id = s.query_id" if priced else ""}
        {_on_conflict(key, [c for c in cols if c not in key]) if conflicts else ""}
        """,
        c=connector_id,
        first=first,
        until=until,
    )


def _on_conflict(key: tuple[str, ...], kept: list[str]) -> str:
    """How a re-read window's query meets its stored row (see :func:`_load_queries`): its columns are taken when any
    changed; a re-read takes the window's cost when it is an attribution or the row has none, else the row keeps its
    own."""
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in kept)
    takes = "(EXCLUDED.cost_method = 'attribution' OR t.cost_method IS DISTINCT FROM 'attribution')"
    return f"""
        ON CONFLICT ({", ".join(("connector_id", *key))}) DO UPDATE SET {sets},
            credits_attributed_compute = CASE WHEN {takes} THEN EXCLUDED.credits_attributed_compute
                                              ELSE t.credits_attributed_compute END,
            credits_used_query_acceleration = CASE WHEN EXCLUDED.cost_method = 'attribution'
                                                   THEN EXCLUDED.credits_used_query_acceleration
                                                   ELSE t.credits_used_query_acceleration END,
            cost_method = CASE WHEN {takes} THEN EXCLUDED.cost_method ELSE t.cost_method END
        WHERE ROW({", ".join(f"t.{c}" for c in kept)}) IS DISTINCT FROM ROW({", ".join(f"EXCLUDED.{c}" for c in kept)})
           OR (EXCLUDED.cost_method = 'attribution'
               AND (t.credits_attributed_compute, t.credits_used_query_acceleration, t.cost_method)
                   IS DISTINCT FROM (EXCLUDED.credits_attributed_compute, EXCLUDED.credits_used_query_acceleration,
                                     EXCLUDED.cost_method))
           OR (EXCLUDED.cost_method = 'hourly_share' AND t.cost_method IS DISTINCT FROM 'attribution'
               AND (t.credits_attributed_compute, t.cost_method)
                   IS DISTINCT FROM (EXCLUDED.credits_attributed_compute, EXCLUDED.cost_method))"""


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


def refresh_table_reads(conn: Connection, connector_id: UUID, min_bytes: int, since: datetime, until: datetime) -> None:
    """last_read_at of large tables: the latest read seen in ACCESS_HISTORY (when synced) or QUERY_HISTORY text.
    Incremental and bounded: only rows of [since, until) (a window of what this sync loaded) are scanned; older
    reads are already in last_read_at (ACCESS_HISTORY, loaded by the hourly security job, is read from a day
    earlier)."""
    conn.run(
        """
        UPDATE enterprise.snowflake_table_storage t
        SET last_read_at = GREATEST(
            (SELECT max(a.query_start_time) FROM enterprise.snowflake_access_history a
             WHERE a.connector_id = t.connector_id
               AND a.query_start_time >= CAST(:since AS timestamptz) - interval '1 day'
               AND a.query_start_time < CAST(:until AS timestamptz)
               AND a.base_objects_accessed @> jsonb_build_array(jsonb_build_object(
                   'objectName', t.table_catalog || '.' || t.table_schema || '.' || t.table_name))),
            (SELECT max(q.start_time) FROM enterprise.snowflake_query_history q
             WHERE q.connector_id = t.connector_id AND q.start_time >= CAST(:since AS timestamptz)
               AND q.start_time < CAST(:until AS timestamptz)
               AND q.query_text ILIKE '%' || t.table_schema || '.' || t.table_name || '%'),
            t.last_read_at)
        WHERE t.connector_id = :c AND t.active_bytes >= :b AND NOT t.deleted
        """,
        c=connector_id,
        b=min_bytes,
        since=since,
        until=until,
    )


def mark_synced(conn: Connection, connector_id: UUID) -> None:
    conn.run("UPDATE enterprise.connectors SET last_sync_at = now() WHERE id = :c", c=connector_id)
