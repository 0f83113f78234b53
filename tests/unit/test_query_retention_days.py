"""Which UTC day partitions the raw query retention may drop, and the retained-from mark it sets
(services/query_retention.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from snowwatch.services import query_retention

ZONES = ("UTC", "Pacific/Kiritimati", "Etc/GMT+12", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham")


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("hour", [0, 5, 11, 13, 23])
def test_no_connector_loses_a_local_day_it_should_keep(zone: str, hour: int) -> None:
    """Given any connector timezone (UTC+14 to UTC-12) and any time of day, when the cutoff for 35 days is computed,
    then every partition it lets go ends at or before the connector's first kept local midnight (35 local days
    before its today), and the cutoff is less than a day and a half earlier than that midnight."""
    now = datetime(2026, 11, 30, hour, 17, tzinfo=UTC)
    tz = ZoneInfo(zone)
    local_keep_from = datetime.combine(now.astimezone(tz).date() - timedelta(days=35), time(0), tzinfo=tz)
    cutoff = query_retention.retention_cutoff(now, 35)
    assert cutoff.tzinfo is not None and cutoff.time() == time(0)
    assert cutoff <= local_keep_from
    assert local_keep_from - cutoff < timedelta(days=2)


def test_the_cutoff_is_the_utc_midnight_of_the_days_kept_and_one_more() -> None:
    """Given 08:00 UTC on 30 November and 35 days, then partitions ending at or before 25 October 00:00 UTC go."""
    assert query_retention.retention_cutoff(datetime(2026, 11, 30, 8, tzinfo=UTC), 35) == datetime(
        2026, 10, 25, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", datetime(2026, 10, 25, tzinfo=UTC)),
        ("America/Los_Angeles", datetime(2026, 10, 25, 7, tzinfo=UTC)),  # PDT midnight
        ("Asia/Tokyo", datetime(2026, 10, 25, 15, tzinfo=UTC)),  # 26 October 00:00 JST
        ("Europe/Berlin", datetime(2026, 10, 25, 23, tzinfo=UTC)),  # after the 25-hour day: 26 October 00:00 CET
    ],
)
def test_the_mark_is_the_first_local_midnight_after_the_dropped_day(zone: str, expected: datetime) -> None:
    """Given the UTC day 24 October dropped, then each connector's retained-from mark is its first local midnight at
    or after 25 October 00:00 UTC: its first fully kept local day."""
    end = datetime(2026, 10, 25, tzinfo=UTC)
    assert query_retention.first_local_midnight(end, zone) == expected
    assert query_retention.first_local_midnight(end, zone).astimezone(ZoneInfo(zone)).time() == time(0)
