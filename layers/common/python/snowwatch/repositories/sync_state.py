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
           WHERE connector_id = :c AND starts_with(view_name, :p)""",
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
