"""Watermarks per connector and source view (enterprise.sync_state), shared by the cost sync and the
security extraction. A watermark only moves forward, and only in the transaction that loaded its rows."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from snowwatch.db import Connection, query


def watermarks(conn: Connection, connector_id: UUID, prefix: str = "") -> dict[str, datetime]:
    """The connector's watermarks whose view name starts with ``prefix``, keyed without it."""
    rows = query(
        conn,
        """SELECT view_name, watermark FROM enterprise.sync_state
           WHERE connector_id = :c AND starts_with(view_name, :p) AND NOT starts_with(view_name, 'pending:')
             AND NOT starts_with(view_name, 'retained:') AND NOT starts_with(view_name, 'reached:')""",
        c=connector_id,
        p=prefix,
    )
    return {r["view_name"].removeprefix(prefix): r["watermark"] for r in rows}


def set_watermark(
    conn: Connection, connector_id: UUID, view: str, watermark: datetime, run_id: UUID, prefix: str = ""
) -> None:
    conn.run(
        """INSERT INTO enterprise.sync_state (connector_id, view_name, watermark, last_run_id, updated_at)
           VALUES (:c, :v, :w, :r, now())
           ON CONFLICT (connector_id, view_name)
           DO UPDATE SET watermark = GREATEST(enterprise.sync_state.watermark, EXCLUDED.watermark),
                         last_run_id = EXCLUDED.last_run_id, updated_at = now()""",
        c=connector_id,
        v=prefix + view,
        w=watermark,
        r=run_id,
    )


def _mark(conn: Connection, connector_id: UUID, name: str) -> datetime | None:
    """The time of the sync_state row ``name`` (a pending, retained or reached mark), or None."""
    rows = conn.run(
        "SELECT watermark FROM enterprise.sync_state WHERE connector_id = :c AND view_name = :v",
        c=connector_id,
        v=name,
    )
    return rows[0][0] if rows else None


def _set_mark(conn: Connection, connector_id: UUID, name: str, at: datetime, keep: str = "EXCLUDED.watermark") -> None:
    """Set the mark ``name`` to ``at``; an existing one becomes ``keep`` (SQL over the stored ``watermark`` and
    ``EXCLUDED.watermark``: the new time by default)."""
    conn.run(
        f"""INSERT INTO enterprise.sync_state (connector_id, view_name, watermark, updated_at)
           VALUES (:c, :v, :w, now())
           ON CONFLICT (connector_id, view_name)
           DO UPDATE SET watermark = {keep}, updated_at = now()""",
        c=connector_id,
        v=name,
        w=at,
    )


def _drop_mark(conn: Connection, connector_id: UUID, name: str) -> None:
    conn.run("DELETE FROM enterprise.sync_state WHERE connector_id = :c AND view_name = :v", c=connector_id, v=name)


# Where an unfinished read of a view stopped (the end of its last loaded window): a continuation, or the next run
# after a cut-off one, goes on from there, while the watermark stays at the settled point (``now - LOOKBACK``) so
# that the run after the read completes re-reads the whole lookback. Set with each window, deleted in the
# transaction of the read's last window.
REACHED_PREFIX = "reached:"


def reached(conn: Connection, connector_id: UUID, view: str, prefix: str = "") -> datetime | None:
    return _mark(conn, connector_id, REACHED_PREFIX + prefix + view)


def set_reached(conn: Connection, connector_id: UUID, view: str, at: datetime | None, prefix: str = "") -> None:
    """The read of ``view`` reached ``at``; None: it is complete (the mark goes)."""
    name = REACHED_PREFIX + prefix + view
    if at is None:
        _drop_mark(conn, connector_id, name)
    else:
        _set_mark(conn, connector_id, name, at)


# Post-load steps (rollups, hourly share) still owed from this time on: set when a view starts loading, cleared
# in the transaction of the step that caught up. A run cut off (or continued) in between leaves it for the next.
PENDING_PREFIX = "pending:"


def owe(conn: Connection, connector_id: UUID, step: str, since: datetime, move: bool = False) -> None:
    """Owe ``step`` from ``since`` (the earliest owed time wins); ``move``: the step caught up to ``since``."""
    keep = "EXCLUDED.watermark" if move else "LEAST(enterprise.sync_state.watermark, EXCLUDED.watermark)"
    _set_mark(conn, connector_id, PENDING_PREFIX + step, since, keep)


def owed(conn: Connection, connector_id: UUID, step: str) -> datetime | None:
    return _mark(conn, connector_id, PENDING_PREFIX + step)


def paid(conn: Connection, connector_id: UUID, step: str) -> None:
    _drop_mark(conn, connector_id, PENDING_PREFIX + step)


# Raw rows kept from this time on (the retention step deletes older ones): moved forward in the transaction that
# deleted the rows before it, so a run cut off between two days neither loses nor repeats a day.
RETAINED_PREFIX = "retained:"


def retained_from(conn: Connection, connector_id: UUID, what: str = "queries") -> datetime | None:
    return _mark(conn, connector_id, RETAINED_PREFIX + what)


def set_retained_from(conn: Connection, connector_id: UUID, since: datetime, what: str = "queries") -> None:
    keep = "GREATEST(enterprise.sync_state.watermark, EXCLUDED.watermark)"
    _set_mark(conn, connector_id, RETAINED_PREFIX + what, since, keep)


def owing_before(conn: Connection, connector_ids: list[UUID], steps: tuple[str, ...], until: datetime) -> list[UUID]:
    """Those of ``connector_ids`` that owe one of ``steps`` from before ``until``."""
    rows = conn.run(
        """SELECT DISTINCT connector_id FROM enterprise.sync_state
           WHERE connector_id = ANY(CAST(:c AS uuid[])) AND view_name = ANY(CAST(:v AS text[])) AND watermark < :u""",
        c=[str(c) for c in connector_ids],
        v=[PENDING_PREFIX + s for s in steps],
        u=until,
    )
    return [r[0] for r in rows]
