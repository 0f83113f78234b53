"""The raw query table's daily partitions (migration 0420): made ahead of a load, listed and dropped by retention.

A partition holds one UTC day of ``start_time`` (``snowflake_query_history_pYYYYMMDD``); rows no day partition
holds go to ``snowflake_query_history_default``. Making and dropping partitions goes through the two SECURITY
DEFINER functions of 0420 (the jobs role does not own the table)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from pg8000.exceptions import DatabaseError

from snowwatch.db import Connection

PARENT = "enterprise.snowflake_query_history"
DEFAULT = "enterprise.snowflake_query_history_default"
PREFIX = "snowflake_query_history_p"
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout reached
RETENTION_LOCK = "snowwatch:query_retention"


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def is_lock_timeout(exc: BaseException) -> bool:
    return isinstance(exc, DatabaseError) and bool(exc.args) and exc.args[0].get("C") == LOCK_NOT_AVAILABLE


def ensure_query_partitions(conn: Connection, lo: datetime, hi: datetime) -> int:
    """Make the partitions of every UTC day that ``[lo, hi)`` touches (rows of those days in DEFAULT move into
    them); returns how many were made. Concurrency-safe (0420's lock on the parent); call it outside a long
    transaction: the ATTACH holds its locks until commit."""
    if hi <= lo:
        return 0
    first = lo.astimezone(UTC).date()
    last = (hi - timedelta(microseconds=1)).astimezone(UTC).date()
    rows = conn.run(
        "SELECT enterprise.ensure_query_partitions(CAST(:lo AS date), CAST(:hi AS date))",
        lo=first,
        hi=last + timedelta(days=1),
    )
    return int(rows[0][0])


def partition_days(conn: Connection) -> list[date]:
    """The UTC days that have a partition, oldest first."""
    rows = conn.run(
        """SELECT c.relname FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = CAST(:p AS regclass) AND starts_with(c.relname, :prefix)""",
        p=PARENT,
        prefix=PREFIX,
    )
    return sorted(datetime.strptime(r[0].removeprefix(PREFIX), "%Y%m%d").date() for r in rows)


def default_days(conn: Connection) -> list[date]:
    """The UTC days of the rows in DEFAULT (rows loaded while their day had no partition; normally none)."""
    rows = conn.run(f"SELECT DISTINCT (start_time AT TIME ZONE 'UTC')::date FROM {DEFAULT} ORDER BY 1")
    return [r[0] for r in rows]


def try_retention_lock(conn: Connection) -> bool:
    """The retention's advisory lock for this transaction (False: another sync is dropping partitions now)."""
    rows = conn.run("SELECT pg_try_advisory_xact_lock(hashtext(:k))", k=RETENTION_LOCK)
    return bool(rows[0][0])


def lock_table(conn: Connection, timeout_s: int = 10) -> None:
    """Hold the raw query table exclusively for the rest of the transaction, waiting at most ``timeout_s``: every
    row of a day is committed (and seen) before the day is judged, and no load writes into it meanwhile."""
    conn.run(f"SET LOCAL lock_timeout = '{int(timeout_s)}s'")
    conn.run(f"LOCK TABLE ONLY {PARENT} IN ACCESS EXCLUSIVE MODE")


def connectors_in(conn: Connection, lo: datetime, hi: datetime) -> list[tuple[UUID, str]]:
    """The connectors (id, timezone) with raw rows started in ``[lo, hi)``: a skip scan of
    key (connector_id, start_time, query_id), one index probe per connector."""
    rows = conn.run(
        f"""WITH RECURSIVE c(id) AS (
                (SELECT connector_id FROM {PARENT} WHERE start_time >= :lo AND start_time < :hi
                 ORDER BY connector_id LIMIT 1)
                UNION ALL
                SELECT (SELECT q.connector_id FROM {PARENT} q
                        WHERE q.connector_id > c.id AND q.start_time >= :lo AND q.start_time < :hi
                        ORDER BY q.connector_id LIMIT 1)
                FROM c WHERE c.id IS NOT NULL)
            SELECT k.id, k.timezone FROM c JOIN enterprise.connectors k ON k.id = c.id ORDER BY k.id""",
        lo=lo,
        hi=hi,
    )
    return [(r[0], r[1]) for r in rows]


def drop_query_partition(conn: Connection, day: date) -> bool:
    """Drop the UTC day's partition (its rows go with it); False when it had none."""
    rows = conn.run("SELECT enterprise.drop_query_partition(CAST(:d AS date))", d=day)
    return bool(rows[0][0])
