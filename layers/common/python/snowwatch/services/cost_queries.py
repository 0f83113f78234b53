"""Cost use cases over queries: top queries (of a warehouse), groups by parameterized hash, query tag or dbt model,
users and roles, and the attribution endpoint. Figure: query credits (compute + billed cloud services); every page's
rows add up to the answer's total (services/figures.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from snowwatch.db import Connection
from snowwatch.errors import ValidationFailedError
from snowwatch.models.common import Page
from snowwatch.models.connectors import Connector
from snowwatch.models.cost import Attribution, Money, Queries, QueryCost, Total, UserCost, Users, Window
from snowwatch.repositories import cost as repo
from snowwatch.services.cost import bounds, cr, d, kept, money, window
from snowwatch.services.figures import CENT, rnd, rows_and_total, sync_state


def _query_credits(r: dict[str, Any]) -> Decimal:
    return d(r["credits_compute"]) + d(r["credits_cloud_services"])


def _credit_rows(rows: list[dict[str, Any]], m: Money, before: Any, total: Any) -> tuple[list[dict[str, Any]], Total]:
    """Credits of queries or groups of queries (figure: query): compute, billed and raw cloud services, the total
    billed and its amount, rounded so that every page of the list adds up to ``total``."""
    credits, amounts, tot = rows_and_total([_query_credits(r) for r in rows], m.credit_price, d(before), d(total))
    fields = [
        {
            "credits_compute": cr(r["credits_compute"]),
            "credits_cloud_services": cr(r["credits_cloud_services"]),
            "credits_cloud_services_used": cr(r["credits_cloud_services_used"]),
            "credits": c,
            "amount": a,
        }
        for r, c, a in zip(rows, credits, amounts, strict=True)
    ]
    return fields, tot


def queries(
    conn: Connection,
    connector: Connector,
    start: date | None,
    end: date | None,
    group_by: str,
    limit: int,
    offset: int,
    warehouse: str | None = None,
) -> Queries:
    """Top queries (of one warehouse when given: the warehouses' drill-down), or groups of queries."""
    rng = window(connector, start, end)
    if warehouse is not None and group_by != "query":
        raise ValidationFailedError(
            "warehouse filters single queries only",
            details=[{"loc": ["query", "warehouse"], "msg": "use it with group_by=query"}],
        )
    first, since = kept(conn, connector, rng.start)  # rollups (and raw rows) only from the kept rollups on
    raw = repo.raw_from(conn, connector.id, connector.timezone)
    if group_by == "query" and raw is not None and raw > first:  # single queries only from the kept raw rows on
        first = raw
    m = money(conn, connector, first, rng.end)
    items: list[QueryCost] = []
    whole = repo.query_credits_total(conn, connector.id, first, rng.end, warehouse)
    if group_by == "query":
        lo, hi = bounds(connector, first, rng.end)
        rows, total = repo.top_queries(conn, connector.id, lo, hi, first, rng.end, limit, offset, warehouse)
        before = repo.top_queries_before(conn, connector.id, lo, hi, offset, warehouse) if offset and rows else 0
        fields, sums = _credit_rows(rows, m, before, whole["credits"])
        for r, f in zip(rows, fields, strict=True):
            items.append(
                QueryCost(
                    key=r["query_id"],
                    query_text=r["query_text"],
                    user_name=r["user_name"],
                    role_name=r["role_name"],
                    warehouse_name=r["warehouse_name"],
                    start_time=r["start_time"],
                    queries=1,
                    elapsed_ms=int(r["total_elapsed_time"]),
                    cost_method=r["cost_method"],
                    **f,
                )
            )
    else:
        if group_by == "parameterized_hash":
            rows, total = repo.hash_rollup(conn, connector.id, first, rng.end, limit, offset)
        else:  # query_tag, dbt_model (services/attribution.py); '' = none
            rows, total = repo.rollup(conn, connector.id, group_by, first, rng.end, "key1", limit, offset)
        texts = repo.sample_texts(conn, connector.id, [r["sample"] for r in rows if r["sample"]])
        fields, sums = _credit_rows(rows, m, rows[0]["before"] if rows else 0, whole["credits"])
        for r, f in zip(rows, fields, strict=True):
            items.append(
                QueryCost(
                    key=r["key1"],
                    query_text=texts.get(r["sample"][0]) if r["sample"] else None,
                    queries=int(r["queries"]),
                    elapsed_ms=int(r["elapsed_ms"]),
                    **f,
                )
            )
    return Queries(
        figure="query",
        sync=sync_state(connector),
        money=m,
        window=Window(start=first, end=rng.end),
        group_by=group_by,
        raw_from=raw,
        rollups_from=since,
        source="raw" if group_by == "query" else "rollup",
        total=sums,
        page=Page[QueryCost](items=items, total=total, limit=limit, offset=offset),
    )


def users(
    conn: Connection,
    connector: Connector,
    start: date | None,
    end: date | None,
    group_by: str,
    limit: int,
    offset: int,
) -> Users:
    rng = window(connector, start, end)
    first, since = kept(conn, connector, rng.start)
    m = money(conn, connector, first, rng.end)
    by = "key1" if group_by == "user" else "key2"
    rows, total = repo.rollup(conn, connector.id, "user", first, rng.end, by, limit, offset)
    whole = repo.query_credits_total(conn, connector.id, first, rng.end)
    fields, sums = _credit_rows(rows, m, rows[0]["before"] if rows else 0, whole["credits"])
    items = [
        UserCost(
            user_name=r["key1"],
            role_name=r["key2"],
            queries=int(r["queries"]),
            elapsed_ms=int(r["elapsed_ms"]),
            **f,
        )
        for r, f in zip(rows, fields, strict=True)
    ]
    return Users(
        figure="query",
        sync=sync_state(connector),
        money=m,
        window=Window(start=first, end=rng.end),
        group_by=group_by,
        raw_from=repo.raw_from(conn, connector.id, connector.timezone),
        rollups_from=since,
        source="rollup",
        total=sums,
        page=Page[UserCost](items=items, total=total, limit=limit, offset=offset),
    )


def attribution(
    conn: Connection,
    connector: Connector,
    start: date | None,
    end: date | None,
    by: str,
    limit: int,
    offset: int,
) -> Attribution:
    """Query credits by query tag or dbt model (the key '' holds the queries without one)."""
    answer = queries(conn, connector, start, end, by, limit, offset)
    unkeyed = d(repo.rollup_key_credits(conn, connector.id, by, answer.window.start, answer.window.end, ""))
    whole = d(answer.total.credits)
    return Attribution(
        **answer.model_dump(exclude={"group_by"}),
        by=by,
        attributed=Total(
            credits=cr(whole - unkeyed),
            amount=rnd((whole - unkeyed) * answer.money.credit_price, CENT),
        ),
    )
