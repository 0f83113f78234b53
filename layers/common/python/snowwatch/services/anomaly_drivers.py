"""What drove an anomaly: warehouses, service types, users and query hashes ranked by their share of the excess.

For an anomaly day with credits used V and baseline median M (the anomaly's own baseline), excess E = V - M. Each
key k of a dimension gets a baseline b_k = its mean over the same 28 previous days x (M / the total's mean over
those days), so the keys' baselines share the median in proportion to their usual spend; its contribution is
c_k = V_k - b_k. For service types (which cover all spend) the contributions add up to E; for warehouses, users and
query hashes (which cover part of it: warehouse spend, query credits) the rest of E is one row, ``(not in this
dimension)``. The 10 largest contributions are listed, then ``(others)``; rounded (cumulative rounding) so that every
dimension's rows add up exactly to the rounded excess.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from snowwatch.db import Connection
from snowwatch.models.connectors import Connector
from snowwatch.models.cost import Anomaly, Driver
from snowwatch.repositories import cost as repo
from snowwatch.services.figures import MICRO, ZERO, rnd, split

DIMENSIONS = ("service_type", "warehouse", "user", "query_hash")
TOP = 10
REST = "(not in this dimension)"
OTHERS = "(others)"


def explain(
    conn: Connection, connector: Connector, items: list[Anomaly], series: dict[date, Decimal], baseline_days: int
) -> None:
    """Fill each anomaly's ``excess_credits`` and ``drivers`` (one statement for every dimension and anomaly)."""
    if not items:
        return
    factors: dict[date, Decimal] = {}
    for a in items:
        mean = sum((series.get(a.day - timedelta(days=i), ZERO) for i in range(1, baseline_days + 1)), ZERO)
        mean /= baseline_days
        factors[a.day] = Decimal(a.baseline_median) / mean if mean else ZERO
    days = [a.day for a in items]
    rows: dict[str, list[dict[str, Any]]] = {dim: [] for dim in DIMENSIONS}
    for r in repo.day_drivers(conn, connector.id, days, [factors[x] for x in days], baseline_days, TOP):
        rows[r["dim"]].append(r)
    for a in items:
        excess = Decimal(a.credits) - Decimal(a.baseline_median)
        drivers: list[Driver] = []
        for dim in DIMENSIONS:
            mine = [r for r in rows[dim] if r["day"] == a.day]
            listed = [(r["key"] if r["key"] is not None else OTHERS, Decimal(str(r["value"]))) for r in mine]
            rest = excess - (Decimal(str(mine[0]["whole"])) if mine else ZERO)
            if dim != "service_type" or abs(rest) >= MICRO:
                listed.append((REST, rest))
            rounded = split([c for _, c in listed], MICRO)
            total = rnd(excess, MICRO)
            drivers += [
                Driver(
                    dimension=dim,
                    key=k,
                    credits=c,
                    share=(c / total).quantize(Decimal("0.0001")) if total else ZERO,
                )
                for (k, _), c in zip(listed, rounded, strict=True)
            ]
        a.excess_credits = rnd(excess, MICRO)
        a.drivers = drivers
