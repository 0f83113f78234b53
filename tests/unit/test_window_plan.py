"""Query windows are planned from the view's row counts per 10-minute slice: none holds more than the target."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from snowwatch.services.extraction import MIN_WINDOW, SLICE, window_end

H = timedelta(hours=1)
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _per_slice(hours: dict[datetime, float]) -> dict[datetime, float]:
    """Hourly counts spread evenly over the hour's six slices."""
    return {hour + k * SLICE: n / 6 for hour, n in hours.items() for k in range(6)}


def _windows(
    slices: dict[datetime, float], start: datetime, end: datetime, target: int
) -> list[tuple[datetime, float]]:
    """(window end, rows in it with rows spread evenly inside a slice) from ``start`` to ``end``, day windows."""
    out, a = [], start
    while a < end:
        b = window_end(a, min(a + timedelta(days=1), end), slices, target)  # type: ignore[arg-type]
        rows, t = 0.0, a
        while t < b:
            first = t.replace(minute=t.minute - t.minute % 10, second=0, microsecond=0)
            step = min(first + SLICE, b)
            rows += slices.get(first, 0) * ((step - t) / SLICE)
            t = step
        out.append((b, rows))
        a = b
    return out


def test_a_burst_after_a_quiet_stretch_is_read_in_windows_of_the_target() -> None:
    """Given two quiet days (10 rows an hour) and then 6,000 rows in one hour, when the windows are planned with a
    500-row target, then the quiet days are day windows and no window holds more than 500 rows (before: a day window
    held the burst whole)."""
    slices = _per_slice({T0 + i * H: 10 for i in range(48)} | {T0 + 48 * H: 6000})
    windows = _windows(slices, T0, T0 + 50 * H, 500)
    assert windows[0][0] == T0 + timedelta(days=1)
    assert windows[-1][0] == T0 + 50 * H
    assert abs(sum(rows for _, rows in windows) - sum(slices.values())) < 1e-6
    assert max(rows for _, rows in windows) <= 500 + 1e-6


def test_a_burst_packed_into_part_of_an_hour_is_split_by_its_slice() -> None:
    """Given 6,000 rows in the first 10 minutes of an hour after a quiet one, when planned with a 500-row target,
    then no window holds more than 500 rows (by hourly counts the planner took the hour as 100 rows a minute and
    planned 5-minute windows, under the old 15-minute floor: a window of 15 minutes held 6,000 rows), and none is
    shorter than MIN_WINDOW."""
    slices = {T0 + k * SLICE: 10 / 6 for k in range(6)} | {T0 + H: 6000.0}
    windows = _windows(slices, T0, T0 + 2 * H, 500)
    assert max(rows for _, rows in windows) <= 500 + 1e-6
    assert abs(sum(rows for _, rows in windows) - sum(slices.values())) < 1e-6
    ends = [T0, *(b for b, _ in windows)]
    assert all(b - a >= MIN_WINDOW for a, b in itertools.pairwise(ends) if b < T0 + 2 * H)


def test_an_even_account_reads_the_target_a_window() -> None:
    """Given 10,000 rows an hour for three days, when planned with a 100k target, then every window but the last
    holds the target (10 hours) and the windows follow each other."""
    slices = _per_slice({T0 + i * H: 10_000 for i in range(72)})
    windows = _windows(slices, T0 + 30 * timedelta(minutes=1), T0 + 72 * H, 100_000)
    assert all(abs(rows - 100_000) < 1 for _, rows in windows[:-1])
    assert windows[-1][1] <= 100_000
