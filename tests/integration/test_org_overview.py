"""GET /api/org/overview (issue 12 item 8): every connector of the org with month to date, forecast, budgets,
security score, open critical/high alerts and sync freshness; currencies never mixed; a fixed number of statements."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from snowwatch.db import query_one
from snowwatch.models.connectors import Connector
from snowwatch.repositories import budgets as budgets_repo
from snowwatch.services import cost, org
from tests.budget_support import add_warehouse_metering, make_connector

pytestmark = pytest.mark.integration


class Counting:
    """The connection, counting the statements sent through it."""

    def __init__(self, conn: Any) -> None:
        self.conn, self.statements = conn, 0

    def run(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return self.conn.run(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


@pytest.fixture(scope="module")
def org_id(db: Any) -> Iterator[UUID]:
    oid = uuid.uuid4()
    db.run("INSERT INTO enterprise.organizations (id, external_id, name) VALUES (:i, :e, 'org overview')",
           i=oid, e=f"org-overview-{oid.hex[:8]}")  # fmt: skip
    yield oid
    db.run("DELETE FROM enterprise.connectors WHERE org_id = :o", o=oid)
    db.run("DELETE FROM enterprise.organizations WHERE id = :o", o=oid)


def _synced(db: Any, cid: UUID, credits_per_hour: float) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    add_warehouse_metering(db, cid, "WH", now - timedelta(days=3), 72, credits_per_hour)
    db.run(
        """INSERT INTO enterprise.snowflake_metering_history (connector_id, service_type, entity_id, start_time,
               end_time, credits_used)
           SELECT connector_id, 'WAREHOUSE_METERING', warehouse_id, start_time, end_time, credits_used
           FROM enterprise.snowflake_warehouse_metering WHERE connector_id = :c""",
        c=cid,
    )
    db.run("UPDATE enterprise.connectors SET last_sync_at = now() WHERE id = :c", c=cid)


def test_org_overview_lists_every_connector_with_totals_per_currency(db: Any, org_id: UUID) -> None:
    """Given an org with a USD connector (synced, a monthly budget already spent), a EUR connector and one never
    synced, when the overview is read a page at a time, then every connector appears once with its figures, the
    forecast is the cost forecast of that connector, the org total is in credits and per currency (no single
    amount across USD and EUR), and the never-synced connector says so."""
    usd = make_connector(db, org_id, name="a-usd")
    eur = make_connector(db, org_id, name="b-eur")
    db.run("UPDATE enterprise.connectors SET currency = 'EUR', credit_price = 2.5 WHERE id = :c", c=eur)
    make_connector(db, org_id, name="c-never")
    _synced(db, usd, 2.0)
    _synced(db, eur, 1.0)
    db.run(
        """INSERT INTO enterprise.snowflake_budgets (connector_id, name, scope_type, period, amount)
           VALUES (:c, 'small', 'account', 'monthly', 1)""",
        c=usd,
    )
    now = datetime.now(UTC)
    assert budgets_repo.refresh_month_state(db, now, org_id=org_id) == 3  # what the hourly budget check stores
    first = org.overview(db, org_id, 2, 0, now)
    second = org.overview(db, org_id, 2, 2, now)
    rows = first.page.items + second.page.items
    assert [r.name for r in rows] == ["a-usd", "b-eur", "c-never"] and first.page.total == 3
    by_name = {r.name: r for r in rows}
    connector = Connector.model_validate(query_one(db, "SELECT * FROM enterprise.connectors WHERE id = :c", c=usd))
    month = cost.forecast(db, connector, now=now).month
    assert by_name["a-usd"].forecast_credits == month.forecast_credits
    assert by_name["a-usd"].month_to_date_credits == month.month_to_date_credits > 0
    assert by_name["a-usd"].budgets.active == 1 and by_name["a-usd"].budgets.over == 1
    assert by_name["c-never"].sync.status == "never" and by_name["c-never"].month_to_date_credits == 0
    t = first.totals
    assert t.connectors == 3 and t.never_synced == 1
    assert t.month_to_date_credits == sum((r.month_to_date_credits for r in rows), Decimal(0))
    assert t.currency is None and t.month_to_date_amount is None  # USD and EUR: never one mixed sum
    per = {c.currency: c for c in t.by_currency}
    assert per["EUR"].month_to_date_amount == by_name["b-eur"].month_to_date_amount
    assert per["EUR"].month_to_date_amount == (by_name["b-eur"].month_to_date_credits * Decimal("2.5")).quantize(
        Decimal("0.01")
    )
    assert t.budgets.over == 1


def test_org_overview_statements_do_not_grow_with_connectors(db: Any, org_id: UUID) -> None:
    """Given the overview of an org, when 20 more connectors join it, then it issues the same number of statements
    (no query per connector), and the hourly refresh of their months is one statement too."""
    before = Counting(db)
    org.overview(before, org_id, 50, 0)  # type: ignore[arg-type]
    for i in range(20):
        make_connector(db, org_id, name=f"z-more-{i:02d}")
    after = Counting(db)
    answer = org.overview(after, org_id, 50, 0)  # type: ignore[arg-type]
    assert answer.totals.connectors >= 20
    assert after.statements == before.statements <= 5
    refresh = Counting(db)
    assert budgets_repo.refresh_month_state(refresh, datetime.now(UTC), org_id=org_id) >= 20  # type: ignore[arg-type]
    assert refresh.statements <= 6  # BEGIN, the pass's settings, the pass, COMMIT


def test_org_overview_over_the_api_for_a_member(api: Any) -> None:
    """Given the demo org, when a member reads GET /api/org/overview, then 200 with its connectors and totals."""
    answer = api.get("/api/org/overview", as_="member", query={"limit": 500})
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["figure"] == "used" and body["page"]["total"] == body["totals"]["connectors"] >= 1
    credits = sum(Decimal(str(r["month_to_date_credits"])) for r in body["page"]["items"])
    assert credits == Decimal(str(body["totals"]["month_to_date_credits"]))
    assert api.get("/api/org/overview", as_=None).status == 401
