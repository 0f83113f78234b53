"""Reconciliation over randomized accounts (hypothesis): for any metering, adjustments, queries, price, timezone and
rollup state, every cost answer's rows add up exactly -- to the micro-credit and to the cent -- to its own total:
overview (service types and warehouses), daily (every grouping), warehouses, users, queries (every page), every
anomaly's drivers (per dimension) to its excess; and a monthly budget's spend and forecast are the cost forecast's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snowwatch.db import query_one
from snowwatch.models.connectors import Connector
from snowwatch.repositories import rollups
from snowwatch.services import budgets, cost, cost_queries
from tests.budget_support import demo_org_id, insert_budget, make_connector

pytestmark = pytest.mark.integration

WAREHOUSES = ["ETL_WH", "BI_WH", "ADHOC_WH", "DBT_WH", "ML_WH", "LOAD_WH", "OPS_WH"]
SERVERLESS = ["PIPE", "AUTO_CLUSTERING", "SERVERLESS_TASK"]
TABLES = [
    "snowflake_warehouse_metering",
    "snowflake_metering_history",
    "snowflake_daily_costs",
    "snowflake_query_history",
    "snowflake_spend_daily",
    "snowflake_warehouse_load_daily",
    "snowflake_query_rollup",
    "snowflake_query_hash_daily",
    "snowflake_rollup_state",
]


def credits(hi: str, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(Decimal(0), Decimal(hi), places=places, allow_nan=False, allow_infinity=False)


DAY, HOUR = st.integers(0, 45), st.integers(0, 23)
ACCOUNT = st.fixed_dictionaries(
    {
        "warehouse_hours": st.lists(
            st.tuples(DAY, HOUR, st.integers(0, len(WAREHOUSES) - 1), credits("40", 3), credits("4", 3)), max_size=40
        ),
        "serverless": st.lists(
            st.tuples(DAY, HOUR, st.sampled_from(SERVERLESS), credits("9", 3), credits("1", 3)), max_size=12
        ),
        "adjustments": st.lists(
            st.tuples(DAY, st.sampled_from(["WAREHOUSE_METERING", *SERVERLESS]), credits("3", 3)), max_size=12
        ),
        "queries": st.lists(
            st.tuples(
                DAY, HOUR, st.integers(0, 4), st.integers(0, 2), st.integers(0, 3), credits("3", 6), credits("1", 6)
            ),
            max_size=40,
        ),
        "price": st.decimals(Decimal("0.01"), Decimal("9.99"), places=2),
        "timezone": st.sampled_from(["UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata"]),
        "rolled": st.booleans(),
    }
)


@pytest.fixture(scope="module")
def random_connector(db: Any) -> Iterator[UUID]:
    cid = make_connector(db, demo_org_id(db))
    insert_budget(db, cid, name="month", amount=Decimal(1_000_000))  # monthly, account scope, credits
    yield cid
    db.run("DELETE FROM enterprise.connectors WHERE id = :c", c=cid)


def _load(db: Any, cid: UUID, account: dict[str, Any]) -> Connector:
    """Replace the connector's rows with the generated account and build its rollups like a sync does."""
    for table in TABLES:
        db.run(f"DELETE FROM enterprise.{table} WHERE connector_id = :c", c=cid)
    db.run(
        "UPDATE enterprise.connectors SET credit_price = :p, timezone = :tz WHERE id = :c",
        p=account["price"],
        tz=account["timezone"],
        c=cid,
    )
    midnight = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)

    def at(day: int, hour: int) -> datetime:
        return midnight - timedelta(days=day) + timedelta(hours=hour)

    wh_hours = {(day, hour, w): (compute, cs) for day, hour, w, compute, cs in account["warehouse_hours"]}
    for (day, hour, w), (compute, cs) in wh_hours.items():
        t = at(day, hour)
        db.run(
            """INSERT INTO enterprise.snowflake_warehouse_metering (connector_id, warehouse_id, warehouse_name,
                   start_time, end_time, credits_used, credits_used_compute, credits_used_cloud_services,
                   credits_attributed_compute_queries)
               VALUES (:c, :w, :n, :t, CAST(:t AS timestamptz) + interval '1 hour', :u, :cp, :cs, :a)""",
            c=cid, w=w, n=WAREHOUSES[w], t=t, u=compute + cs, cp=compute, cs=cs, a=compute / 2,
        )  # fmt: skip
        db.run(
            """INSERT INTO enterprise.snowflake_metering_history (connector_id, service_type, entity_id, start_time,
                   end_time, credits_used_compute, credits_used_cloud_services, credits_used)
               VALUES (:c, 'WAREHOUSE_METERING', :w, :t, CAST(:t AS timestamptz) + interval '1 hour', :cp, :cs, :u)""",
            c=cid, w=w, t=t, cp=compute, cs=cs, u=compute + cs,
        )  # fmt: skip
    serverless = {(day, hour, s): (compute, cs) for day, hour, s, compute, cs in account["serverless"]}
    for (day, hour, service), (compute, cs) in serverless.items():
        db.run(
            """INSERT INTO enterprise.snowflake_metering_history (connector_id, service_type, entity_id, start_time,
                   end_time, credits_used_compute, credits_used_cloud_services, credits_used)
               VALUES (:c, :s, 0, :t, CAST(:t AS timestamptz) + interval '1 hour', :cp, :cs, :u)""",
            c=cid, s=service, t=at(day, hour), cp=compute, cs=cs, u=compute + cs,
        )  # fmt: skip
    for day, service in {(day, service): None for day, service, _ in account["adjustments"]}:
        adj = next(a for d, s, a in account["adjustments"] if (d, s) == (day, service))
        db.run(
            """INSERT INTO enterprise.snowflake_daily_costs (connector_id, usage_date, service_type,
                   credits_used_cloud_services, credits_adjustment_cloud_services)
               VALUES (:c, :d, :s, :cs, :adj)""",
            c=cid, d=(midnight - timedelta(days=day)).date(), s=service, cs=adj * 2, adj=-adj,
        )  # fmt: skip
    for i, (day, hour, user, role, w, compute, cs) in enumerate(account["queries"]):
        db.run(
            """INSERT INTO enterprise.snowflake_query_history (connector_id, query_id, query_text, user_name, role_name,
                   warehouse_id, warehouse_name, start_time, end_time, credits_used_cloud_services,
                   query_parameterized_hash, credits_attributed_compute, cost_method)
               VALUES (:c, :q, 'select 1', :u, :r, :w, :n, :t, CAST(:t AS timestamptz) + interval '1 minute', :cs, :h,
                       :cp, 'attribution')""",
            c=cid, q=f"q{i:04d}", u=f"USER_{user}", r=f"ROLE_{role}", w=w, n=WAREHOUSES[w], t=at(day, hour) + timedelta(
                minutes=i % 60), cs=cs, h=f"hash{(user + w) % 5}", cp=compute,
        )  # fmt: skip
    tz = account["timezone"]
    rollups.rebuild_rollups(db, cid, tz, None)
    rollups.rebuild_spend_rollups(db, cid, tz, None)
    if not account["rolled"]:  # as after a timezone change: the spend endpoints read the raw rows
        db.run("DELETE FROM enterprise.snowflake_rollup_state WHERE connector_id = :c AND rollup = 'spend'", c=cid)
    return Connector.model_validate(query_one(db, "SELECT * FROM enterprise.connectors WHERE id = :c", c=cid))


def _sum(rows: list[Any], field: str) -> Decimal:
    return sum((Decimal(getattr(r, field)) for r in rows), Decimal(0))


def _all_pages(read: Any) -> tuple[Any, list[Any]]:
    """Every row of a paginated answer, 3 at a time (``read(limit, offset)``), and the first page's answer."""
    first = read(3, 0)
    rows = list(first.page.items)
    while len(rows) < first.page.total:
        page = read(3, len(rows)).page.items
        assert page, "a page short of the total"
        rows += page
    return first, rows


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(account=ACCOUNT)
def test_every_total_is_the_sum_of_its_rows(db: Any, random_connector: UUID, account: dict[str, Any]) -> None:
    """Given a randomized account, when every cost answer is read, then each total equals the sum of its rows."""
    connector = _load(db, random_connector, account)
    for period in ("30d", "7d", "mtd"):
        o = cost.overview(db, connector, period)
        assert _sum(o.by_service_type, "credits") == o.credits_billed
        assert _sum(o.by_service_type, "amount") == o.amount
        assert _sum(o.top_warehouses, "credits") == o.warehouses.credits
        assert _sum(o.top_warehouses, "amount") == o.warehouses.amount
    for group_by in ("service_type", "warehouse", "total"):
        d = cost.daily(db, connector, None, None, group_by)
        assert _sum(d.items, "credits") == d.total.credits and _sum(d.items, "amount") == d.total.amount
    w, rows = _all_pages(lambda limit, offset: cost.warehouses(db, connector, None, None, limit, offset))
    assert _sum(rows, "credits") == w.total.credits and _sum(rows, "amount") == w.total.amount
    totals = set()
    for read in (
        lambda limit, offset: cost_queries.users(db, connector, None, None, "user", limit, offset),
        lambda limit, offset: cost_queries.users(db, connector, None, None, "role", limit, offset),
        lambda limit, offset: cost_queries.queries(db, connector, None, None, "parameterized_hash", limit, offset),
        lambda limit, offset: cost_queries.queries(db, connector, None, None, "query", limit, offset),
    ):
        answer, rows = _all_pages(read)
        assert _sum(rows, "credits") == answer.total.credits and _sum(rows, "amount") == answer.total.amount
        totals.add((answer.total.credits, answer.total.amount))
    assert len(totals) == 1  # users, roles, hashes and queries: one figure, one total
    for a in cost.anomalies(db, connector, None, None).items:
        for dim in ("service_type", "warehouse", "user", "query_hash"):
            assert _sum([x for x in a.drivers if x.dimension == dim], "credits") == a.excess_credits
    # one instant for both: the forecast moves with the clock (hours left in the month), so two calls a few
    # milliseconds apart could round to different last digits
    now = datetime.now(UTC)
    budget = budgets.list_(db, connector, 10, 0, now=now).items[0]  # a monthly account budget in credits
    month = cost.forecast(db, connector, now=now).month
    assert budget.status is not None
    assert budget.status.spend == month.month_to_date_credits and budget.status.forecast == month.forecast_credits
