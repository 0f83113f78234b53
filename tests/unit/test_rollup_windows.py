"""The post-load walk's windows and the rollup retention bound (services/post_load.py), and its setting."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from snowwatch.services import post_load
from snowwatch.settings import SnowflakeSettings


@pytest.mark.parametrize(
    ("today", "months", "expected"),
    [
        (date(2026, 11, 30), 13, date(2025, 10, 1)),
        (date(2026, 1, 1), 13, date(2024, 12, 1)),
        (date(2026, 3, 15), 1, date(2026, 2, 1)),
        (date(2026, 12, 31), 12, date(2025, 12, 1)),
    ],
)
def test_rollups_are_kept_from_the_first_of_a_month(today: date, months: int, expected: date) -> None:
    """Given today and ROLLUP_RETENTION_MONTHS, then the first kept day is the first of the month that many before."""
    assert post_load.rollup_keep_from(today, months) == expected


def test_local_day_windows_follow_the_connectors_midnights() -> None:
    """Given a Berlin connector across the end of summer time, then each window is one local day, midnight to
    midnight (the 25-hour day included), and the last one reaches past ``until``."""
    until = datetime(2026, 10, 26, 12, 0, tzinfo=UTC)
    windows = list(post_load.local_windows(date(2026, 10, 24), until, "Europe/Berlin"))
    assert [(a.isoformat(), b.isoformat()) for a, b in windows] == [
        ("2026-10-24T00:00:00+02:00", "2026-10-25T00:00:00+02:00"),
        ("2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00"),
        ("2026-10-26T00:00:00+01:00", "2026-10-27T00:00:00+01:00"),
    ]
    a, b = (t.astimezone(UTC) for t in windows[1])
    assert (b - a).total_seconds() == 25 * 3600


def test_month_windows_start_on_the_owed_day_then_whole_months() -> None:
    """Given spend owed from 20 January, then the windows are 20 January to 1 February, then whole months."""
    until = datetime(2026, 3, 2, tzinfo=UTC)
    days = [(a.date(), b.date()) for a, b in post_load.local_windows(date(2026, 1, 20), until, "UTC", months=True)]
    assert days == [
        (date(2026, 1, 20), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 4, 1)),
    ]


@pytest.mark.parametrize("value", ["0", "121", "x"])
def test_rollup_retention_months_is_validated(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given ROLLUP_RETENTION_MONTHS out of 1..120, then the settings refuse it at start."""
    monkeypatch.setenv("ROLLUP_RETENTION_MONTHS", value)
    with pytest.raises(ValidationError):
        SnowflakeSettings(timezone="UTC")  # type: ignore[call-arg]


def test_rollup_retention_months_defaults_to_13(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROLLUP_RETENTION_MONTHS", raising=False)
    assert SnowflakeSettings().rollup_retention_months == 13  # type: ignore[call-arg]
