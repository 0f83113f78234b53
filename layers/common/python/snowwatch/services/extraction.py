"""One extraction framework for every ACCOUNT_USAGE view snowwatch reads (the cost sync and security).

A :class:`View` says what a view is: its name (its key in ``enterprise.sync_state``), its SQL module
(``VIEW``, ``SELECT`` with ``%(since)s``/``%(until)s``, ``TIME_COLUMN``, ``LOOKBACK``), the named row
type its source rows become, the largest time window one statement may read, and whether the view may
be missing on an account (Enterprise-edition views).

:func:`extract` reads one view in time windows: each window is one Snowflake statement, loaded and its
watermark committed in ONE Postgres transaction, so a run cut off anywhere keeps every window it
finished and the next run starts at the first window it did not. A read of more than one window
starts with one statement that counts the view's rows per hour from its start (it also finds where the
account's history begins). A range holding at most ``ONE_WINDOW_ROWS`` rows (and at most ``target_rows``) is
read in one window: no window of it could be larger, and a small account pays one statement and one
transaction per view instead of one per day. Otherwise each window ends where the next hour would take it past
``target_rows`` (an hour holding more is split evenly, never under 15 minutes) or at ``window`` (a day for the
query views), so no window reads more than about ``target_rows`` whatever the account's volume or its peaks.
That bounds the run's memory: the connector holds a window's result while it loads (docs/scale.md, "Memory").
A read of one window or less has no histogram: its windows start at ``window`` and shrink when one turns out
large, growing back when they are sparse. Before each window the run's :class:`Budget` is asked whether there
is time for one more; when there is not, the view stops (``stopped``) and the caller enqueues a continuation.

Watermark = the point up to which the view is loaded AND settled: ``min(window end, read time -
LOOKBACK)`` (the view's latency: rows younger than that may still arrive). The next read starts there:
a backfill resumes exactly where it stopped, an incremental run re-reads only the unsettled lookback.

A view may have a companion, read for the same time window in the same transaction and handed to the same load
(QUERY_HISTORY's is QUERY_ATTRIBUTION_HISTORY: each query is written once, with its attribution, instead of
written and then updated; decisions §38). The companion's window is read whole before the view's own statement (a
window's rows at most: bounded as the view's are). When the companion had read everything up to where this read
started, its watermark moves with the view's (``min(window end, read time - its LOOKBACK)``), so its own read later
covers only its lookback; a companion the role cannot read is left out, and the view loads without it.

A planned read (the slice counts gave every window's bounds) reads window k+1 whole in one background thread while
window k loads (services/prefetch.py, decisions §39): only Snowflake work in that thread, at most one window ahead,
none started once the budget is exhausted, a window read ahead and not loaded is dropped.

A view the role cannot read (missing, or not granted: a Snowflake ``ProgrammingError``) is not a
failure of the run: :func:`extract` says ``unreadable`` with the reason, and the caller goes on with
the next view and ends the run ``partial``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar
from uuid import UUID

from snowwatch.db import Connection, transaction
from snowwatch.observability import logger
from snowwatch.repositories import sync_state
from snowwatch.services.prefetch import Ahead, Fetched, Ready, deferred

if TYPE_CHECKING:  # the API imports this module; the client (and its parser) load in jobs only
    from snowwatch.snowflake.client import SnowflakeSession

R = TypeVar("R")
Status = Literal["done", "stopped", "unreadable", "unavailable"]
# Loads one window: its batches (lists of rows, or Arrow tables), streamed, and for a view with a companion, the
# companion's batches of the same window (a list, or None when the companion is not read); returns the rows loaded.
Load = Callable[..., int]
# A window read whole (a planned window: its batches and its companion's, None when not read) turned into the batches
# its load takes, where it was read: the read-ahead thread (decisions §42).
Prepare = Callable[[list[Any], list[Any] | None], list[Any]]

# The rows a window reads at most (by the slice counts), or past which the next windows shrink (without them); the
# sync passes the settings' SYNC_WINDOW_ROWS (docs/scale.md, "Memory"), security takes this default.
TARGET_WINDOW_ROWS = 100_000
# Rows fetched, converted and loaded at a time: bounds the run's memory (source rows are Python dicts until loaded).
BATCH_ROWS = 20_000
MIN_WINDOW = timedelta(seconds=10)  # the shortest window planned: a burst is split, not read whole
# The planner's unit: rows are counted per 10 minutes and taken as spread evenly inside each (per hour, a burst packed
# into part of an hour put up to six times the planned rows into one window: decisions §41).
SLICE_MINUTES = 10
SLICE = timedelta(minutes=SLICE_MINUTES)
# A first read whose whole range holds at most this many rows reads it in one window (decisions §33).
ONE_WINDOW_ROWS = 250_000  # (and at most the read's target_rows)


@dataclass(frozen=True)
class View(Generic[R]):
    """One ACCOUNT_USAGE view as the extraction reads it."""

    name: str
    query: ModuleType
    row: Callable[[Mapping[str, Any]], R]
    window: timedelta | None = None  # largest window one statement reads; None: since..now at once
    optional: bool = False  # may be missing on the account (edition): skipped, the run stays succeeded
    retention: timedelta | None = None  # never read further back than this
    # When set, windows are read as the connector's Arrow batches and each becomes ``arrow(batch)`` (an Arrow table
    # the load takes as it is: no Python object per row); the dict rows and ``row`` are the fallback.
    arrow: Callable[[Any], Any] | None = None
    # Read for the same window and given to the load with this view's batches (see the module's docstring).
    companion: View[Any] | None = None

    @property
    def time_column(self) -> str | None:
        column: str | None = self.query.TIME_COLUMN
        return column

    @property
    def lookback(self) -> timedelta:
        lookback: timedelta = getattr(self.query, "LOOKBACK", timedelta(0))
        return lookback


@dataclass
class Budget:
    """How long the run may go on starting windows: the function's remaining time (the Lambda context,
    or locally a settings budget) less a margin for the window in flight and the post-load steps."""

    deadline: float | None = None  # time.monotonic() after which no window starts

    @classmethod
    def from_remaining(cls, remaining_s: float | None, margin_s: float) -> Budget:
        return cls(None if remaining_s is None else time.monotonic() + remaining_s - margin_s)

    def exhausted(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


@dataclass
class Progress:
    """What a running run has done and has left, across its views (stored on the job run)."""

    windows_done: int = 0
    windows_left: int = 0
    rows: int = 0
    view: str | None = None
    reached: datetime | None = None
    on_change: Callable[[Progress], None] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "windows_done": self.windows_done,
            "windows_left": self.windows_left,
            "rows": self.rows,
            "view": self.view,
            "reached": self.reached.isoformat() if self.reached else None,
        }

    def changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self)


@dataclass
class Outcome:
    """What one view's extraction did."""

    status: Status
    rows: int = 0
    windows: int = 0
    reached: datetime | None = None
    reason: str | None = None
    pending_from: datetime | None = None  # the earliest time whose rows this run (re)loaded
    # A read that ended done with its companion read (and its watermark moved) with every window: where it started
    companion_from: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> int | str:
        """The per-view entry of the run's ``rows``: a count, or why the view was not (fully) read."""
        if self.status in ("done", "stopped"):
            return self.rows
        if self.status == "unavailable":
            return "unavailable"
        return f"{self.status}: {self.reason}" if self.reason else self.status


Loader = Callable[[Connection, Sequence[Any]], int]


def since(view: View[Any], marks: Mapping[str, datetime], now: datetime, backfill: timedelta) -> datetime:
    """Where the next read of ``view`` starts: its watermark, or ``now - backfill`` on the first read,
    never before the view's retention. (The one ``_since`` of cost and security.)"""
    mark = marks.get(view.name)
    start = now - backfill if mark is None else min(mark, now)
    if view.retention is not None:
        start = max(start, now - view.retention)
    return start


def _param(at: datetime) -> str:
    """A timestamp literal Snowflake (and fakesnow) compare with TIMESTAMP_LTZ/NTZ columns alike: UTC."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # fakesnow returns NULL timestamps as the epoch


def _as_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return None if value == EPOCH else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def estimate_windows(view: View[Any], start: datetime, now: datetime) -> int:
    """Windows a read from ``start`` to ``now`` takes at the view's window size (before any split)."""
    if view.window is None or view.time_column is None:
        return 1
    return 0 if now <= start else max(1, -(-(now - start) // view.window))


def slice_rows(sf: SnowflakeSession, view: View[Any], start: datetime) -> dict[datetime, int]:
    """The view's rows per 10-minute slice (``SLICE``) from ``start`` on (one statement; its first slice is where the
    account's history begins, which skips the empty stretch of a backfill longer than it; its sum decides a
    one-window read)."""
    column = view.time_column
    rows = sf.fetch(
        f"SELECT DATE_TRUNC('HOUR', {column}) AS HOUR, FLOOR(DATE_PART('MINUTE', {column}) / {SLICE_MINUTES}) AS SLICE,"
        f" COUNT(*) AS ROW_COUNT FROM {view.query.VIEW} WHERE {column} >= %(since)s GROUP BY 1, 2",
        {"since": _param(start)},
    )
    slices: dict[datetime, int] = {}
    for r in rows:
        hour = _as_time(r.get("HOUR"))
        if hour is not None:
            at = hour + SLICE * int(r.get("SLICE") or 0)
            slices[at] = slices.get(at, 0) + int(r.get("ROW_COUNT") or 0)
    return slices


def _slice_of(at: datetime) -> datetime:
    return at.replace(minute=at.minute - at.minute % SLICE_MINUTES, second=0, microsecond=0)


def window_end(a: datetime, limit: datetime, slices: Mapping[datetime, int], target_rows: int) -> datetime:
    """Where the window from ``a`` ends: at ``limit``, or where the counts per 10-minute slice put ``target_rows`` rows
    in it (rows spread evenly inside a slice), never less than ``MIN_WINDOW`` after ``a``."""
    b, rows = a.astimezone(UTC), 0.0
    while b < limit:
        start = _slice_of(b)
        end = min(start + SLICE, limit)
        n = slices.get(start, 0)
        if rows + n * ((end - b) / SLICE) <= target_rows:
            rows += n * ((end - b) / SLICE)
            b = end
            continue
        return min(limit, max(a + MIN_WINDOW, b + SLICE * ((target_rows - rows) / n)))
    return limit


def _plan(
    start: datetime, now: datetime, window: timedelta, slices: Mapping[datetime, int], target: int
) -> list[datetime]:
    """The windows' ends from ``start`` to ``now`` by the counts per 10-minute slice."""
    ends, a = [], start
    while a < now:
        a = window_end(a, min(a + window, now), slices, target)
        ends.append(a)
    return ends


@dataclass
class _Companion:
    """A view's companion as one read uses it: read with each window while ``active``; its watermark moves with the
    view's when ``moves`` (it had read everything up to where this read started)."""

    view: View[Any]
    moves: bool
    now: datetime  # where the read ends
    active: bool = True

    def batches(self, sf: SnowflakeSession, params: Mapping[str, Any]) -> list[Any] | None:
        """The companion's window, whole (None once it proved unreadable: the view loads without it)."""
        return self.settle(partial(self.read, sf, params))

    def read(self, sf: SnowflakeSession, params: Mapping[str, Any]) -> list[Any] | None:
        """The companion's window, whole, while it is read (a ``ProgrammingError`` when it cannot be)."""
        return list(_batches(sf, self.view, self.view.query.SELECT, params)) if self.active else None

    def settle(self, read: Callable[[], list[Any] | None]) -> list[Any] | None:
        """``read()``'s batches; one that raised a ``ProgrammingError`` (the role cannot read the companion) makes
        the companion inactive for the rest of the read: None, the view loads without it."""
        # lazy: the API imports this module and carries no Snowflake connector
        from snowflake.connector import errors as sf_errors

        try:
            return read()
        except sf_errors.ProgrammingError as exc:
            logger.warning("companion view not readable; loading without it", extra={"view": self.view.name,
                           "reason": str(getattr(exc, "msg", None) or exc).strip()[:300]})  # fmt: skip
            self.active = self.moves = False
            return None

    def advance(self, conn: Connection, connector_id: UUID, b: datetime, run_id: UUID, prefix: str) -> None:
        """The companion read up to ``b`` with the view: its watermark (never moved back) where it is settled."""
        if self.moves:
            mark = min(b, self.now - self.view.lookback)
            sync_state.set_watermark(conn, connector_id, self.view.name, mark, run_id, prefix)


def _companion(
    conn: Connection,
    sf: SnowflakeSession,
    view: View[Any],
    connector_id: UUID,
    settled: datetime,
    now: datetime,
    prefix: str,
) -> _Companion | None:
    """``view``'s companion for a read whose watermark is ``settled``, or None (none, or not on this account). It
    moves with the read when its own read would start at or after ``settled``: its watermark (or, never read, the
    read's own first start) is not behind, so no range of it is skipped."""
    companion = view.companion
    if companion is None or (companion.optional and not sf.exists(companion.query.VIEW)):
        return None
    marks = sync_state.watermarks(conn, connector_id, prefix)
    own = marks.get(companion.name)
    moves = own >= settled if own is not None else view.name not in marks
    return _Companion(companion, moves, now)


@dataclass
class _Read:
    """One view's read in progress: what :func:`extract` and its window loop share."""

    conn: Connection
    sf: SnowflakeSession
    view: View[Any]
    load: Load
    sql: str | None
    connector_id: UUID
    run_id: UUID
    prefix: str
    progress: Progress
    left_now: int = 0
    before_window: Callable[[datetime, datetime], object] | None = None
    now: datetime | None = None  # where the read ends (the snapshot views: None)
    after_window: Callable[[datetime], object] | None = None
    companion: _Companion | None = None
    prepare: Prepare | None = None

    def left(self, n: int) -> None:
        """This view's windows left is now ``n`` (the run's total follows)."""
        self.progress.windows_left = max(0, self.progress.windows_left + n - self.left_now)
        self.left_now = n

    def window(self, a: datetime | None, b: datetime | None, watermark: datetime, ready: Ready | None = None) -> int:
        n = _load_window(
            self.conn, self.sf, self.view, self.load, self.sql, a, b, self.connector_id, self.run_id, self.prefix,
            watermark, reached=b if b is not None and self.now is not None and b < self.now else None,
            companion=self.companion, ready=ready,
        )  # fmt: skip
        self.progress.windows_done += 1
        self.progress.rows += n
        return n

    def fetch(self, a: datetime, b: datetime) -> Fetched:
        """Window ``[a, b)`` read whole, as its load takes it: its companion's first, then its own statement. Only
        Snowflake work (it runs in the prefetch thread): the companion's failure is settled where it is used."""
        params = {"since": _param(a), "until": _param(b)}
        extra = None if self.companion is None else deferred(partial(self.companion.read, self.sf, params))
        batches = list(_batches(self.sf, self.view, self.sql or self.view.query.SELECT, params))
        if self.prepare is not None:
            batches = self.prepare(batches, _or_none(extra))
        return Fetched(batches, extra)


def _or_none(extra: Callable[[], list[Any] | None] | None) -> list[Any] | None:
    """A companion's window as a window read ahead is prepared with it: None when it was not read, or could not be (the
    loading thread settles it the same way: the window then loads without it)."""
    # lazy: the API imports this module and carries no Snowflake connector
    from snowflake.connector import errors as sf_errors

    try:
        return None if extra is None else extra()
    except sf_errors.ProgrammingError:
        return None


def extract(
    conn: Connection,
    sf: SnowflakeSession,
    view: View[R],
    load: Load,
    *,
    connector_id: UUID,
    run_id: UUID,
    start: datetime,
    now: datetime,
    budget: Budget,
    progress: Progress,
    prefix: str = "",
    sql: str | None = None,
    target_rows: int = TARGET_WINDOW_ROWS,
    on_start: Callable[[datetime], None] | None = None,
    before_window: Callable[[datetime, datetime], object] | None = None,
    after_window: Callable[[datetime], object] | None = None,
    prepare: Prepare | None = None,
) -> Outcome:
    """Read ``view`` from ``start`` to ``now`` window by window (see the module's docstring). The caller
    has counted ``estimate_windows(view, start, now)`` into ``progress.windows_left``. ``on_start`` hears where
    the first window starts (after the empty stretch of a first read is skipped), before any window loads;
    ``before_window`` hears each time window ``[a, b)`` before its load transaction opens, ``after_window`` its end
    ``b`` once that transaction committed; ``prepare`` turns a planned window read whole into its load's batches
    (``Prepare``)."""
    # lazy: the API imports this module (the /access view list) and carries no Snowflake connector
    from snowflake.connector import errors as sf_errors

    read = _Read(
        conn, sf, view, load, sql, connector_id, run_id, prefix, progress, estimate_windows(view, start, now),
        before_window, now, after_window, prepare=prepare,
    )  # fmt: skip
    if view.optional and not sf.exists(view.query.VIEW):
        logger.info("view not available on this account; skipped", extra={"view": view.name})
        read.left(0)
        return Outcome("unavailable", reason="view not available on this account")
    progress.view = view.name
    outcome = Outcome("done")
    try:
        if view.time_column is None:  # a snapshot: one statement, the watermark says when it was read
            outcome.rows, outcome.windows = read.window(None, None, now), 1
            read.left(0)
            progress.changed()
            return outcome
        # A read cut off before (or continued) goes on where it stopped; ``start``, the settled point, stays the
        # floor of every window's watermark.
        settled = start
        start = max(start, sync_state.reached(conn, connector_id, view.name, prefix) or start)
        read.companion = _companion(conn, sf, view, connector_id, settled, now, prefix)
        size = view.window
        plan: list[datetime] | None = None
        if view.window is not None and start < now - view.window:
            slices = slice_rows(sf, view, start)
            first = min(slices, default=None)  # skip the empty stretch before the account's history
            if first is None:
                start = now - view.window
            elif first > start:
                start = max(start, datetime(first.year, first.month, first.day, tzinfo=UTC))
            if sum(slices.values()) <= min(ONE_WINDOW_ROWS, target_rows):
                size = None  # the whole range at once: no window of it could hold more
            else:  # windows by the counts per slice: two are in memory at once (one loads, the next is read ahead:
                # §39), so each holds at most half the target and the rows held stay at target_rows
                plan = _plan(start, now, view.window, slices, max(1, target_rows // 2))
            read.left(1 if size is None else len(plan or ()))
        outcome.pending_from = start
        if on_start is not None:
            on_start(start)
        _windows(read, outcome, start, settled, now, budget, target_rows, size, plan)
        if outcome.status == "done":
            read.left(0)
            if read.companion is not None and read.companion.moves:
                outcome.companion_from = start  # the companion read with every window from here to the read's end
    except sf_errors.ProgrammingError as exc:
        # missing, or not granted to the role: say so, and let the run go on with its next view
        reason = str(getattr(exc, "msg", None) or exc).strip().splitlines()[0][:300]
        logger.warning("view not readable; skipped", extra={"view": view.name, "reason": reason})
        read.left(0)
        return Outcome("unreadable", rows=outcome.rows, windows=outcome.windows, reason=reason)
    return outcome


def _windows(
    read: _Read,
    outcome: Outcome,
    start: datetime,
    settled: datetime,
    now: datetime,
    budget: Budget,
    target_rows: int,
    size: timedelta | None,
    plan: list[datetime] | None = None,
) -> None:
    """The window loop: the planned windows' ends when the slice counts gave them (:func:`_plan`); otherwise
    windows of ``size`` (None: the whole range at once), split when large, grown back (never past the view's
    window) when sparse. Each window's watermark is what is loaded and settled (never before ``settled``, where
    the read's watermark was): ``now - LOOKBACK`` at most, so the next read re-reads the whole lookback however many
    windows this one took; where the read got to is its reached mark until the last window."""
    view = read.view
    a = start
    with Ahead[Fetched]() as ahead:  # joined however the loop ends; a window read ahead and not taken is dropped
        while a < now:
            if budget.exhausted() and read.progress.windows_done > 0:  # every run moves at least one window on
                outcome.status = "stopped"
                return
            b = plan[outcome.windows] if plan is not None else now if size is None else min(a + size, now)
            if read.before_window is not None:
                read.before_window(a, b)
            ready = None if plan is None else _planned(read, ahead, plan, outcome.windows, a, budget)
            n = read.window(a, b, max(settled, min(b, now - view.lookback)), ready)  # watermark: loaded and settled
            outcome.rows += n
            outcome.windows += 1
            outcome.reached = read.progress.reached = b
            if plan is not None:
                read.left(len(plan) - outcome.windows)
            elif size is not None and view.window is not None:
                span = b - a
                if n > target_rows:
                    size = max(MIN_WINDOW, span * (target_rows / n))
                elif n < target_rows // 4:
                    size = min(view.window, span * 2)
                read.left(max(0, -(-(now - b) // size)))
            else:
                read.left(0)
            read.progress.changed()
            if read.after_window is not None:
                read.after_window(b)
            a = b


def _planned(read: _Read, ahead: Ahead[Fetched], plan: list[datetime], i: int, a: datetime, budget: Budget) -> Ready:
    """Planned window ``i`` (from ``a``), read whole: the read ahead of it (the first window: read now); then the
    next window's read starts ahead, in the background while this one loads, unless the run is out of time already
    (decisions §39)."""
    b = plan[i]
    fetched = ahead.take((a, b)) or read.fetch(a, b)
    ready = fetched.ready(read.companion)  # before the next read: it sees whether the companion is still read
    if i + 1 < len(plan) and not budget.exhausted():
        ahead.start((b, plan[i + 1]), partial(read.fetch, b, plan[i + 1]))
    return ready


def _load_window(
    conn: Connection,
    sf: SnowflakeSession,
    view: View[R],
    load: Load,
    sql: str | None,
    a: datetime | None,
    b: datetime | None,
    connector_id: UUID,
    run_id: UUID,
    prefix: str,
    watermark: datetime,
    reached: datetime | None,
    companion: _Companion | None = None,
    ready: Ready | None = None,
) -> int:
    """One window: its rows (one ``load`` call, the window's batches streamed to it, and its companion's; or what was
    ``ready``, read before), its watermark (and the companion's) and where the read got to (None: the read is
    complete) in one transaction."""
    params = None if a is None or b is None else {"since": _param(a), "until": _param(b)}
    with transaction(conn):
        if companion is not None and params is not None and b is not None:
            extra = companion.batches(sf, params) if ready is None else ready[1]
            total = load(
                conn, _batches(sf, view, sql or view.query.SELECT, params) if ready is None else ready[0], extra
            )
            if extra is not None:
                companion.advance(conn, connector_id, b, run_id, prefix)
        else:
            total = load(conn, _batches(sf, view, sql or view.query.SELECT, params) if ready is None else ready[0])
        sync_state.set_watermark(conn, connector_id, view.name, watermark, run_id, prefix=prefix)
        if view.time_column is not None:
            sync_state.set_reached(conn, connector_id, view.name, reached, prefix=prefix)
    return total


def _batches(sf: SnowflakeSession, view: View[Any], sql: str, params: Mapping[str, Any] | None) -> Iterator[Any]:
    """A window's rows: the view's load-ready Arrow tables when it has a converter (and the connector gives Arrow),
    otherwise its named rows."""
    batches = _arrow_batches(sf, view.arrow, sql, params) if view.arrow is not None else None
    return batches if batches is not None else _row_batches(sf, view, sql, params)


def _row_batches(sf: SnowflakeSession, view: View[R], sql: str, params: Mapping[str, Any] | None) -> Iterator[list[R]]:
    """The window's rows as named rows, ``BATCH_ROWS`` at a time."""
    column = view.time_column
    for batch in sf.fetch_batches(sql, params, size=BATCH_ROWS):
        # rows without an event time cannot be placed in a window (fakesnow's NULL-as-epoch included)
        rows = [view.row(r) for r in batch if column is None or _as_time(r.get(column)) is not None]
        if rows:
            yield rows


def _arrow_batches(
    sf: SnowflakeSession, convert: Callable[[Any], Any], sql: str, params: Mapping[str, Any] | None
) -> Iterator[Any] | None:
    """The window's rows as load-ready Arrow tables, ``BATCH_ROWS`` at a time; None when the connector cannot give
    Arrow batches (a JSON result format: known at the first batch, before anything is loaded), and the dict rows
    are read instead."""
    # lazy: the API imports this module and carries no Snowflake connector
    from snowflake.connector import errors as sf_errors

    source = iter(sf.fetch_arrow_batches(sql, params))
    try:
        first = next(source, None)
    except sf_errors.NotSupportedError:
        logger.warning("Arrow batches not available; reading the window as rows")
        return None

    def tables() -> Iterator[Any]:
        for batch in itertools.chain([] if first is None else [first], source):
            for start in range(0, batch.num_rows, BATCH_ROWS):
                data = convert(batch.slice(start, BATCH_ROWS))
                if data.num_rows:
                    yield data

    return tables()
