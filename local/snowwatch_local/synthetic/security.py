"""Synthetic security views (placeholder until the security issue lands)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def seed(cursor: Any, scale: Any, now: datetime) -> dict[str, int]:
    return {}
