"""QUERY_ATTRIBUTION_HISTORY's 7-day re-read: only the attributions that changed are written.

A re-read window is staged (one COPY) and applied by one UPDATE of the stored query rows whose attribution differs;
rows unchanged are neither rewritten (a new tuple, a dead one, an entry in each index) nor locked (an
``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` locks every conflicting row, even those its WHERE leaves alone).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector, pg

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
