"""QUERY_ATTRIBUTION_HISTORY's 7-day re-read: only the attributions that changed are written.

A re-read window is staged (one COPY) and applied by one UPDATE of the stored query rows whose attribution differs;
rows unchanged are neither rewritten (a new tuple, a dead one, an entry in each index) nor locked (an
``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` locks every conflicting row, even those its WHERE leaves alone).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector, pg, sf_rows

pytestmark = pytest.mark.integration

QAH = "QUERY_ATTRIBUTION_HISTORY"


def _tuples(connector_id: UUID) -> dict[str, tuple[Any, ...]]:
    """Every stored query row's tuple version (xmin, xmax) and attribution, by query_id."""
    rows = pg().run(
        """SELECT query_id, xmin::text, xmax::text, credits_attributed_compute, credits_used_query_acceleration,
                  cost_method
           FROM enterprise.snowflake_query_history WHERE connector_id = :c""",
        c=connector_id,
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def _reread_attribution(stack: LocalStack, monkeypatch: pytest.MonkeyPatch, connector_id: UUID) -> dict[str, Any]:
    """A sync that reads QUERY_ATTRIBUTION_HISTORY alone over its 7-day LOOKBACK, then its post-load steps."""
    from snowwatch.services import sync

    pg().run(
        """UPDATE enterprise.sync_state SET watermark = now() - interval '7 days'
           WHERE connector_id = :c AND view_name = :v""",
        c=connector_id,
        v=QAH,
    )
    with monkeypatch.context() as m:
        m.setattr(sync, "VIEWS", tuple(v for v in sync.VIEWS if v.name == QAH))
        out: dict[str, Any] = stack.run_job("sync", connector_id=connector_id)
    assert out["status"] == "succeeded", out
    return out


def test_a_reread_of_unchanged_attributions_writes_and_locks_no_row(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a connector after its first sync (its queries attributed), when QUERY_ATTRIBUTION_HISTORY re-reads its
    7-day lookback and nothing changed at the source, then rows were read but not one stored query row was written
    or locked: every row keeps its tuple (xmin) and has no locker (xmax)."""
    cid = new_connector(stack, "qah-unchanged")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    before = _tuples(cid)
    attributed = [q for q, t in before.items() if t[4] == "attribution"]
    assert len(attributed) > 100

    out = _reread_attribution(stack, monkeypatch, cid)

    assert out["rows"][QAH] > 100  # the lookback was read
    after = _tuples(cid)
    assert after == before, [q for q in before if after.get(q) != before[q]][:5]


def test_only_changed_attributions_are_written_and_unknown_queries_are_kept(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a synced connector where, within the lookback, one attributed row holds a stale attribution, one holds
    the hourly share (QUERY_HISTORY loaded it before its attribution arrived) and one query is not stored, when
    QUERY_ATTRIBUTION_HISTORY re-reads, then the two rows get the source's attribution, the unknown query is stored
    from the attribution row as it always was (cost_method 'attribution'), and no other row is written or locked."""
    cid = new_connector(stack, "qah-changed")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    conn = pg()
    recent = conn.run(
        """SELECT query_id FROM enterprise.snowflake_query_history
           WHERE connector_id = :c AND cost_method = 'attribution' AND start_time > now() - interval '5 days'
             AND credits_attributed_compute > 0
           ORDER BY query_id LIMIT 3""",
        c=cid,
    )
    stale, unpriced, unknown = (r[0] for r in recent)
    source = _tuples(cid)
    conn.run(
        """UPDATE enterprise.snowflake_query_history SET credits_attributed_compute = credits_attributed_compute + 1
           WHERE connector_id = :c AND query_id = :q""",
        c=cid,
        q=stale,
    )
    conn.run(
        """UPDATE enterprise.snowflake_query_history SET credits_attributed_compute = 0.5, cost_method = 'hourly_share'
           WHERE connector_id = :c AND query_id = :q""",
        c=cid,
        q=unpriced,
    )
    conn.run(
        "DELETE FROM enterprise.snowflake_query_history WHERE connector_id = :c AND query_id = :q", c=cid, q=unknown
    )
    before = _tuples(cid)

    _reread_attribution(stack, monkeypatch, cid)

    after = _tuples(cid)
    for q in (stale, unpriced):
        assert after[q][0] != before[q][0] and after[q][2:] == source[q][2:]
    assert after[unknown][2:] == source[unknown][2:]
    stored = conn.run(
        """SELECT query_text, execution_status, start_time IS NOT NULL
           FROM enterprise.snowflake_query_history WHERE connector_id = :c AND query_id = :q""",
        c=cid,
        q=unknown,
    )[0]
    assert stored == [None, None, True]  # the attribution's columns only, until QUERY_HISTORY brings the rest
    rest = {q: t for q, t in after.items() if q not in (stale, unpriced, unknown)}
    assert rest == {q: t for q, t in before.items() if q in rest}


@pytest.fixture
def attribution_writes() -> Any:
    """A log of the query rows an UPDATE gives an attribution (``cost_method`` 'attribution' after it), by a row
    trigger on the raw query table while the test runs: returns a reader of the connector's logged query ids."""
    conn = pg()
    conn.run("CREATE TABLE IF NOT EXISTS public.attribution_updates (connector_id uuid, query_id text)")
    conn.run("GRANT INSERT ON public.attribution_updates TO PUBLIC")
    conn.run(
        """CREATE OR REPLACE FUNCTION public.log_attribution_update() RETURNS trigger LANGUAGE plpgsql
           SECURITY DEFINER SET search_path = pg_catalog AS $$
           BEGIN
               INSERT INTO public.attribution_updates VALUES (NEW.connector_id, NEW.query_id);
               RETURN NEW;
           END $$"""
    )
    conn.run(
        """CREATE TRIGGER log_attribution_update AFTER UPDATE ON enterprise.snowflake_query_history
           FOR EACH ROW WHEN (NEW.cost_method = 'attribution') EXECUTE FUNCTION public.log_attribution_update()"""
    )
    try:
        yield lambda cid: [
            r[0] for r in pg().run("SELECT query_id FROM public.attribution_updates WHERE connector_id = :c", c=cid)
        ]
    finally:
        conn.run("DROP TRIGGER log_attribution_update ON enterprise.snowflake_query_history")
        conn.run("DROP TABLE public.attribution_updates")
        conn.run("DROP FUNCTION public.log_attribution_update()")


def test_a_first_sync_writes_each_attributed_query_once(stack: LocalStack, attribution_writes: Any) -> None:
    """Given a new connector whose queries have their attribution at the source, when it first syncs, then every
    attributed query holds the source's attribution and was inserted with it: not one query row was updated to
    take it (QUERY_HISTORY's windows read their attribution with them, decisions §38), so none left a dead tuple."""
    cid = new_connector(stack, "qah-once")

    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"

    source = {
        r[0]: (Decimal(str(r[1])).quantize(Decimal("1e-9")), Decimal(str(r[2])).quantize(Decimal("1e-9")))
        for r in sf_rows(
            stack,
            f"""SELECT QUERY_ID, CREDITS_ATTRIBUTED_COMPUTE, COALESCE(CREDITS_USED_QUERY_ACCELERATION, 0)
                FROM SNOWFLAKE.ACCOUNT_USAGE.{QAH}""",
        )
    }
    stored = {
        r[0]: (r[1], r[2])
        for r in pg().run(
            """SELECT query_id, credits_attributed_compute, credits_used_query_acceleration
               FROM enterprise.snowflake_query_history WHERE connector_id = :c AND cost_method = 'attribution'""",
            c=cid,
        )
    }
    assert len(source) > 100 and stored == source
    assert attribution_writes(cid) == []


def test_an_attribution_read_behind_the_queries_is_not_skipped(stack: LocalStack) -> None:
    """Given a synced connector whose QUERY_ATTRIBUTION_HISTORY watermark is 20 days back (behind QUERY_HISTORY's, as
    when its grant came late), when it syncs again, then QUERY_HISTORY's windows do not move that watermark past the
    20 days: QUERY_ATTRIBUTION_HISTORY's own read starts there and reads every source row since."""
    cid = new_connector(stack, "qah-behind")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    back = pg().run(
        """UPDATE enterprise.sync_state SET watermark = now() - interval '20 days'
           WHERE connector_id = :c AND view_name = :v RETURNING watermark""",
        c=cid,
        v=QAH,
    )[0][0]

    out = stack.run_job("sync", connector_id=cid)

    since = back.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    expected = sf_rows(stack, f"SELECT COUNT(*) FROM SNOWFLAKE.ACCOUNT_USAGE.{QAH} WHERE START_TIME >= '{since}'")
    assert out["status"] == "succeeded" and out["rows"][QAH] == int(expected[0][0]) > 0


def test_the_query_windows_leave_the_attribution_read_its_lookback(stack: LocalStack) -> None:
    """Given a new connector, when it first syncs, then QUERY_ATTRIBUTION_HISTORY is read with QUERY_HISTORY's
    windows only: its own read in that run would re-read what they read seconds before (decisions §42), so it reads
    nothing, and its watermark moved with them to its 7-day lookback; the next sync's own read covers that lookback
    only, up to where QUERY_HISTORY's lookback window reads it again."""
    cid = new_connector(stack, "qah-lookback")

    out = stack.run_job("sync", connector_id=cid)

    total = int(sf_rows(stack, f"SELECT COUNT(*) FROM SNOWFLAKE.ACCOUNT_USAGE.{QAH}")[0][0])
    week = int(
        sf_rows(
            stack,
            f"""SELECT COUNT(*) FROM SNOWFLAKE.ACCOUNT_USAGE.{QAH}
                WHERE START_TIME >= DATEADD(day, -8, CURRENT_TIMESTAMP)""",
        )[0][0]
    )
    assert out["status"] == "succeeded" and out["rows"][QAH] == 0
    mark = pg().run(
        "SELECT watermark FROM enterprise.sync_state WHERE connector_id = :c AND view_name = :v", c=cid, v=QAH
    )[0][0]
    assert abs(mark - (datetime.now(UTC) - timedelta(days=7))) < timedelta(minutes=5)
    again = stack.run_job("sync", connector_id=cid)
    assert again["status"] == "succeeded" and 0 < again["rows"][QAH] <= week < total


def test_an_attribution_reread_owes_the_rollups_from_what_it_changed_only(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a synced connector, when QUERY_ATTRIBUTION_HISTORY re-reads its 7-day lookback (its post-load steps left
    to a later run) and nothing changed, then no post-load step is owed; when one query three days back holds a
    stale attribution, then the query rollups are owed from that query's start and the hourly share not at all (no
    share depends on an attribution)."""
    from snowwatch.repositories import sync_state
    from snowwatch.services import sync

    cid = new_connector(stack, "qah-owed")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    conn = pg()
    monkeypatch.setattr(sync, "_post_load", lambda *args: {})
    owed = lambda: {s: sync_state.owed(conn, cid, s) for s in ("queries", "share")}  # noqa: E731

    _reread_attribution(stack, monkeypatch, cid)
    assert owed() == {"queries": None, "share": None}

    stale, start = conn.run(
        """UPDATE enterprise.snowflake_query_history SET credits_attributed_compute = credits_attributed_compute + 1
           WHERE connector_id = :c AND query_id = (
               SELECT query_id FROM enterprise.snowflake_query_history
               WHERE connector_id = :c AND cost_method = 'attribution'
                 AND start_time BETWEEN now() - interval '4 days' AND now() - interval '3 days'
               ORDER BY start_time LIMIT 1)
           RETURNING query_id, start_time""",
        c=cid,
    )[0]
    _reread_attribution(stack, monkeypatch, cid)
    assert owed() == {"queries": start, "share": None}, stale
