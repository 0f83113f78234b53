"""Query windows are planned from the view's hourly counts: none holds more than the target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from snowwatch.services.extraction import MIN_WINDOW, window_end

H = timedelta(hours=1)
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _windows(hours: dict[datetime, int], start: datetime, end: datetime, target: int) -> list[tuple[datetime, float]]:
    """(window end, rows in it with rows spread evenly inside an hour) from ``start`` to ``end``, day windows."""
    out, a = [], start
    while a < end:
        b = window_end(a, min(a + timedelta(days=1), end), hours, target)
        rows, t = 0.0, a
        while t < b:
            hour = t.replace(minute=0, second=0, microsecond=0)
            step = min(hour + H, b)
            rows += hours.get(hour, 0) * ((step - t) / H)
            t = step
        out.append((b, rows))
        a = b
    return out


def test_a_burst_after_a_quiet_stretch_is_read_in_windows_of_the_target() -> None:
    """Given two quiet days (10 rows an hour) and then 6,000 rows in one hour, when the windows are planned with a
    500-row target, then the quiet days are day windows and no window holds more than 500 rows but those that
    cannot be shorter than 15 minutes (before: a day window held the burst whole)."""
    hours = {T0 + i * H: 10 for i in range(48)} | {T0 + 48 * H: 6000}
    windows = _windows(hours, T0, T0 + 50 * H, 500)
    assert windows[0][0] == T0 + timedelta(days=1)
    assert windows[-1][0] == T0 + 50 * H
    assert sum(rows for _, rows in windows) == sum(hours.values())
    assert max(rows for _, rows in windows) <= 6000 * (MIN_WINDOW / H)  # 1,500: a 15-minute slice of the burst
    assert all(rows <= 500 for b, rows in windows if b <= T0 + 48 * H)


def test_an_even_account_reads_the_target_a_window() -> None:
    """Given 10,000 rows an hour for three days, when planned with a 100k target, then every window but the last
    holds the target (10 hours) and the windows follow each other."""
    hours = {T0 + i * H: 10_000 for i in range(72)}
    windows = _windows(hours, T0 + 30 * timedelta(minutes=1), T0 + 72 * H, 100_000)
    assert all(abs(rows - 100_000) < 1 for _, rows in windows[:-1])
    assert windows[-1][1] <= 100_000
