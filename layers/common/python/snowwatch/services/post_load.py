"""The sync's post-load steps, each walked a window at a time (issue 14): every Postgres statement of a job is bounded
by a window, whatever the backfill.

A step is owed from a time on (``sync_state.owe``, set when a view starts loading). ``walk`` goes through the owed
range in windows, each in ONE transaction with the owed mark moved past it, and stops when the run's time is up
(after at least one window); the run then queues a post-load-only continuation that walks on from the mark. The
steps: the hourly cost share ('share': a day of queries per statement), the query rollups with the last-read refresh
('queries': a connector-local day per window), the spend rollups ('spend': a local month per window), and the
retention of the rollups (a local month per transaction). The two query steps take their whole owed range as one
window when it holds at most ``extraction.ONE_WINDOW_ROWS`` raw query rows (a small account: one statement instead of
one a day; decisions §33).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from functools import partial
from uuid import UUID

from snowwatch.db import Connection, transaction
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
) -> tuple[int, bool]:
    """Walk the owed ``step`` a window at a time: ``apply`` each window of ``windows(owed)``, in one transaction with
    the owed mark moved to the window's end; when none is left, the step is paid (and ``done`` runs) in one more.
    Returns the sum of what ``apply`` returned and whether the step finished (False: the run's time ran out, after
    at least one window; the rest is still owed)."""
    since = sync_state.owed(conn, connector_id, step)
    if since is None:
        return 0, True
    total = 0
    for n, (a, b) in enumerate(windows(since)):
        if n and budget.exhausted():
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


def hourly_share(conn: Connection, connector_id: UUID, budget: Budget, now: datetime) -> tuple[int, bool]:
    """The hourly cost share from the owed time, a day of queries per statement (all at once when they are few)."""
    return walk(
        conn,
        connector_id,
        "share",
        budget,
        lambda since: at_once_when_small(conn, connector_id, chunks(since, now + DAY)),
        lambda a, b: query_share.apply_hourly_share(conn, connector_id, a, b),
    )


def query_rollups(conn: Connection, connector_id: UUID, tz: str, budget: Budget, now: datetime) -> tuple[int, bool]:
    """The last-read refresh and the query rollups, a local day per window (all at once when the days hold few raw
    query rows), from the owed day (or the day its plan
    says: ``rollups.query_rebuild_from``); the rollups are recorded built in ``tz`` with the step paid."""
    since = sync_state.owed(conn, connector_id, "queries")
    if since is None:
        return 0, True
    done = partial(rollups.built, conn, connector_id, "query", tz)
    with transaction(conn):
        if not _plan(
            conn, connector_id, "queries", rollups.query_rebuild_from(conn, connector_id, tz, since), tz, done
        ):
            return 0, True

    def day(a: datetime, b: datetime) -> int:
        repo.refresh_table_reads(conn, connector_id, LARGE_TABLE_BYTES, a, b)
        return rollups.rebuild_query_days(conn, connector_id, tz, rollups.local_day(a, tz), rollups.local_day(b, tz))

    return walk(
        conn,
        connector_id,
        "queries",
        budget,
        lambda since: at_once_when_small(
            conn, connector_id, local_windows(rollups.local_day(since, tz), now + DAY, tz)
        ),
        day,
        done,
    )


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
