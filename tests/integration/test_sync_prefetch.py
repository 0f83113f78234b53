"""A planned read reads its next window from Snowflake while the current one loads into Postgres (decisions §39):
the overlap itself, and that it changes nothing of what is loaded, where a stopped run resumes, or how a view the
role cannot read is reported."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector, pg, source_counts, table_counts

pytestmark = pytest.mark.integration

QH = "ACCOUNT_USAGE.QUERY_HISTORY"
QAH = "ACCOUNT_USAGE.QUERY_ATTRIBUTION_HISTORY"
WAIT_S = 20  # bounds a wait that never ends before the change (the next statement came after the commit)


class Recorder:
    """Wraps the session's Arrow reads and the window loads: which QUERY_HISTORY statements were issued (their
    ``since``, and the thread that issued them) and which windows were loaded, by which run."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, fail_statement: int | None = None, fail_companion: int | None = None
    ) -> None:
        from snowflake.connector import errors as sf_errors

        from snowwatch.services import extraction
        from snowwatch.snowflake.client import SnowflakeSession

        self.issued: list[tuple[str, str]] = []  # (since, thread name) of each QUERY_HISTORY window statement
        # (thread name, QUERY_HISTORY statements issued before) of each QUERY_ATTRIBUTION_HISTORY window statement
        self.companion: list[tuple[str, int]] = []
        self.loaded: list[tuple[UUID, datetime, datetime]] = []  # (run, a, b) of each QUERY_HISTORY window loaded
        self.changed = threading.Condition()
        real_fetch, real_load = SnowflakeSession.fetch_arrow_batches, extraction._load_window

        def fetch(session: SnowflakeSession, sql: str, params: Any = None) -> Iterator[Any]:
            if QH in sql and params:
                with self.changed:
                    self.issued.append((params["since"], threading.current_thread().name))
                    self.changed.notify_all()
                    if len(self.issued) == fail_statement:
                        raise sf_errors.ProgrammingError(msg="Object 'QUERY_HISTORY' does not exist (test)")
            if QAH in sql and params and "until" in params:
                with self.changed:
                    self.companion.append((threading.current_thread().name, len(self.issued)))
                if len(self.companion) == fail_companion:
                    raise sf_errors.ProgrammingError(msg="Object 'QUERY_ATTRIBUTION_HISTORY' does not exist (test)")
            yield from real_fetch(session, sql, params)

        def load_window(conn: Any, sf: Any, view: Any, *args: Any, **kwargs: Any) -> int:
            n = real_load(conn, sf, view, *args, **kwargs)
            if view.name == "QUERY_HISTORY" and args[2] is not None:
                self.loaded.append((args[5], args[2], args[3]))  # run_id, a, b
            return n

        monkeypatch.setattr(SnowflakeSession, "fetch_arrow_batches", fetch)
        monkeypatch.setattr(extraction, "_load_window", load_window)
        monkeypatch.setattr(extraction, "ONE_WINDOW_ROWS", 0)  # read as a large account: planned day windows

    def wait_issued(self, since: str) -> bool:
        """Whether a QUERY_HISTORY statement from ``since`` is issued (or was), waiting at most WAIT_S."""
        with self.changed:
            return self.changed.wait_for(lambda: any(s == since for s, _ in self.issued), timeout=WAIT_S)


def _marks(connector_id: UUID) -> dict[str, datetime]:
    rows = pg().run("SELECT view_name, watermark FROM enterprise.sync_state WHERE connector_id = :c", c=connector_id)
    return {r[0]: r[1] for r in rows}


def test_the_next_window_is_read_while_the_current_one_loads(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a connector whose QUERY_HISTORY is read in planned day windows
    When the sync runs
    Then each window's load transaction (before it commits, where its reached mark is written) sees the next
    window's Snowflake statement issued, from the prefetch thread (before: the next statement came after the commit,
    in the same thread, and the wait below ran out); and the read loads exactly the source's rows, each window once,
    in order, ending with its watermark at the settled point and no reached mark."""
    from snowwatch.repositories import sync_state
    from snowwatch.services import extraction

    rec = Recorder(monkeypatch)
    overlapped: list[bool] = []
    real_set_reached = sync_state.set_reached

    def set_reached(conn: Any, connector_id: UUID, view: str, at: datetime | None, prefix: str = "") -> None:
        if view == "QUERY_HISTORY" and at is not None and all(overlapped):  # inside window [.., at)'s transaction
            overlapped.append(rec.wait_issued(extraction._param(at)))
        real_set_reached(conn, connector_id, view, at, prefix)

    monkeypatch.setattr(sync_state, "set_reached", set_reached)
    cid = new_connector(stack, "sync-prefetch")
    out = stack.run_job("sync", connector_id=cid)
    assert out["status"] == "succeeded", out
    assert len(rec.loaded) >= 3 and overlapped and all(overlapped), overlapped
    assert any(thread.startswith("snowwatch-prefetch") for _, thread in rec.issued)
    for (_, _, b), (_, a, _) in itertools.pairwise(rec.loaded):
        assert a == b  # in order, none skipped, none twice
    assert len(rec.issued) == len(rec.loaded)  # no window read twice, none read and dropped
    assert table_counts(cid)["QUERY_HISTORY"] == source_counts(stack)["QUERY_HISTORY"]
    marks = _marks(cid)
    assert not [v for v in marks if v.startswith("reached:")]
    settled = datetime.now(UTC) - timedelta(days=1)  # the last window's watermark: now - LOOKBACK
    assert settled - timedelta(minutes=10) < marks["QUERY_HISTORY"] <= settled


def test_a_run_stopped_with_a_window_read_ahead_leaves_it_to_the_next_run(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a sync whose budget runs out once two QUERY_HISTORY windows are loaded (the third read ahead by then)
    When it runs (and its continuation)
    Then the first run loads two windows and drops the third it read ahead, and its continuation starts at that
    third window: every window loaded exactly once, in order, and the tables hold exactly the source's rows."""
    from snowwatch.services import extraction

    rec = Recorder(monkeypatch)
    fired = {"done": False}

    def exhausted(self: extraction.Budget) -> bool:
        if not fired["done"] and len(rec.loaded) == 2:
            fired["done"] = True
            return True
        return False

    monkeypatch.setattr(extraction.Budget, "exhausted", exhausted)
    cid = new_connector(stack, "sync-prefetch-stop")
    first = stack.run_job("sync", connector_id=cid)
    assert first["status"] == "succeeded" and first["continuation"], first
    runs = [
        r[0] for r in pg().run("SELECT id FROM enterprise.job_runs WHERE connector_id = :c ORDER BY created_at", c=cid)
    ]
    assert len(runs) >= 2
    in_first = [w for w in rec.loaded if w[0] == runs[0]]
    assert len(in_first) == 2
    third = rec.loaded[2]
    assert third[0] == runs[1] and third[1] == in_first[1][2]  # the continuation loads it, from where run 1 stopped
    assert [s for s, _ in rec.issued].count(extraction._param(third[1])) == 2  # read ahead (dropped), then re-read
    windows = [(a, b) for _, a, b in rec.loaded]
    assert len(set(windows)) == len(windows)
    for (_, b), (a, _) in itertools.pairwise(windows):
        assert a == b
    assert table_counts(cid) == source_counts(stack)


def test_an_error_in_the_window_read_ahead_surfaces_as_before(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a QUERY_HISTORY whose second window's statement fails with a ProgrammingError (what a view the role
    cannot read raises), read ahead in the prefetch thread
    When the sync runs
    Then QUERY_HISTORY is `unreadable` with the reason and the run ends partial, as without the read ahead: the first
    window is loaded and committed, the second is not, and the next run reads on from there."""
    rec = Recorder(monkeypatch, fail_statement=2)
    cid = new_connector(stack, "sync-prefetch-error")
    out = stack.run_job("sync", connector_id=cid)
    assert out["status"] == "partial", out
    assert str(out["rows"]["QUERY_HISTORY"]).startswith("unreadable: Object 'QUERY_HISTORY' does not exist")
    assert rec.issued[1][1].startswith("snowwatch-prefetch")  # the failing read was the one ahead
    assert len(rec.loaded) == 1
    reached = pg().run(
        "SELECT watermark FROM enterprise.sync_state WHERE connector_id = :c AND view_name = 'reached:QUERY_HISTORY'",
        c=cid,
    )
    assert reached[0][0] == rec.loaded[0][2]
    again = stack.run_job("sync", connector_id=cid)
    assert again["status"] == "succeeded", again
    assert rec.loaded[1][1] == rec.loaded[0][2]
    assert table_counts(cid)["QUERY_HISTORY"] == source_counts(stack)["QUERY_HISTORY"]


def test_a_companion_unreadable_in_the_window_read_ahead_is_left_out_as_before(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a QUERY_ATTRIBUTION_HISTORY (QUERY_HISTORY's companion) whose second window's statement fails with a
    ProgrammingError, read ahead in the prefetch thread
    When the sync runs
    Then QUERY_HISTORY loads every window without its companion from that window on (no further companion statement
    with the query windows), as without the read ahead; the attribution's own read loads it, and the run succeeds."""
    rec = Recorder(monkeypatch, fail_companion=2)
    cid = new_connector(stack, "sync-prefetch-companion")
    out = stack.run_job("sync", connector_id=cid)
    assert out["status"] == "succeeded", out
    assert rec.companion[1][0].startswith("snowwatch-prefetch")  # the failing read was the one ahead
    assert len(rec.issued) >= 3
    assert [n for _, n in rec.companion[2:] if n < len(rec.issued)] == []  # none with the later query windows
    assert len(rec.companion) > 2  # the attribution's own read, after QUERY_HISTORY's
    assert table_counts(cid)["QUERY_HISTORY"] == source_counts(stack)["QUERY_HISTORY"]
    attributed = pg().run(
        """SELECT count(*) FROM enterprise.snowflake_query_history
           WHERE connector_id = :c AND credits_attributed_compute IS NOT NULL""",
        c=cid,
    )
    assert attributed[0][0] > 0
