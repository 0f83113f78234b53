"""Savings you can act on and savings you made: findings recorded by each full sync, the admin's dismiss/snooze,
and the credits actually saved once a finding's condition disappeared.

- ``track`` (end of every full sync): the findings of the last 30 local days are upserted by key (kind:subject); an
  open finding the sync no longer sees is resolved now (a configuration change in SHOW WAREHOUSES, the idle share
  dropping below its threshold, a table dropped or read).
- measured by the same sync (one statement for the connector) and read by ``savings``: per resolved warehouse finding,
  expected credits = for every hour since the resolution hour up to the last metered hour, the warehouse's mean
  credits of the same UTC weekday and hour over the 4 weeks before; saved = expected - actual credits used (negative
  when it costs more). The queries behind query-level findings are found by the sync too (last 30 days).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from snowwatch.db import Connection, transaction
from snowwatch.errors import NotFoundError
from snowwatch.models.connectors import Connector
from snowwatch.models.cost import FindingStateIn, FindingStateOut, SavedFinding, Savings
from snowwatch.repositories import findings as repo
from snowwatch.services import waste
from snowwatch.services.cost import d, money, today
from snowwatch.services.figures import rows_and_total, sync_state

TRACK_DAYS = 30
# Findings whose saving shows in the warehouse's own metering (idle, configuration, query shape).
WAREHOUSE_KINDS = ["auto_suspend_off", "auto_suspend_long", "high_idle", "remote_spilling", "low_cache", "full_scans"]
METHOD = (
    "credits saved = for each hour since the finding was resolved (its condition disappeared) up to the last metered "
    "hour: the warehouse's mean credits used in the same UTC weekday and hour over the 4 weeks before, minus the "
    "credits it used"
)


def track(conn: Connection, connector: Connector, now: datetime | None = None) -> dict[str, int]:
    now = now or datetime.now(UTC)
    last = today(connector, now)
    first = last - timedelta(days=TRACK_DAYS - 1)
    m = money(conn, connector, first, last)
    findings = waste.current(conn, connector, first, last, m, now)
    waste.attach_queries(conn, connector, findings, first, last)
    seen = [
        {
            "key": f.key,
            "kind": f.kind,
            "subject": f.subject,
            "claim": f.claim,
            "credits": f.estimated_monthly_savings_credits,
            "queries": json.dumps([q.model_dump(mode="json") for q in f.queries]),
        }
        for f in findings
    ]
    with transaction(conn):
        counts = repo.track(conn, connector.id, seen, now)
        counts["measured"] = repo.measure(conn, connector.id, WAREHOUSE_KINDS, now)
    return counts


def set_state(
    conn: Connection, connector: Connector, finding_id: UUID | str, body: FindingStateIn, by: UUID | None
) -> FindingStateOut:
    try:
        fid = finding_id if isinstance(finding_id, UUID) else UUID(str(finding_id))
    except ValueError as exc:
        raise NotFoundError("finding not found") from exc
    until = body.until if body.state == "snoozed" else None
    reason = body.reason if body.state != "open" else None
    row = repo.set_state(conn, connector.id, fid, body.state, reason, until, by)
    if row is None:
        raise NotFoundError("finding not found")
    return FindingStateOut.model_validate(row)


def savings(conn: Connection, connector: Connector, now: datetime | None = None) -> Savings:
    now = now or datetime.now(UTC)
    t = today(connector, now)
    m = money(conn, connector, t - timedelta(days=TRACK_DAYS - 1), t)
    rows = repo.saved(conn, connector.id, WAREHOUSE_KINDS)
    saved: list[Decimal] = [d(r["expected"]) - d(r["actual"]) for r in rows]
    credits, amounts, total = rows_and_total(saved, m.credit_price)
    return Savings(
        figure="used",
        sync=sync_state(connector),
        money=m,
        method=METHOD,
        total=total,
        findings=[_saved(r, c, a) for r, c, a in zip(rows, credits, amounts, strict=True)],
    )


def _saved(r: dict[str, Any], credits: Decimal, amount: Decimal) -> SavedFinding:
    return SavedFinding(
        id=r["id"],
        kind=r["kind"],
        subject=r["subject"],
        resolved_at=r["resolved_at"],
        hours_measured=int(r["hours"]),
        baseline_credits=d(r["expected"]).quantize(Decimal("0.000001")),
        actual_credits=d(r["actual"]).quantize(Decimal("0.000001")),
        credits_saved=credits,
        amount_saved=amount,
        baseline_complete=bool(r["baseline_complete"]),
        measured_at=r["measured_at"],
    )
