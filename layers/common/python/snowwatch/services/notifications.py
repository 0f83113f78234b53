"""Notifications (placeholder until the budgets issue lands)."""

from __future__ import annotations

from typing import Any

from snowwatch.db import Connection


def relay(conn: Connection, ctx: Any) -> dict[str, Any]:
    return {}
