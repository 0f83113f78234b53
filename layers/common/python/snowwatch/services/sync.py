"""The cost sync: one connector, one Snowflake session, every cost view, incrementally.

Per view: read from (watermark - the view's lookback), or from now - backfill_days on the first
sync; bulk-upsert on the view's natural key; advance the view's watermark in the same Postgres
transaction as its rows. A failure part-way leaves the views already loaded committed and every
later view's watermark untouched, so the next run picks up exactly where this one stopped, and a
re-run over the same window changes nothing (upserts, never inserts).

Statements issued to Snowflake are fixed per run (one per view, plus two existence checks and SHOW
WAREHOUSES), whatever the data volume: rows stream in batches from one statement per view.

Modes: ``full`` (the daily run, default) and ``metering`` (the hourly light run: the three
metering views only, so budgets see fresh spend).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

from snowwatch.db import Connection, transaction
from snowwatch.errors import ValidationFailedError
from snowwatch.observability import logger, metrics
from snowwatch.repositories import cost as cost_repo
from snowwatch.repositories import cost_sync as repo
from snowwatch.repositories import sync_state
from snowwatch.services import attribution, savings
from snowwatch.services.secrets import read_connector_secret
from snowwatch.snowflake.client import SnowflakeSession
from snowwatch.snowflake.queries import (
    database_storage_usage_history,
    metering_daily_history,
    metering_history,
    query_attribution_history,
    query_history,
    storage_usage,
    table_storage_metrics,
    usage_in_currency_daily,
    warehouse_load_history,
    warehouse_metering_history,
)

LARGE_TABLE_BYTES = 2**40  # tables of 1 TB or more get their last read refreshed
# Views the spend rollups (credits per local day x warehouse / service type, warehouse load) are built from.
SPEND_VIEWS = ("WAREHOUSE_METERING_HISTORY", "METERING_HISTORY", "WAREHOUSE_LOAD_HISTORY")


@dataclass(frozen=True)
class View:
    name: str
    query: ModuleType
    metering: bool = False
    optional: bool = False  # may not exist on the account: checked first, skipped cleanly


VIEWS: tuple[View, ...] = (
    View("WAREHOUSE_METERING_HISTORY", warehouse_metering_history, metering=True),
    View("METERING_HISTORY", metering_history, metering=True),
    View("METERING_DAILY_HISTORY", metering_daily_history, metering=True),
    View("STORAGE_USAGE", storage_usage),
    View("DATABASE_STORAGE_USAGE_HISTORY", database_storage_usage_history),
    View("TABLE_STORAGE_METRICS", table_storage_metrics),
    View("WAREHOUSE_LOAD_HISTORY", warehouse_load_history),
    View("QUERY_HISTORY", query_history),
    View("QUERY_ATTRIBUTION_HISTORY", query_attribution_history, optional=True),
)


def _columns(view: str) -> tuple[str, ...]:
    return repo.TARGETS[view][1]


def _as_row(view: str, source: dict[str, Any]) -> tuple[Any, ...]:
    if view == "QUERY_HISTORY":  # its attribution keys, parsed once here (services/attribution.py)
        source = attribution.enrich(source)
    row = []
    for col in _columns(view):
        value = source.get(col.upper())
        if col in ("is_transient",) and isinstance(value, str):
            value = value.upper() in ("YES", "TRUE", "Y")
        if col == "deleted" and view == "TABLE_STORAGE_METRICS":
            value = bool(value) if value is not None else False
        row.append(value)
    return tuple(row)


def _since(view: View, marks: dict[str, datetime], now: datetime, backfill_days: int) -> datetime:
    lookback: timedelta = view.query.LOOKBACK
    mark = marks.get(view.name)
    if mark is None:
        return now - timedelta(days=backfill_days)
    return mark - lookback


def _sync_view(
    conn: Connection, sf: SnowflakeSession, ctx: Any, view: View, since: datetime | None
) -> tuple[int, datetime | None]:
    """Load one view in one transaction (rows + watermark); return (rows, newest source time)."""
    connector_id = ctx.connector.id
    time_column = getattr(view.query, "TIME_COLUMN", None)
    newest: datetime | None = None
    total = 0
    with transaction(conn):
        for batch in sf.fetch_batches(view.query.SELECT, {"since": since} if since else None):
            rows = [_as_row(view.name, r) for r in batch]
            if time_column:
                for r in batch:
                    t = r.get(time_column)
                    if t is not None and not isinstance(t, datetime):
                        t = datetime(t.year, t.month, t.day, tzinfo=UTC)
                    if t is not None and (newest is None or t > newest):
                        newest = t
            total += repo.load(conn, connector_id, view.name, rows)
        if newest is not None:
            sync_state.set_watermark(conn, connector_id, view.name, newest, ctx.run_id)
        elif time_column is None:
            sync_state.set_watermark(conn, connector_id, view.name, datetime.now(UTC), ctx.run_id)
    return total, newest


def _warehouse_row(r: dict[str, Any]) -> tuple[Any, ...]:
    def num(v: Any) -> int | None:
        try:
            return int(v) if v not in (None, "", "null") else None
        except (TypeError, ValueError):
            return None

    monitor = r.get("RESOURCE_MONITOR")
    return (
        r.get("NAME"),
        r.get("SIZE"),
        r.get("TYPE"),
        num(r.get("AUTO_SUSPEND")),
        str(r.get("AUTO_RESUME", "")).lower() == "true",
        num(r.get("MIN_CLUSTER_COUNT")),
        num(r.get("MAX_CLUSTER_COUNT")),
        r.get("SCALING_POLICY"),
        None if monitor in (None, "", "null") else monitor,
        r.get("OWNER"),
    )


def _currency(conn: Connection, sf: SnowflakeSession, ctx: Any, since: datetime) -> int:
    """Rates from ORGANIZATION_USAGE when readable; else credits x the configured price (said in the API)."""
    connector_id = ctx.connector.id
    if not sf.exists(usage_in_currency_daily.VIEW):
        repo.set_currency_source(conn, connector_id, "configured_price")
        return 0
    rows = sf.fetch(usage_in_currency_daily.SELECT, {"since": since})
    rates = [
        (r["USAGE_DATE"], Decimal(str(r["USAGE_IN_CURRENCY"])) / Decimal(str(r["USAGE"])))
        for r in rows
        if r.get("USAGE")
    ]
    with transaction(conn):
        repo.apply_currency(conn, connector_id, rates)
        repo.set_currency_source(conn, connector_id, "organization_usage" if rates else "configured_price")
    return len(rates)


def _views_for(mode: str | None) -> Iterator[View]:
    for view in VIEWS:
        if mode == "metering" and not view.metering:
            continue
        yield view


def run_sync(conn: Connection, ctx: Any) -> dict[str, Any]:
    """The unit of work of the sync job for one connector; returns per-view row counts + statements."""
    connector = ctx.connector
    if connector is None:
        raise ValidationFailedError("sync runs per connector")
    mode = ctx.mode or "full"
    if mode not in ("full", "metering"):
        raise ValidationFailedError(f"unknown sync mode {mode!r}")
    settings = ctx.settings
    now = datetime.now(UTC)
    backfill = min(max(int(connector.backfill_days or settings.sync_backfill_days_default), 1), 365)
    marks = sync_state.watermarks(conn, connector.id)
    counts: dict[str, Any] = {}
    secret = read_connector_secret(settings, connector)
    with SnowflakeSession.open(settings, connector, secret) as sf:
        try:
            for view in _views_for(mode):
                if view.optional and not sf.exists(view.query.VIEW):
                    logger.info("view not available on this account; skipped", extra={"view": view.name})
                    counts[view.name] = "unavailable"
                    continue
                since = None if view.query.TIME_COLUMN is None else _since(view, marks, now, backfill)
                rows, _ = _sync_view(conn, sf, ctx, view, since)
                counts[view.name] = rows
            earliest = min((_since(v, marks, now, backfill) for v in VIEWS if v.name.startswith("QUERY_")), default=now)
            spend_since = min(
                (_since(v, marks, now, backfill) for v in _views_for(mode) if v.name in SPEND_VIEWS), default=now
            )
            with transaction(conn):  # both modes: the metering views changed
                spend_rows = cost_repo.rebuild_spend_rollups(conn, connector.id, connector.timezone, spend_since)
            if mode == "full":  # (the metering run records its three views only)
                counts["spend_rollups"] = spend_rows
                wh = [_warehouse_row(r) for r in sf.show("WAREHOUSES")]
                with transaction(conn):
                    counts["WAREHOUSES"] = repo.replace_warehouses(conn, connector.id, wh)
                with transaction(conn):
                    counts["hourly_share_queries"] = repo.apply_hourly_share(conn, connector.id, earliest)
                    repo.refresh_table_reads(conn, connector.id, LARGE_TABLE_BYTES)
                    counts["query_rollups"] = cost_repo.rebuild_rollups(
                        conn, connector.id, connector.timezone, earliest
                    )
                counts["USAGE_IN_CURRENCY_DAILY"] = _currency(
                    conn,
                    sf,
                    ctx,
                    _since(View("USAGE_IN_CURRENCY_DAILY", usage_in_currency_daily), marks, now, backfill),
                )
            if mode == "full":  # findings seen or gone (savings tracking), once the data is in
                counts["findings"] = savings.track(conn, connector, now)
            repo.mark_synced(conn, connector.id)
        finally:
            counts["statements"] = sf.statements
            ctx.rows.update(counts)
    metrics.add_metric(name="sync_statements", unit="Count", value=sf.statements)
    return counts
