"""Synthetic cost views (placeholder until the cost pipeline lands)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def seed(cursor: Any, scale: Any, now: datetime) -> dict[str, int]:
    return {}
