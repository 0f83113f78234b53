"""The cost sync: one connector, one Snowflake session, every cost view, incrementally, in windows.

Per view (:mod:`snowwatch.services.extraction`): read from its watermark, or from now - backfill_days on
the first sync, in time windows (a day at most for the query views, smaller when a day is large); each
window is bulk-upserted on the view's natural key and its watermark advanced in ONE Postgres
transaction. A run cut off anywhere keeps every finished window, the next run starts at the first
window it did not finish, and a re-run over the same window changes nothing (upserts, never inserts).

A view the role cannot read (missing or not granted) is skipped with the reason: later views and the
post-load steps still run, and the run ends ``partial``. When the function's remaining time runs low
the run stops starting windows and asks the runner for a continuation (same queue); the post-load
steps (spend and query rollups, hourly cost share, last-read refresh) run in the run that finishes
the extraction, from the earliest time any earlier run of the chain loaded (``sync_state`` "owed";
QUERY_ATTRIBUTION_HISTORY's own read owes the query rollups from the earliest query it changed, nothing when its
lookback re-read changed nothing).

Modes: ``full`` (the daily run, default) and ``metering`` (the hourly light run: the three
metering views only, so budgets see fresh spend).
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from snowwatch.db import Connection, connect, transaction
from snowwatch.errors import ValidationFailedError
from snowwatch.observability import logger, metrics
from snowwatch.repositories import cost_sync as repo
from snowwatch.repositories import jobs as jobs_repo
from snowwatch.repositories import sync_state
from snowwatch.services import attribution, extraction, post_load, query_retention, savings
from snowwatch.services.extraction import Budget, Outcome, Progress, View
from snowwatch.services.jobs import JobContext
from snowwatch.services.secrets import read_connector_secret
from snowwatch.settings import JobSettings
from snowwatch.snowflake import rows
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

# Views the spend rollups (credits per local day x warehouse / service type, warehouse load) are built from.
SPEND_VIEWS = ("WAREHOUSE_METERING_HISTORY", "METERING_HISTORY", "WAREHOUSE_LOAD_HISTORY")
QUERY_VIEWS = ("QUERY_HISTORY", "QUERY_ATTRIBUTION_HISTORY")
METERING_VIEWS = ("WAREHOUSE_METERING_HISTORY", "METERING_HISTORY", "METERING_DAILY_HISTORY")
DAY = timedelta(days=1)
MONTH = timedelta(days=31)


def _arrow(view: str) -> Callable[[Any], Any] | None:
    """A query view's Arrow converter whenever pyarrow is importable: the deployed sync (the snowflake layer
    carries a pruned pyarrow, decisions §28), local, tests, bench. None without pyarrow: the dict rows."""
    if importlib.util.find_spec("pyarrow") is None:
        return None
    # lazy: imports pyarrow, which only some installs carry
    from snowwatch.services import query_arrow

    return query_arrow.CONVERTERS[view]


def _view(name: str, query: Any, row_type: type[tuple[Any, ...]], **kw: Any) -> View[tuple[Any, ...]]:
    return View(name, query, partial(rows.from_source, row_type), **kw)


def _query_row(source: Mapping[str, Any]) -> rows.QueryRow:
    """A QUERY_HISTORY row with its attribution keys, parsed once here (services/attribution.py)."""
    return rows.from_source(rows.QueryRow, attribution.enrich(dict(source)))


_ATTRIBUTION = _view(
    "QUERY_ATTRIBUTION_HISTORY",
    query_attribution_history,
    rows.QueryAttributionRow,
    window=DAY,
    optional=True,
    arrow=_arrow("QUERY_ATTRIBUTION_HISTORY"),
)

VIEWS: tuple[View[tuple[Any, ...]], ...] = (
    _view("WAREHOUSE_METERING_HISTORY", warehouse_metering_history, rows.WarehouseMeteringRow, window=MONTH),
    _view("METERING_HISTORY", metering_history, rows.MeteringRow, window=MONTH),
    _view("METERING_DAILY_HISTORY", metering_daily_history, rows.MeteringDailyRow),
    _view("STORAGE_USAGE", storage_usage, rows.StorageUsageRow),
    _view("DATABASE_STORAGE_USAGE_HISTORY", database_storage_usage_history, rows.DatabaseStorageRow),
    _view("TABLE_STORAGE_METRICS", table_storage_metrics, rows.TableStorageRow),
    _view("WAREHOUSE_LOAD_HISTORY", warehouse_load_history, rows.WarehouseLoadRow, window=MONTH),
    # QUERY_HISTORY's windows carry their attribution (its companion), so a query is written once, attributed;
    # QUERY_ATTRIBUTION_HISTORY's own read then covers what arrives later (its 7-day lookback)
    View(
        "QUERY_HISTORY",
        query_history,
        _query_row,
        window=DAY,
        arrow=_arrow("QUERY_HISTORY"),
        companion=_ATTRIBUTION,
    ),
    _ATTRIBUTION,
)


def _load(
    connector_id: Any,
    view: str,
    conn: Connection,
    batches: Iterable[Sequence[tuple[Any, ...]]],
    attribution: list[Any] | None = None,
) -> int:
    if view == "QUERY_ATTRIBUTION_HISTORY":
        # Its own read owes the query rollups from the earliest query it changed, in the window's transaction: an
        # unchanged re-read of its 7-day lookback owes nothing, and no hourly share depends on an attribution.
        count, changed = repo.load_attribution(conn, connector_id, batches)
        if changed is not None:
            sync_state.owe(conn, connector_id, "queries", changed)
        return count
    window = batches[0] if isinstance(batches, list) and len(batches) == 1 else None
    if view == "QUERY_HISTORY" and hasattr(window, "copy_csv"):
        # a planned window, joined with its attribution where it was read (query_arrow.prepare): copied straight in
        # when nothing of its range is stored (decisions §42), otherwise staged from its tables
        loaded = repo.load_fresh(conn, connector_id, window)
        if loaded is not None:
            return loaded
        batches = window.batches  # type: ignore[union-attr]
    return repo.load_window(conn, connector_id, view, batches, attribution)


def _prepare(view: View[Any], connector_id: Any) -> extraction.Prepare | None:
    """QUERY_HISTORY's planned windows joined with their attribution where they are read (query_arrow.prepare)."""
    if view.name != "QUERY_HISTORY" or view.arrow is None:
        return None
    # lazy: imports pyarrow, which only some installs carry (view.arrow set: it is installed)
    from snowwatch.services import query_arrow

    return partial(query_arrow.prepare, ("connector_id", connector_id))


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


def _currency(conn: Connection, sf: SnowflakeSession, connector_id: Any, since: datetime) -> int:
    """Rates from ORGANIZATION_USAGE when readable; else credits x the configured price (said in the API)."""
    if not sf.exists(usage_in_currency_daily.VIEW):
        repo.set_currency_source(conn, connector_id, "configured_price")
        return 0
    found = sf.fetch(usage_in_currency_daily.SELECT, {"since": since})
    rates = [
        (r["USAGE_DATE"], Decimal(str(r["USAGE_IN_CURRENCY"])) / Decimal(str(r["USAGE"])))
        for r in found
        if r.get("USAGE")
    ]
    with transaction(conn):
        repo.apply_currency(conn, connector_id, rates)
        repo.set_currency_source(conn, connector_id, "organization_usage" if rates else "configured_price")
    return len(rates)


def _views_for(mode: str | None) -> Iterator[View[tuple[Any, ...]]]:
    for view in VIEWS:
        if mode == "metering" and view.name not in METERING_VIEWS:
            continue
        yield view


def _post_load(
    conn: Connection, sf: SnowflakeSession, ctx: JobContext[JobSettings], now: datetime, budget: Budget
) -> dict[str, Any]:
    """Spend rollups (both modes), then for the full run: warehouses, the hourly cost share, the last-read refresh
    with the query rollups, each walked a window at a time from what the extraction loaded (services/post_load.py);
    a run out of time queues a continuation that only walks on. Then the retention steps, currency and findings."""
    connector = ctx.connector
    assert connector is not None
    counts: dict[str, Any] = {}
    spend_rows, finished = post_load.spend_rollups(conn, connector.id, connector.timezone, budget, now)
    if ctx.mode != "metering":
        counts["spend_rollups"] = spend_rows
    if finished and ctx.mode != "metering":  # (the metering run records its three views only)
        wh = [_warehouse_row(r) for r in sf.show("WAREHOUSES")]
        with transaction(conn):
            counts["WAREHOUSES"] = repo.replace_warehouses(conn, connector.id, wh)
        counts["hourly_share_queries"], finished = post_load.hourly_share(conn, connector.id, budget, now)
    if finished and ctx.mode != "metering":
        counts["query_rollups"], finished = post_load.query_rollups(conn, connector.id, connector.timezone, budget, now)
    if not finished:  # out of time: the rest of the post-load steps in a continuation
        ctx.continue_later({"now": now.isoformat(), "view": None})
        return counts
    if ctx.mode == "metering":
        return counts
    counts["retention_days"] = _retention(conn, ctx, now, budget)
    counts["rollup_retention_months"] = post_load.rollup_retention(
        conn, connector.id, connector.timezone, ctx.settings.rollup_retention_months, budget, now
    )
    counts["USAGE_IN_CURRENCY_DAILY"] = _currency(conn, sf, connector.id, now - timedelta(days=_backfill_days(ctx)))
    counts["findings"] = savings.track(conn, connector, now)  # findings seen or gone, once the data is in
    return counts


def _retention(conn: Connection, ctx: JobContext[JobSettings], now: datetime, budget: Budget) -> int:
    """Drop the raw query table's daily partitions older than ``QUERY_RETENTION_DAYS`` (+1 day for timezones) whose
    connectors' rollups hold them, a day per transaction with the retained-from marks, at most
    ``QUERY_RETENTION_DAYS_PER_RUN`` per run (services/query_retention.py). Returns the days dropped."""
    settings = ctx.settings
    return query_retention.drop_expired(
        conn, now, settings.query_retention_days, settings.query_retention_days_per_run, budget
    )


def _to_read(mode: str, resume: dict[str, Any]) -> list[View[tuple[Any, ...]]]:
    """The views this run reads: all of the mode's, or from the view the run it continues stopped in (none when
    only its post-load steps were left)."""
    views = list(_views_for(mode))
    names = [v.name for v in views]
    if resume.get("view") in names:
        return views[names.index(resume["view"]) :]
    return [] if "view" in resume else views


def _read_until(view: View[Any], outcomes: Mapping[str, Outcome], now: datetime) -> datetime:
    """Where this run's read of ``view`` ends: ``now``, or, for a view another view read as its companion with every
    window of this run from a time on (QUERY_ATTRIBUTION_HISTORY with QUERY_HISTORY's windows), that time: what it
    would read after it, this run has just read and loaded (a backfill's own re-read of the 7-day lookback, the
    window's rows again; decisions §42). Its watermark stays where the companion left it, so the next run re-reads
    the lookback as before."""
    for reader in VIEWS:
        outcome = outcomes.get(reader.name)
        read_with = reader.companion is not None and reader.companion.name == view.name
        if read_with and outcome is not None and outcome.companion_from is not None:
            return min(now, outcome.companion_from)
    return now


def _owe(conn: Connection, connector_id: Any, steps: tuple[str, ...], since: datetime) -> None:
    for step in steps:
        sync_state.owe(conn, connector_id, step, since)


def _steps_after(view: str) -> tuple[str, ...]:
    """The post-load steps owed from where a read of ``view`` starts (QUERY_ATTRIBUTION_HISTORY's own read owes the
    query rollups from what it changed: ``_load``)."""
    return ("spend",) if view in SPEND_VIEWS else ("queries", "share") if view == "QUERY_HISTORY" else ()


def _connection(settings: JobSettings) -> Connection:
    """Another connection of the job's (the post-load trail's), its statements bounded as the job's own."""
    conn = connect(settings)
    jobs_repo.bound_statements(conn, settings.job_statement_timeout_seconds)
    return conn


def _trail(
    ctx: JobContext[JobSettings], view: View[Any], budget: Budget, now: datetime
) -> contextlib.AbstractContextManager[post_load.Trail | None]:
    """What walks the query steps behind ``view``'s windows (QUERY_HISTORY's: post_load.Trail), or nothing."""
    connector = ctx.connector
    if view.name != "QUERY_HISTORY" or connector is None:
        return contextlib.nullcontext()
    return post_load.Trail(partial(_connection, ctx.settings), connector.id, connector.timezone, budget, now)


def _backfill_days(ctx: JobContext[JobSettings]) -> int:
    assert ctx.connector is not None
    return min(max(int(ctx.connector.backfill_days or ctx.settings.sync_backfill_days_default), 1), 365)


def run_sync(conn: Connection, ctx: JobContext[JobSettings]) -> dict[str, Any]:
    """The unit of work of the sync job for one connector; returns per-view row counts + statements."""
    connector = ctx.connector
    if connector is None:
        raise ValidationFailedError("sync runs per connector")
    mode = ctx.mode or "full"
    if mode not in ("full", "metering"):
        raise ValidationFailedError(f"unknown sync mode {mode!r}")
    settings = ctx.settings
    # A continuation reads up to the same `now` as the run it continues, from the view that run stopped in (or
    # only finishes the post-load steps).
    resume = ctx.resume or {}
    now = datetime.fromisoformat(resume["now"]) if "now" in resume else datetime.now(UTC)
    backfill = timedelta(days=_backfill_days(ctx))
    marks = sync_state.watermarks(conn, connector.id)
    views = _to_read(mode, resume)
    starts = {v.name: extraction.since(v, marks, now, backfill) for v in views}
    progress = Progress(
        windows_left=sum(extraction.estimate_windows(v, starts[v.name], now) for v in views),
        on_change=lambda p: jobs_repo.set_progress(conn, ctx.run_id, p.as_dict()),
    )
    budget = Budget.from_remaining(ctx.remaining_seconds(), settings.job_stop_margin_seconds)
    counts: dict[str, Any] = {}
    trailed: dict[str, int] = {}  # what the post-load trail walked (post_load.Trail), counted in the steps' rows
    outcomes: dict[str, Outcome] = {}
    secret = read_connector_secret(settings, connector)
    with SnowflakeSession.open(settings, connector, secret) as sf:
        try:
            for view in views:
                # where it starts now: an earlier view's companion reads may have moved its watermark since
                start = extraction.since(view, sync_state.watermarks(conn, connector.id), now, backfill)
                end = _read_until(view, outcomes, now)
                progress.windows_left -= extraction.estimate_windows(
                    view, starts[view.name], now
                ) - extraction.estimate_windows(view, start, end)
                partitions = partial(query_retention.prepare_window, conn) if view.name in QUERY_VIEWS else None
                with _trail(ctx, view, budget, now) as trail:
                    out = extraction.extract(
                        conn,
                        sf,
                        view,
                        partial(_load, connector.id, view.name),
                        connector_id=connector.id,
                        run_id=ctx.run_id,
                        start=start,
                        now=end,
                        budget=budget,
                        progress=progress,
                        on_start=partial(_owe, conn, connector.id, _steps_after(view.name)),
                        before_window=partitions,
                        after_window=None if trail is None else trail.loaded,
                        target_rows=settings.sync_window_rows,
                        prepare=_prepare(view, connector.id),
                    )
                trailed.update(trail.counts if trail is not None else {})
                outcomes[view.name] = out
                counts[view.name] = out.summary()
                if out.status == "unreadable":
                    ctx.skip(view.name, out.reason or "not readable")
                if out.status == "stopped":
                    break
            stopped = [name for name, o in outcomes.items() if o.status == "stopped"]
            if stopped:  # the post-load steps run in the run that finishes the extraction
                ctx.continue_later({"now": now.isoformat(), "view": stopped[0]})
            else:
                counts.update(_post_load(conn, sf, ctx, now, budget))
                if ctx.continuation is None:
                    repo.mark_synced(conn, connector.id)
            for step, n in trailed.items():
                counts[step] = counts.get(step, 0) + n
        finally:
            counts["statements"] = sf.statements
            ctx.rows.update(counts)
    jobs_repo.set_progress(conn, ctx.run_id, progress.as_dict())
    metrics.add_metric(name="sync_statements", unit="Count", value=sf.statements)
    logger.info("sync done", extra={"windows": progress.windows_done, "rows": progress.rows})
    return counts
