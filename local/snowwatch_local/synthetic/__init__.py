"""A deterministic synthetic Snowflake account inside the fakesnow server.

`SNOWFLAKE.ACCOUNT_USAGE` views with the real column names, seeded set-based (GENERATOR)
relative to a fixed ``now`` so every run of the same size and day produces the same rows.
Each domain owns its module: cost.py (metering, storage, query history ...), security.py
(users, logins, grants, policies ...). ``size`` scales the data for benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from snowwatch_local.synthetic import cost, security

Size = Literal["tiny", "demo", "bench"]


@dataclass(frozen=True)
class Scale:
    days: int
    warehouses: int
    queries_per_day: int


SCALES: dict[str, Scale] = {
    "tiny": Scale(days=35, warehouses=3, queries_per_day=50),
    "demo": Scale(days=120, warehouses=6, queries_per_day=400),
    "bench": Scale(days=365, warehouses=50, queries_per_day=5500),
}


def anchor(now: datetime | None = None) -> datetime:
    """The synthetic account's 'now': the current hour, so data stays fresh yet repeatable within it."""
    now = now or datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0)


def seed(cursor: Any, size: Size = "demo", now: datetime | None = None) -> dict[str, int]:
    """Create and fill the ACCOUNT_USAGE views; return row counts per view."""
    cursor.execute("CREATE DATABASE IF NOT EXISTS SNOWFLAKE")
    cursor.execute("CREATE SCHEMA IF NOT EXISTS SNOWFLAKE.ACCOUNT_USAGE")
    cursor.execute("CREATE SCHEMA IF NOT EXISTS SNOWFLAKE.ORGANIZATION_USAGE")
    at = anchor(now)
    counts: dict[str, int] = {}
    counts.update(cost.seed(cursor, SCALES[size], at))
    counts.update(security.seed(cursor, SCALES[size], at))
    return counts
