"""Cost sync (placeholder until the cost pipeline lands)."""

from __future__ import annotations

from typing import Any

from snowwatch.db import Connection


def run_sync(conn: Connection, ctx: Any) -> dict[str, Any]:
    return {}
