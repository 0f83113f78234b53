"""Raw query rows in daily partitions (issue 14 item 4, migration 0420, decisions.md §30).

* **Ahead of a load.** Before each QUERY_HISTORY / QUERY_ATTRIBUTION_HISTORY window ``[a, b)`` (both read by
  START_TIME, the partition key) the sync makes the partitions of the UTC days the window touches, in a
  transaction of its own (an ATTACH holds its locks until commit; the window's load transaction may last a
  minute). Rows that still find no partition (a partition dropped meanwhile, a lock not obtained in time, rows
  written by other paths) land in DEFAULT and never fail; the retention step first moves them into partitions of
  their own days (:func:`sweep_default`), so DEFAULT stays (nearly) empty and the ATTACH's check of it stays cheap.
* **Retention drops whole days.** A UTC day's partition goes when it ends at or before ``now`` -
  ``QUERY_RETENTION_DAYS`` - 1 day (the day of slack covers every connector timezone: no connector loses a local
  day it should keep) and every connector with rows in it owes neither the query rollups nor the hourly share
  from before its end (their rollups hold the day). Oldest first, one day per transaction: the table lock, the
  check, the DROP and the retained-from mark of each connector that had rows in it (the first local midnight at or
  after the day's end: the first fully kept local day) commit together, so a run cut off anywhere has dropped
  whole days with their marks, and nothing else. At most ``QUERY_RETENTION_DAYS_PER_RUN`` days per run, stopping
  on the run's budget; an advisory lock makes one sync at a time do it (the others skip).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from snowwatch.db import Connection, transaction
from snowwatch.observability import logger
from snowwatch.repositories import query_partitions as partitions
from snowwatch.repositories import sync_state
from snowwatch.services.extraction import Budget

DAY = timedelta(days=1)
OWED_STEPS = ("queries", "share")  # the post-load steps whose rollups must hold a day before it is dropped


def prepare_window(conn: Connection, since: datetime, until: datetime) -> int:
    """The partitions of the UTC days ``[since, until)`` touches (made now, committed); a lock not obtained in time
    is not an error: the window's rows go to DEFAULT and :func:`sweep_default` moves them later."""
    try:
        with transaction(conn):
            return partitions.ensure_query_partitions(conn, since, until)
    except Exception as exc:
        if not partitions.is_lock_timeout(exc):
            raise
        logger.warning("query partitions not made (lock timeout); rows go to DEFAULT", extra={"since": since})
        return 0


def sweep_default(conn: Connection) -> int:
    """Move the rows held by DEFAULT into partitions of their days (made for them); returns the days moved."""
    moved = 0
    for day in partitions.default_days(conn):
        moved += 1 if prepare_window(conn, partitions.day_start(day), partitions.day_start(day) + DAY) else 0
    return moved


def retention_cutoff(now: datetime, keep_days: int) -> datetime:
    """Partitions ending at or before this go: ``keep_days`` days and a day of timezone slack before now's UTC day."""
    return partitions.day_start(now.astimezone(UTC).date() - timedelta(days=keep_days + 1))


def first_local_midnight(at: datetime, tz: str) -> datetime:
    """The first midnight at or after ``at`` in ``tz``."""
    zone = ZoneInfo(tz)
    local = at.astimezone(zone).date()
    midnight = datetime.combine(local, time(0), tzinfo=zone)
    return midnight if midnight >= at else datetime.combine(local + DAY, time(0), tzinfo=zone)


def _drop_day(conn: Connection, day: date) -> bool:
    """One day's check, DROP and marks in one transaction; False when it may not go (yet) or another sync is
    dropping."""
    end = partitions.day_start(day) + DAY
    with transaction(conn):
        if not partitions.try_retention_lock(conn):
            return False
        partitions.lock_table(conn)
        holders = partitions.connectors_in(conn, partitions.day_start(day), end)
        owing = sync_state.owing_before(conn, [c for c, _ in holders], OWED_STEPS, end)
        if owing:
            logger.info("query partition kept: rollups still owed", extra={"day": day.isoformat(), "by": owing})
            return False
        if not partitions.drop_query_partition(conn, day):
            return True  # gone meanwhile: nothing dropped here, no mark to move
        for connector_id, tz in holders:
            sync_state.set_retained_from(conn, connector_id, first_local_midnight(end, tz))
    return True


def drop_expired(conn: Connection, now: datetime, keep_days: int, max_days: int, budget: Budget) -> int:
    """Drop the expired daily partitions, oldest first, at most ``max_days`` of them and stopping on the budget
    (after one); returns the days dropped."""
    sweep_default(conn)
    cutoff = retention_cutoff(now, keep_days)
    dropped = 0
    for day in partitions.partition_days(conn):
        if partitions.day_start(day) + DAY > cutoff or dropped >= max_days or (dropped and budget.exhausted()):
            break
        try:
            if not _drop_day(conn, day):
                break
        except Exception as exc:
            if not partitions.is_lock_timeout(exc):
                raise
            logger.warning("query retention skipped (lock timeout)", extra={"day": day.isoformat()})
            break
        dropped += 1
    return dropped
