"""How every cost breakdown adds up to its own total, and the sync state every cost answer carries.

Rows are rounded by **cumulative rounding**: row i gets round(S_i) - round(S_{i-1}), where S_i is the exact sum of
the rows up to and including i in the answer's order. The rounded rows then add up exactly to the rounded total,
each row is within one unit (a cent, a micro-credit) of its exact value, and the result depends only on the order.
A paginated list passes the exact sum of the rows before its page (``before``), so pages add up too.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from snowwatch.models.connectors import Connector
from snowwatch.models.cost import SyncState, Total

ZERO = Decimal(0)
MICRO = Decimal("0.000001")  # credits
CENT = Decimal("0.01")  # currency


def rnd(value: Decimal, unit: Decimal) -> Decimal:
    return value.quantize(unit, rounding=ROUND_HALF_UP)


def split(values: Sequence[Decimal], unit: Decimal, before: Decimal = ZERO) -> list[Decimal]:
    """The rounded rows of ``values`` (cumulative rounding, after ``before`` of earlier rows)."""
    out = []
    running = before
    for v in values:
        out.append(rnd(running + v, unit) - rnd(running, unit))
        running += v
    return out


def rows_and_total(
    credits: Sequence[Decimal], price: Decimal, before: Decimal = ZERO, total: Decimal | None = None
) -> tuple[list[Decimal], list[Decimal], Total]:
    """Rounded credits and amounts of the rows, and the total they add up to (``total``: the exact sum of every
    row of a paginated list; default: these rows)."""
    exact = sum(credits, ZERO) if total is None else total
    return (
        split(credits, MICRO, before),
        split([c * price for c in credits], CENT, before * price),
        Total(credits=rnd(exact, MICRO), amount=rnd(exact * price, CENT)),
    )


def sync_state(connector: Connector) -> SyncState:
    return SyncState(status="synced" if connector.last_sync_at else "never", last_sync_at=connector.last_sync_at)
