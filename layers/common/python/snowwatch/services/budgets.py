"""Budgets (placeholder until the budgets issue lands)."""

from __future__ import annotations

from typing import Any

from snowwatch.db import Connection


def check_budgets(conn: Connection, ctx: Any) -> dict[str, Any]:
    return {}


def snapshot_budgets(conn: Connection, ctx: Any) -> dict[str, Any]:
    return {}
