"""The sync's post-load steps, each walked a window at a time (issue 14): every Postgres statement of a job is bounded
by a window, whatever the backfill.

A step is owed from a time on (``sync_state.owe``, set when a view starts loading). ``walk`` goes through the owed
range in windows, each in ONE transaction with the owed mark moved past it, and stops when the run's time is up
(after at least one window); the run then queues a post-load-only continuation that walks on from the mark. The
steps: the hourly cost share ('share': a day of queries per statement), the query rollups with the last-read refresh
('queries': a connector-local day per window), the spend rollups ('spend': a local month per window), and the
retention of the rollups (a local month per transaction). The two query steps take their whole owed range as one
window when it holds at most ``extraction.ONE_WINDOW_ROWS`` raw query rows (a small account: one statement instead of
one a day; decisions §33). While QUERY_HISTORY loads in windows, a :class:`Trail` walks the two query steps behind it
on a connection of its own (decisions §44).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from types import TracebackType
from uuid import UUID

from snowwatch.db import Connection, transaction
from snowwatch.observability import logger
from snowwatch.repositories import cost_sync as repo
from snowwatch.repositories import query_share, rollups, sync_state
from snowwatch.services import extraction
from snowwatch.services.extraction import Budget

LARGE_TABLE_BYTES = 2**40  # tables of 1 TB or more get their last read refreshed
DAY = timedelta(days=1)
POST_LOAD_CHUNK = timedelta(days=1)  # the hourly share is computed a day of queries per statement

Windows = Iterable[tuple[datetime, datetime]]


def walk(
    conn: Connection,
    connector_id: UUID,
    step: str,
    budget: Budget,
    windows: Callable[[datetime], Windows],
    apply: Callable[[datetime, datetime], int],
    done: Callable[[], None] | None = None,
    until: datetime | None = None,
) -> tuple[int, bool]:
    """Walk the owed ``step`` a window at a time: ``apply`` each window of ``windows(owed)``, in one transaction with
    the owed mark moved to the window's end; when none is left, the step is paid (and ``done`` runs) in one more.
    Returns the sum of what ``apply`` returned and whether the step finished (False: the run's time ran out, after
    at least one window; the rest is still owed). ``until``: only the windows that end by then (a trailing walk,
    :class:`Trail`: none is owed to finish first, and the step stays owed)."""
    since = sync_state.owed(conn, connector_id, step)
    if since is None:
        return 0, True
    total = 0
    for n, (a, b) in enumerate(windows(since)):
        if until is not None and b > until:
            return total, False
        if (n or until is not None) and budget.exhausted():
            return total, False
        with transaction(conn):
            total += apply(a, b)
            sync_state.owe(conn, connector_id, step, b, move=True)
    with transaction(conn):
        sync_state.paid(conn, connector_id, step)
        if done is not None:
            done()
    return total, True


def chunks(since: datetime, until: datetime, size: timedelta = POST_LOAD_CHUNK) -> Iterator[tuple[datetime, datetime]]:
    """[since, until) in windows of ``size``."""
    a = since
    while a < until:
        b = min(a + size, until)
        yield a, b
        a = b


def at_once_when_small(conn: Connection, connector_id: UUID, windows: Windows) -> Windows:
    """``windows`` as they are, or as one window from the first's start to the last's end when the raw query rows in
    that range are at most ``extraction.ONE_WINDOW_ROWS`` (a statement over them is bounded as one window's is)."""
    spans = list(windows)
    if len(spans) < 2:
        return spans
    limit = extraction.ONE_WINDOW_ROWS
    if rollups.query_rows_up_to(conn, connector_id, spans[0][0], spans[-1][1], limit) > limit:
        return spans
    return [(spans[0][0], spans[-1][1])]


def local_windows(first: date, until: datetime, tz: str, months: bool = False) -> Iterator[tuple[datetime, datetime]]:
    """Local days (or months: from ``first`` to the end of its month, then whole months) from ``first`` until a
    window reaches ``until``, as [local midnight, next local midnight) instants."""
    day = first
    while (a := rollups.midnight(day, tz)) < until:
        nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=1) if months else day + DAY
        yield a, rollups.midnight(nxt, tz)
        day = nxt


def _plan(
    conn: Connection, connector_id: UUID, step: str, first: date | None, tz: str, done: Callable[[], None]
) -> bool:
    """Owe ``step`` from the first local day its plan says (a rebuild or a changed day: earlier; kept rollups or
    raw rows: later); when there is nothing to build, pay it (``done``). Returns whether there is a walk to make."""
    if first is None:
        sync_state.paid(conn, connector_id, step)
        done()
        return False
    sync_state.owe(conn, connector_id, step, rollups.midnight(first, tz), move=True)
    return True


def _merged(conn: Connection, connector_id: UUID, windows: Windows, until: datetime | None) -> Windows:
    """The windows of a step's walk: as they are for a trailing walk (``until``), else ``at_once_when_small``."""
    return windows if until is not None else at_once_when_small(conn, connector_id, windows)


def hourly_share(
    conn: Connection, connector_id: UUID, budget: Budget, now: datetime, until: datetime | None = None
) -> tuple[int, bool]:
    """The hourly cost share from the owed time, a day of queries per statement (all at once when they are few);
    ``until``: only the days that end by then (``walk``)."""
    return walk(
        conn,
        connector_id,
        "share",
        budget,
        lambda since: _merged(conn, connector_id, chunks(since, now + DAY), until),
        lambda a, b: query_share.apply_hourly_share(conn, connector_id, a, b),
        until=until,
    )


def query_rollups(
    conn: Connection,
    connector_id: UUID,
    tz: str,
    budget: Budget,
    now: datetime,
    until: datetime | None = None,
    plan: bool = True,
) -> tuple[int, bool]:
    """The last-read refresh and the query rollups, a local day per window (all at once when the days hold few raw
    query rows), from the owed day (or, when ``plan``, the day its plan says: ``rollups.query_rebuild_from``); the
    rollups are recorded built in ``tz`` with the step paid. ``until``: only the days that end by then (``walk``)."""
    since = sync_state.owed(conn, connector_id, "queries")
    if since is None:
        return 0, True
    done = partial(rollups.built, conn, connector_id, "query", tz)
    if plan:
        with transaction(conn):
            first = rollups.query_rebuild_from(conn, connector_id, tz, since)
            if first is None and until is not None:  # (a trailing walk leaves paying to the run's own)
                return 0, False
            if not _plan(conn, connector_id, "queries", first, tz, done):
                return 0, True

    def day(a: datetime, b: datetime) -> int:
        repo.refresh_table_reads(conn, connector_id, LARGE_TABLE_BYTES, a, b)
        return rollups.rebuild_query_days(conn, connector_id, tz, rollups.local_day(a, tz), rollups.local_day(b, tz))

    return walk(
        conn,
        connector_id,
        "queries",
        budget,
        lambda since: _merged(conn, connector_id, local_windows(rollups.local_day(since, tz), now + DAY, tz), until),
        day,
        done,
        until,
    )


@dataclass
class _Stoppable(Budget):
    """The run's deadline, or sooner: when the trail is told to stop. (Its own check of the deadline: ``Budget``'s is
    the extraction's, asked from the loading thread before each window.)"""

    stop: threading.Event = field(default_factory=threading.Event)

    def exhausted(self) -> bool:
        return self.stop.is_set() or (self.deadline is not None and time.monotonic() >= self.deadline)


class Trail:
    """The hourly share and the query rollups (with the last-read refresh) walked behind QUERY_HISTORY's windows
    (decisions §44): on a connection of its own, in a thread, each day is walked as soon as every query that shares
    an hour with it is stored (``query_share.settled``), while later windows load, instead of after the extraction.

    Each day is one transaction of the steps' own walks, its owed mark moved with it, so the run's post-load steps
    walk on from where the trail got to, and a run cut off anywhere keeps what either did. A day's share reads the
    same stored queries whichever of them prices it, so the rows are the same. Nothing the loader writes during the
    read is a row the trail writes: a window writes queries of its own time range only, after the days the trail
    walks. The trail starts with the first window that has a later one (a read of one window walks nothing behind
    it), stops on the run's budget and when the read ends (its day in flight finishes first), and stops on any error
    (logged: the run's steps then walk what it did not)."""

    def __init__(
        self, connect: Callable[[], Connection], connector_id: UUID, tz: str, budget: Budget, now: datetime
    ) -> None:
        self._connect, self._connector_id, self._tz, self._now = connect, connector_id, tz, now
        self._budget = _Stoppable(budget.deadline)
        self._loaded: datetime | None = None
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        # what it walked, as the run's post-load steps count theirs (the run adds them up)
        self.counts = {"hourly_share_queries": 0, "query_rollups": 0}

    def loaded(self, until: datetime) -> None:
        """Every query that began before ``until`` is stored (a window's transaction committed)."""
        with self._wake:
            self._loaded = until
            self._wake.notify()
        if self._thread is None and until < self._now:
            self._thread = threading.Thread(target=self._run, name="post-load-trail", daemon=True)
            self._thread.start()

    def __enter__(self) -> Trail:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._budget.stop.set()
        with self._wake:
            self._wake.notify()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        conn: Connection | None = None
        try:
            conn = self._connect()
            walked: datetime | None = None
            while True:
                with self._wake:
                    while not self._budget.stop.is_set() and self._loaded == walked:
                        self._wake.wait()
                    if self._budget.exhausted() or self._loaded is None:
                        return
                    loaded = self._loaded
                self._walk(conn, loaded, plan=walked is None)
                walked = loaded
        except Exception:  # the trail only runs ahead of the run's own steps: they walk what it did not
            logger.exception("post-load trail stopped; the run's post-load steps walk on from its marks")
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    def _walk(self, conn: Connection, loaded: datetime, plan: bool) -> None:
        """The days settled once the queries that began before ``loaded`` are stored: their share, then the
        rollups of the local days whose share is walked."""
        cid, budget = self._connector_id, self._budget
        until = query_share.settled(conn, cid, loaded)
        self.counts["hourly_share_queries"] += hourly_share(conn, cid, budget, self._now, until)[0]
        shared = sync_state.owed(conn, cid, "share") or until
        rolled, _ = query_rollups(conn, cid, self._tz, budget, self._now, min(until, shared), plan)
        self.counts["query_rollups"] += rolled


def spend_rollups(conn: Connection, connector_id: UUID, tz: str, budget: Budget, now: datetime) -> tuple[int, bool]:
    """The spend rollups, a local month per window, from the owed day (or the day its plan says)."""
    since = sync_state.owed(conn, connector_id, "spend")
    if since is None:
        return 0, True
    done = partial(rollups.built, conn, connector_id, "spend", tz)
    with transaction(conn):
        if not _plan(conn, connector_id, "spend", rollups.spend_rebuild_from(conn, connector_id, tz, since), tz, done):
            return 0, True
    return walk(
        conn,
        connector_id,
        "spend",
        budget,
        lambda since: local_windows(rollups.local_day(since, tz), now + DAY, tz, months=True),
        lambda a, b: rollups.rebuild_spend_days(
            conn, connector_id, tz, rollups.local_day(a, tz), rollups.local_day(b, tz)
        ),
        done,
    )


def rollup_keep_from(today: date, months: int) -> date:
    """The first local day the rollups are kept for: the first of the month ``months`` before today's."""
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def rollup_retention(conn: Connection, connector_id: UUID, tz: str, months: int, budget: Budget, now: datetime) -> int:
    """Delete rollup rows of local days before ``rollup_keep_from``, a local month per transaction (its rows and the
    retained-from mark together: the walks never rebuild before it, the API says it), oldest first, stopping on the
    run's time after at least one month. Returns the months deleted."""
    keep_from = rollup_keep_from(rollups.local_day(now, tz), months)
    n = 0
    while not (n and budget.exhausted()):
        oldest = rollups.oldest_rollup_day(conn, connector_id)
        if oldest is None or oldest >= keep_from:
            break
        until = min((oldest.replace(day=1) + timedelta(days=32)).replace(day=1), keep_from)
        with transaction(conn):
            rollups.delete_rollups(conn, connector_id, oldest, until)
            sync_state.set_retained_from(conn, connector_id, rollups.midnight(until, tz), rollups.RETAINED)
        n += 1
    return n
