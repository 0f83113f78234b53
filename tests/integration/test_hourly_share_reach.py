"""How far the post-load hourly share reads (issue 14, migration 0507): the longest stored query, not a fixed day
either side. Real Postgres; the loader and the share as the sync calls them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector, pg

pytestmark = pytest.mark.integration

DAY1 = datetime(2003, 5, 7, tzinfo=UTC)  # no synthetic row is this old


def _query(query_id: str, start: datetime, end: datetime) -> Any:
    from snowwatch.snowflake import rows

    ms = int((end - start).total_seconds() * 1000)
    return rows.QueryRow(
        query_id, "SELECT 1", "SELECT", "U", "R", 1, "WH_1", "Small", None, "SUCCESS", None, start, end, ms, ms,
        0, 0, 0, 0, 0, 0, 0.0, 0, 0, 0, 0, 0, Decimal(0), "qh", "ph", None, None, None,
    )  # fmt: skip


@pytest.fixture
def connector(stack: LocalStack) -> Iterator[UUID]:
    from snowwatch.repositories import query_partitions

    cid = new_connector(stack, "share-reach")
    query_partitions.ensure_query_partitions(pg(), DAY1 - timedelta(days=3), DAY1 + timedelta(days=2))
    yield cid
    conn = pg()
    conn.run("DELETE FROM enterprise.connectors WHERE id = :c", c=cid)
    for i in range(-3, 2):
        query_partitions.drop_query_partition(conn, (DAY1 + timedelta(days=i)).date())


def _load(cid: UUID, queries: list[Any]) -> None:
    from snowwatch.db import transaction
    from snowwatch.repositories import cost_sync

    conn = pg()
    with transaction(conn):
        cost_sync.load(conn, cid, "QUERY_HISTORY", queries)


def _credits(cid: UUID, query_id: str) -> Decimal:
    return Decimal(
        pg().run(
            "SELECT credits_attributed_compute FROM enterprise.snowflake_query_history WHERE connector_id = :c "
            "AND query_id = :q",
            c=cid,
            q=query_id,
        )[0][0]
    )


def test_a_query_running_past_a_day_still_shares_the_next_days_hours(connector: UUID) -> None:
    """Given a 32.5-hour query that began more than a day before DAY1 and a half-hour query on DAY1 05:00, on one
    warehouse whose 05:00 hour cost 4 credits, loaded together (priced as they load)
    When the post-load share recomputes DAY1
    Then the short query keeps its half of the hour: 2 credits (the share read a fixed day back, missed the long
    query and gave it all 4)."""
    from snowwatch.repositories import query_share

    conn = pg()
    hour = DAY1 + timedelta(hours=5)
    conn.run(
        """INSERT INTO enterprise.snowflake_warehouse_metering (connector_id, warehouse_id, warehouse_name, start_time,
               end_time, credits_used, credits_used_compute, credits_used_cloud_services)
           VALUES (:c, 1, 'WH_1', :t, CAST(:t AS timestamptz) + interval '1 hour', 4, 4, 0)""",
        c=connector,
        t=hour,
    )
    _load(connector, [_query("long", DAY1 - timedelta(hours=26), hour + timedelta(minutes=30)),
                      _query("short", hour, hour + timedelta(minutes=30))])  # fmt: skip
    assert _credits(connector, "short") == Decimal(2)  # priced right as they loaded
    query_share.apply_hourly_share(conn, connector, DAY1, DAY1 + timedelta(days=1))
    assert _credits(connector, "short") == Decimal(2)


def test_the_share_reads_as_far_as_the_longest_stored_query(connector: UUID) -> None:
    """Given a connector whose longest loaded query ran 7 seconds (then a 90-second one is loaded)
    When the post-load share's reach is asked for a day
    Then it starts 7 s (then 90 s) before the day's first hour and ends an hour and that long after the day: not a
    day either side; a shorter query loaded later does not shrink it."""
    from snowwatch.repositories import query_share

    conn = pg()
    noon = DAY1 + timedelta(hours=12)
    _load(connector, [_query("seven", noon, noon + timedelta(seconds=7))])
    since, until = DAY1 + timedelta(minutes=17), DAY1 + timedelta(days=1)
    assert query_share.reach(conn, connector, since, until) == (
        DAY1 - timedelta(seconds=7),
        until + timedelta(hours=1, seconds=7),
    )
    _load(connector, [_query("ninety", noon, noon + timedelta(seconds=90))])
    _load(connector, [_query("one", noon, noon + timedelta(seconds=1))])
    assert query_share.reach(conn, connector, since, until) == (
        DAY1 - timedelta(seconds=90),
        until + timedelta(hours=1, seconds=90),
    )
