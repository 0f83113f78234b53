"""The one-read-ahead helper of the extraction (decisions §39): results and errors reach the caller's thread, and
the background thread never outlives the block."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from snowwatch.services.prefetch import Ahead, Fetched, deferred


def test_a_read_ahead_gives_its_result_in_the_callers_thread_from_another_thread() -> None:
    """Given a read started ahead for a key
    When the caller takes that key
    Then it gets the read's result, which was computed in the background thread; nothing is ahead afterwards."""
    with Ahead[str]() as ahead:
        ahead.start("k", lambda: threading.current_thread().name)
        assert str(ahead.take("k")).startswith("snowwatch-prefetch")
        assert ahead.take("k") is None


def test_a_read_ahead_raises_its_error_where_it_is_taken() -> None:
    """Given a read ahead that raises
    When the caller takes it
    Then the same exception is raised in the caller's thread."""
    with Ahead[int]() as ahead:
        ahead.start("k", lambda: 1 // 0)
        with pytest.raises(ZeroDivisionError):
            ahead.take("k")


def test_one_read_ahead_at_most_and_taken_by_its_own_key() -> None:
    """Given a read ahead for one key
    When another is started, or another key is taken
    Then both are refused (a second window in memory, or a window loaded as another, would be a bug)."""
    with Ahead[int]() as ahead:
        ahead.start("a", lambda: 1)
        with pytest.raises(RuntimeError):
            ahead.start("b", lambda: 2)
        with pytest.raises(RuntimeError):
            ahead.take("b")


def test_leaving_the_block_joins_a_read_never_taken() -> None:
    """Given a read ahead still running when the block is left (a stop, or an exception in the caller)
    When the block exits
    Then it has waited for the read to end (the thread does not outlive the block) and dropped its result."""
    release, ended = threading.Event(), threading.Event()

    def read() -> int:
        release.wait(5)
        ended.set()
        return 1

    with pytest.raises(KeyError), Ahead[int]() as ahead:
        ahead.start("k", read)
        threading.Timer(0.05, release.set).start()
        raise KeyError("the caller failed")
    assert ended.is_set()
    assert not [t for t in threading.enumerate() if t.name.startswith("snowwatch-prefetch")]


def test_a_companion_error_is_deferred_to_where_the_window_is_used() -> None:
    """Given a companion read that raises a ProgrammingError in the reading thread
    When the window is made ready with a companion that settles it
    Then the error reaches the companion's settle (which leaves the companion out), not the reading thread."""
    from snowflake.connector import errors as sf_errors

    def fails() -> list[object] | None:
        raise sf_errors.ProgrammingError(msg="no grant")

    class Companion:
        seen: list[str] = []

        def settle(self, read: Callable[[], list[object] | None]) -> list[object] | None:
            try:
                return read()
            except sf_errors.ProgrammingError as exc:
                self.seen.append(str(exc.msg))
                return None

    window = Fetched([1, 2], deferred(fails))
    companion = Companion()
    assert window.ready(companion) == ([1, 2], None) and companion.seen == ["no grant"]
    assert Fetched([3], deferred(lambda: [4])).ready(companion) == ([3], [4])
    assert Fetched([3], None).ready(companion) == ([3], None)
