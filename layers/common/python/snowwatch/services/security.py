"""Security extraction and rules (placeholder until the security issue lands)."""

from __future__ import annotations

from typing import Any

from snowwatch.db import Connection


def run_security(conn: Connection, ctx: Any) -> dict[str, Any]:
    return {}
