"""One read ahead of the loop that uses it: the extraction reads window k+1 from Snowflake while window k loads.

A view's windows are read from Snowflake (seconds of remote execution per ACCOUNT_USAGE statement) and loaded into
Postgres (remote RDS work); done one after the other, each side waits for the other. :class:`Ahead` runs ONE read
in ONE background thread while the caller goes on (decisions §39):

- at most one read is in flight or waiting to be taken (memory: a second window, docs/scale.md "Memory");
- :meth:`Ahead.take` gives the read's result in the caller's thread, or raises the read's exception there, as the
  read would have raised had the caller made it itself;
- leaving the ``with`` block joins the thread (a read not taken is discarded, never used): the thread never
  outlives the loop, whatever ends it (done, a stop on the budget, an exception).

The reads themselves must touch nothing the caller's thread uses meanwhile: here, only the Snowflake session, which
the caller's thread does not use while a read is ahead (every Postgres statement stays in the caller's thread).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
Batches = list[Any]
# A window read before its load: its batches and its companion's (None: not read).
Ready = tuple[Batches, Batches | None]


class Settles(Protocol):
    """A companion as a window read ahead needs it (extraction._Companion)."""

    def settle(self, read: Callable[[], Batches | None]) -> Batches | None: ...


class Ahead(Generic[T]):
    """At most one read, keyed (a window's bounds), running in one background thread until taken."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snowwatch-prefetch")
        self._key: Hashable = None
        self._future: Future[T] | None = None

    def __enter__(self) -> Ahead[T]:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        """Join the thread; a read not taken is dropped (its result, or its exception, goes unused)."""
        self._future = None
        self._pool.shutdown(wait=True, cancel_futures=True)

    def start(self, key: Hashable, read: Callable[[], T]) -> None:
        """Run ``read`` in the background thread; the read ahead before (if any) must have been taken."""
        if self._future is not None:
            raise RuntimeError("a read is already ahead")
        self._key, self._future = key, self._pool.submit(read)

    def take(self, key: Hashable) -> T | None:
        """The read started for ``key`` (waited for; its exception raised here), or None when none is ahead."""
        if self._future is None:
            return None
        if self._key != key:
            raise RuntimeError(f"the read ahead is for {self._key!r}, not {key!r}")
        future, self._future = self._future, None
        return future.result()


@dataclass(frozen=True)
class Fetched:
    """A window read whole (extraction._Read.fetch); ``extra`` gives its companion's batches or raises the companion's
    read error, in the thread that loads it."""

    batches: Batches
    extra: Callable[[], Batches | None] | None

    def ready(self, companion: Settles | None) -> Ready:
        """Its batches and its companion's, the companion settled (made inactive when it could not be read)."""
        if companion is None or self.extra is None:
            return self.batches, None
        return self.batches, companion.settle(self.extra)


def deferred(read: Callable[[], Batches | None]) -> Callable[[], Batches | None]:
    """``read`` called now; calling the result gives what it returned, or raises its ``ProgrammingError`` again (a
    companion's read in the prefetch thread is settled in the loading thread, as if read there)."""
    # lazy: the API imports the extraction (and this module) and carries no Snowflake connector
    from snowflake.connector import errors as sf_errors

    try:
        batches = read()
    except sf_errors.ProgrammingError as exc:
        error = exc

        def fail() -> Batches | None:
            raise error

        return fail
    return lambda: batches
