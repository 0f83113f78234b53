"""Raw query rows in daily partitions (issue 14 item 4, migration 0420): the sync makes each window's UTC-day
partitions before loading it, rows no partition holds go to DEFAULT (and move out when their day is made), two
creators of one day do not collide, and retention drops a day only when no connector with rows in it still owes its
rollups. Real Postgres, fakesnow for the sync."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import SOURCE_COUNTS, new_connector, pg, sf_rows

pytestmark = pytest.mark.integration

PARENT = "enterprise.snowflake_query_history"


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _partition_of(day: date) -> str:
    return f"enterprise.snowflake_query_history_p{day:%Y%m%d}"


def _where(cid: UUID) -> list[tuple[str, date, int]]:
    """Per table holding the connector's rows: its name, the UTC day of its rows (one each) and how many."""
    rows = pg().run(
        f"""SELECT tableoid::regclass::text, count(DISTINCT (start_time AT TIME ZONE 'UTC')::date),
                   min((start_time AT TIME ZONE 'UTC')::date), count(*)
            FROM {PARENT} WHERE connector_id = :c GROUP BY 1 ORDER BY 3""",
        c=cid,
    )
    assert all(r[1] == 1 for r in rows), rows
    return [(r[0], r[2], int(r[3])) for r in rows]


def _count(cid: UUID) -> tuple[int, int]:
    n, distinct = pg().run(f"SELECT count(*), count(DISTINCT query_id) FROM {PARENT} WHERE connector_id = :c", c=cid)[0]
    return int(n), int(distinct)


@pytest.fixture
def old_days() -> Iterator[list[date]]:
    """Days no synthetic row falls in (25 years back), their partitions dropped afterwards."""
    from snowwatch.repositories import query_partitions

    days = [date(2001, 3, 4) + timedelta(days=i) for i in range(5)]
    yield days
    conn = pg()
    conn.run(f"DELETE FROM {PARENT} WHERE start_time < '2002-01-01'")
    for day in days:
        query_partitions.drop_query_partition(conn, day)


def _insert(cid: UUID, query_id: str, at: datetime) -> None:
    pg().run(f"INSERT INTO {PARENT} (connector_id, query_id, start_time) VALUES (:c, :q, :t)", c=cid, q=query_id, t=at)


def test_a_sync_loads_raw_rows_into_daily_partitions_once(stack: LocalStack) -> None:
    """Given a new connector
    When the full sync runs, and then runs again
    Then the raw query table is partitioned by range of start_time, every row of the connector sits in the partition
    of its UTC day (none in DEFAULT), one row per query as in the source, and the second run (its lookback re-read
    upserted on (connector_id, query_id, start_time)) adds no row."""
    cid = new_connector(stack, "partitions")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    kind, key = pg().run(
        """SELECT c.relkind, pg_get_partkeydef(c.oid) FROM pg_class c
           WHERE c.oid = CAST('enterprise.snowflake_query_history' AS regclass)"""
    )[0]
    assert (kind, key) == ("p", "RANGE (start_time)")
    where = _where(cid)
    assert len(where) >= 30
    assert all(table == _partition_of(day) for table, day, _ in where), where
    first = _count(cid)
    source = sf_rows(stack, SOURCE_COUNTS["QUERY_HISTORY"].format(v="SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY"))[0][0]
    assert first == (source, source)

    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    assert _count(cid) == first
    assert _where(cid) == where


def test_the_most_expensive_queries_walk_the_cost_index_keyed_in_nano_credits(stack: LocalStack) -> None:
    """Given a synced connector (its queries spread over day partitions)
    When the most expensive queries of its whole range are read (a page, then the credits before a later page)
    Then the read walks a partition of the cost-order index (its bigint key is the reads' COST_ORDER: 0509), and the
    page is exactly the queries in numeric credits order."""
    from snowwatch.repositories import cost

    cid = new_connector(stack, "partitions-cost-order")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    conn = pg()
    lo, hi = datetime.now(UTC) - timedelta(days=60), datetime.now(UTC) + timedelta(hours=1)
    plan = conn.run(
        f"""EXPLAIN (FORMAT JSON) SELECT query_id FROM {PARENT} WHERE connector_id = :c AND start_time >= :lo
            AND start_time < :hi ORDER BY {cost.COST_ORDER} DESC NULLS LAST, query_id LIMIT 20""",
        c=cid,
        lo=lo,
        hi=hi,
    )[0][0]
    walked = {r[0] for r in conn.run(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = CAST('enterprise.sqh_connector_cost_qid_idx' AS regclass)"""
    )}  # fmt: skip
    assert walked & set(re.findall(r'"Index Name": "([^"]+)"', json.dumps(plan)))
    rows, _ = cost.top_queries(conn, cid, lo, hi, lo.date(), hi.date(), 20, 0)
    expected = conn.run(
        f"""SELECT query_id FROM {PARENT} WHERE connector_id = :c AND start_time >= :lo AND start_time < :hi
            ORDER BY credits_attributed_compute DESC NULLS LAST, query_id LIMIT 20""",
        c=cid,
        lo=lo,
        hi=hi,
    )
    assert [r["query_id"] for r in rows] == [r[0] for r in expected]


def test_a_window_gets_its_partitions_and_rows_without_one_go_to_default(
    stack: LocalStack, old_days: list[date]
) -> None:
    """Given days without partitions
    When a window from the 1st day 10:00 to the 2nd day 02:00 is prepared, a row of the 4th day is written (no
    partition), and then a window over the 4th day is prepared
    Then the window's two days have a partition each (made once: preparing again makes none); the 4th day's row
    went to DEFAULT without an error, and moved into the 4th day's new partition when it was made."""
    from snowwatch.services import query_retention

    cid = new_connector(stack, "window")
    conn = pg()
    d1, d2, _, d4, _ = old_days
    made = query_retention.prepare_window(conn, _utc(d1) + timedelta(hours=10), _utc(d2) + timedelta(hours=2))
    assert made == 2
    assert query_retention.prepare_window(conn, _utc(d1), _utc(d2) + timedelta(hours=2)) == 0
    _insert(cid, "in-window", _utc(d2) + timedelta(hours=1))
    _insert(cid, "outside", _utc(d4) + timedelta(hours=5))
    assert _where(cid) == [(_partition_of(d2), d2, 1), ("enterprise.snowflake_query_history_default", d4, 1)]

    assert query_retention.prepare_window(conn, _utc(d4), _utc(d4) + timedelta(hours=6)) == 1
    assert _where(cid) == [(_partition_of(d2), d2, 1), (_partition_of(d4), d4, 1)]


def test_two_creators_of_the_same_days_do_not_collide(stack: LocalStack, old_days: list[date]) -> None:
    """Given one connection making three days' partitions in a transaction not yet committed
    When a second connection asks for the same days meanwhile
    Then the second waits, finds them made once the first commits, and makes none: both succeed."""
    from snowwatch.db import connect
    from snowwatch.repositories import query_partitions
    from snowwatch.settings import JobSettings, get_settings

    first, second = connect(get_settings(JobSettings)), connect(get_settings(JobSettings))
    lo, hi = _utc(old_days[0]), _utc(old_days[2]) + timedelta(hours=1)
    answer: dict[str, Any] = {}

    def other() -> None:
        try:
            answer["made"] = query_partitions.ensure_query_partitions(second, lo, hi)
        except Exception as exc:
            answer["error"] = exc

    try:
        first.run("START TRANSACTION")
        assert query_partitions.ensure_query_partitions(first, lo, hi) == 3
        waiting = threading.Thread(target=other)
        waiting.start()
        time.sleep(1.0)
        assert waiting.is_alive()  # blocked behind the first creator's lock
        first.run("COMMIT")
        waiting.join(30)
        assert answer == {"made": 0}
    finally:
        first.close()
        second.close()


def test_a_connector_that_owes_rollups_blocks_the_drop_of_its_days(stack: LocalStack, old_days: list[date]) -> None:
    """Given an expired day's partition holding rows of two connectors, the second (Los Angeles time) owing its query
    rollups from before the day's end, the first owing the hourly share only from after it
    When retention runs, and again after the second connector's rollups are paid
    Then the first run drops nothing (partition, rows and marks untouched); the second drops the day, and each
    connector's retained-from mark is the first local midnight at or after the day's end."""
    from snowwatch.repositories import query_partitions, sync_state
    from snowwatch.services import query_retention
    from snowwatch.services.extraction import Budget

    conn = pg()
    utc_one, la_one = new_connector(stack, "keeps"), new_connector(stack, "owes", timezone="America/Los_Angeles")
    day = old_days[0]
    end = _utc(day) + timedelta(days=1)
    query_retention.prepare_window(conn, _utc(day), end)
    _insert(utc_one, "a", _utc(day) + timedelta(hours=3))
    _insert(la_one, "b", _utc(day) + timedelta(hours=4))
    sync_state.owe(conn, utc_one, "share", end + timedelta(hours=1))
    sync_state.owe(conn, la_one, "queries", _utc(day) + timedelta(hours=12))
    now = datetime.now(UTC)

    assert query_retention.drop_expired(conn, now, 35, 1, Budget()) == 0
    assert day in query_partitions.partition_days(conn)
    assert _where(utc_one) == [(_partition_of(day), day, 1)]
    assert sync_state.retained_from(conn, utc_one) is None and sync_state.retained_from(conn, la_one) is None

    sync_state.paid(conn, la_one, "queries")
    assert query_retention.drop_expired(conn, now, 35, 1, Budget()) == 1
    assert day not in query_partitions.partition_days(conn)
    assert _where(utc_one) == [] and _where(la_one) == []
    assert sync_state.retained_from(conn, utc_one) == end
    assert sync_state.retained_from(conn, la_one) == end + timedelta(hours=8)  # midnight in Los Angeles (PST)


def test_0420_moves_a_deployed_databases_rows_into_day_partitions(stack: LocalStack) -> None:
    """Given a database migrated as deployments were before 0420 (every other migration applied, 0451's columns and
    tag_key index included), holding query rows of two connectors over three UTC days
    When the pending migrations (0420, then 0508 and 0509) apply
    Then the table is partitioned by start_time, each row sits in its UTC day's partition with its columns as they
    were, DEFAULT is empty, the key is (connector_id, start_time, query_id) and the key and two indexes are on the
    parent."""
    import os

    import pg8000.native
    from yoyo import read_migrations

    from snowwatch.db import migrate
    from snowwatch.db.connection import _params_from_url
    from snowwatch.settings import CommonSettings
    from snowwatch_local.services import drop_database, ensure_database

    name = f"snowwatch_test_0420_{os.getpid()}"
    url = ensure_database(name, fresh=True)
    settings = CommonSettings(**{"DATABASE_URL": url})
    backend = migrate._backend(settings)
    later = ("0420", "0508", "0509")  # 0508 re-keys the partitioned table, 0509 re-keys its cost index
    earlier = read_migrations(str(migrate.MIGRATIONS_DIR)).filter(lambda m: not m.id.startswith(later))
    with backend.lock():
        backend.apply_migrations(backend.to_apply(earlier))
    conn = pg8000.native.Connection(**_params_from_url(url))
    try:
        conn.run("INSERT INTO enterprise.organizations (id, external_id, name) VALUES (gen_random_uuid(), 'o', 'o')")
        conn.run(
            """INSERT INTO enterprise.connectors (org_id, name, account_identifier, username, warehouse, secret_ref)
               SELECT id, 'c' || i, 'a', 'u', 'w', 's' FROM enterprise.organizations, generate_series(1, 2) i"""
        )
        conn.run(
            f"""INSERT INTO {PARENT} (connector_id, query_id, start_time, tag_key, credits_attributed_compute)
                SELECT c.id, 'q' || i, TIMESTAMPTZ '2026-11-01 00:00+00' + i * interval '5 hours',
                       CASE WHEN i % 2 = 0 THEN 't' END, i / 100.0
                FROM enterprise.connectors c, generate_series(0, 14) i"""
        )
        before = conn.run(f"SELECT * FROM {PARENT} ORDER BY connector_id, query_id")
        assert migrate.apply(settings) == [
            "0420_query_history_partitions",
            "0508_query_history_key_order",
            "0509_query_cost_order_bigint",
        ]

        assert conn.run(f"SELECT * FROM {PARENT} ORDER BY connector_id, query_id") == before
        where = conn.run(
            f"""SELECT tableoid::regclass::text, min(start_time AT TIME ZONE 'UTC')::date,
                       max(start_time AT TIME ZONE 'UTC')::date, count(*)
                FROM {PARENT} GROUP BY 1 ORDER BY 2"""
        )
        assert [(r[0], r[1], r[3]) for r in where] == [
            (_partition_of(date(2026, 11, 1)), date(2026, 11, 1), 10),
            (_partition_of(date(2026, 11, 2)), date(2026, 11, 2), 10),
            (_partition_of(date(2026, 11, 3)), date(2026, 11, 3), 10),
        ]
        assert all(r[1] == r[2] for r in where)
        indexes = conn.run(
            f"""SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
                WHERE indrelid = CAST('{PARENT}' AS regclass) ORDER BY 1"""
        )
        assert [i[0] for i in indexes] == [
            "enterprise.snowflake_query_history_pkey",
            "enterprise.sqh_connector_cost_qid_idx",
            "enterprise.sqh_connector_tagkey_credits_idx",
        ]
        assert "(connector_id, start_time, query_id)" in indexes[0][1]  # the key serves the range reads (0508)
    finally:
        conn.close()
        drop_database(name)


def test_a_deleted_connectors_raw_rows_go_with_it(stack: LocalStack, api: Any) -> None:
    """Given a synced connector with raw query rows in day partitions and one in DEFAULT
    When its admin deletes it through the API (the API's own database role)
    Then none of its raw rows remain, and another connector's rows are untouched (0506: the raw table has no
    foreign key; a trigger does what ON DELETE CASCADE did)."""
    cid = new_connector(stack, "deleted-with-rows")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    _insert(cid, "in-default", datetime(1999, 1, 2, tzinfo=UTC))  # no partition for 1999: DEFAULT
    others = _count(stack.connector_id)
    assert _count(cid)[0] > 1
    assert api.call("DELETE", f"/api/connectors/{cid}").status == 204
    assert _count(cid) == (0, 0)
    assert _count(stack.connector_id) == others


def _one_row(query_id: str) -> Any:
    from decimal import Decimal

    from snowwatch.snowflake import rows

    st = datetime(2001, 3, 4, 12, tzinfo=UTC)  # old_days[0]
    return rows.QueryRow(
        query_id, "SELECT 1", "SELECT", "U", "R", 1, "WH_1", "Small", None, "SUCCESS", None, st,
        st + timedelta(seconds=2), 2000, 1000, 0, 0, 0, 0, 0, 0, 0.0, 0, 0, 0, 0, 0, Decimal(0), "qh", "ph",
        None, None, None,
    )  # fmt: skip


def test_a_window_of_a_connector_deleted_meanwhile_leaves_nothing(stack: LocalStack, old_days: list[date]) -> None:
    """Given a connector whose sync is loading a window (its transaction open)
    When the connector is deleted meanwhile, and a window is then loaded for the deleted connector
    Then the delete waits for the window's transaction and removes what it loaded, and the later load fails with
    nothing written: no raw row outlives its connector (what the foreign key guaranteed, 0506)."""
    from snowwatch.db import transaction
    from snowwatch.errors import NotFoundError
    from snowwatch.repositories import cost_sync, query_partitions

    cid = new_connector(stack, "deleted-while-loading")
    loader = pg()
    query_partitions.ensure_query_partitions(loader, _utc(old_days[0]), _utc(old_days[1]))
    deleted = threading.Event()

    def delete() -> None:
        pg().run("DELETE FROM enterprise.connectors WHERE id = :c", c=cid)
        deleted.set()

    with transaction(loader):
        assert cost_sync.load(loader, cid, "QUERY_HISTORY", [_one_row("while-loading")]) == 1
        deleter = threading.Thread(target=delete)
        deleter.start()
        assert not deleted.wait(1.0)  # the window holds the connector
    deleter.join(10)
    assert deleted.is_set()
    assert _count(cid) == (0, 0)
    with pytest.raises(NotFoundError), transaction(loader):
        cost_sync.load(loader, cid, "QUERY_HISTORY", [_one_row("after-delete")])
    assert _count(cid) == (0, 0)
