"""Waste findings: evidence from the synced data and a rough estimated monthly saving each.

Savings are estimates, scaled from the window to 30 days: idle credits that a shorter
auto-suspend would save, the storage cost of data nobody reads, and a conservative share of a
warehouse's compute for query-shape problems (spilling, no pruning, no cache).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from snowwatch.db import Connection
from snowwatch.models.connectors import Connector
from snowwatch.models.cost import Finding, Money, Waste, Window
from snowwatch.repositories import cost as repo
from snowwatch.services.cost import ZERO, amt, cr, d, money, storage_monthly, warehouse_costs, window
from snowwatch.services.figures import sync_state

LARGE_TABLE = 2**40
NEVER_READ_DAYS = 90


def _finding(
    kind: str,
    subject: str,
    severity: str,
    title: str,
    evidence: dict[str, object],
    rec: str,
    credits: Decimal,
    m: Money,
) -> Finding:
    return Finding(
        kind=kind,
        subject=subject,
        severity=severity,
        title=title,
        evidence=evidence,
        recommendation=rec,
        estimated_monthly_savings_credits=cr(credits),
        estimated_monthly_savings=amt(credits, m),
    )


def _warehouse_findings(
    conn: Connection, connector: Connector, first: date, last: date, m: Money, monthly: Decimal
) -> list[Finding]:
    out: list[Finding] = []
    stats = {r["warehouse_name"]: r for r in repo.warehouse_query_stats(conn, connector.id, first, last)}
    for w in warehouse_costs(conn, connector, first, last, m):
        name, idle, compute = w.warehouse_name, d(w.idle_credits), d(w.credits_compute)
        if w.auto_suspend is not None and w.auto_suspend == 0:
            out.append(
                _finding(
                    "auto_suspend_off",
                    name,
                    "high",
                    f"{name} never suspends",
                    {"auto_suspend": 0, "idle_credits": float(idle)},
                    "ALTER WAREHOUSE ... SET AUTO_SUSPEND = 60",
                    idle * Decimal("0.8") * monthly,
                    m,
                )
            )
        elif w.auto_suspend is not None and w.auto_suspend >= 600:
            out.append(
                _finding(
                    "auto_suspend_long",
                    name,
                    "medium",
                    f"{name} waits {w.auto_suspend} s before suspending",
                    {"auto_suspend": w.auto_suspend, "idle_credits": float(idle)},
                    "Lower AUTO_SUSPEND to 60-300 s",
                    idle * (1 - Decimal(60) / w.auto_suspend) * monthly,
                    m,
                )
            )
        if w.idle_share is not None and w.idle_share >= Decimal("0.4") and idle >= 1:
            out.append(
                _finding(
                    "high_idle",
                    name,
                    "high" if w.idle_share >= Decimal("0.6") else "medium",
                    f"{name} is idle for {float(w.idle_share):.0%} of its compute credits",
                    {"idle_credits": float(idle), "idle_share": float(w.idle_share), "credits_compute": float(compute)},
                    "Shorten auto-suspend, consolidate warehouses or right-size",
                    idle * Decimal("0.5") * monthly,
                    m,
                )
            )
        if w.resource_monitor is None and w.size is not None:  # configuration known, no monitor
            out.append(
                _finding(
                    "no_resource_monitor",
                    name,
                    "low",
                    f"{name} has no resource monitor",
                    {"resource_monitor": None},
                    "Attach a resource monitor with a credit quota",
                    ZERO,
                    m,
                )
            )
        if w.avg_queued_load is not None and w.avg_queued_load >= Decimal("0.5"):
            out.append(
                _finding(
                    "queued_load",
                    name,
                    "medium",
                    f"{name} queues work (avg queued load {w.avg_queued_load})",
                    {"avg_queued_load": float(w.avg_queued_load), "max_cluster_count": w.max_cluster_count},
                    "Raise MAX_CLUSTER_COUNT (multi-cluster) or split workloads",
                    ZERO,
                    m,
                )
            )
        s = stats.get(name)
        if not s or not s["queries"]:
            continue
        scanned = d(s["bytes_scanned"])
        remote = d(s["bytes_spilled_remote"])
        if scanned and remote / scanned >= Decimal("0.1"):
            out.append(
                _finding(
                    "remote_spilling",
                    name,
                    "medium",
                    f"{name} spills to remote storage",
                    {
                        "bytes_spilled_remote": int(remote),
                        "bytes_scanned": int(scanned),
                        "ratio": float(remote / scanned),
                    },
                    "Size the warehouse up for these queries or reduce their memory use",
                    compute * Decimal("0.1") * monthly,
                    m,
                )
            )
        if scanned and s["queries"] >= 50 and d(s["cache_scanned_bytes"]) / scanned < Decimal("0.1"):
            out.append(
                _finding(
                    "low_cache",
                    name,
                    "low",
                    f"{name} barely uses its local cache",
                    {"cache_share": float(d(s["cache_scanned_bytes"]) / scanned), "queries": int(s["queries"])},
                    "Keep warehouses warm for repeated queries (auto-suspend >= 60 s) and group similar work",
                    compute * Decimal("0.05") * monthly,
                    m,
                )
            )
        if s["queries"] >= 50 and d(s["full_scan_queries"]) / d(s["queries"]) >= Decimal("0.5"):
            out.append(
                _finding(
                    "full_scans",
                    name,
                    "medium",
                    f"{name} scans nearly every partition",
                    {
                        "full_scan_queries": int(s["full_scan_queries"]),
                        "queries": int(s["queries"]),
                        "partitions_scanned": int(s["partitions_scanned"]),
                        "partitions_total": int(s["partitions_total"]),
                    },
                    "Add filters on clustered columns or a clustering key",
                    compute * Decimal("0.2") * monthly,
                    m,
                )
            )
    return out


def _table_findings(conn: Connection, connector: Connector, m: Money, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    cutoff = now - timedelta(days=NEVER_READ_DAYS)
    price = m.credit_price or Decimal(1)
    for t in repo.large_tables(conn, connector.id, LARGE_TABLE):
        name = f"{t['table_catalog']}.{t['table_schema']}.{t['table_name']}"
        active, tt = d(t["active_bytes"]), d(t["time_travel_bytes"])
        if active >= LARGE_TABLE and (t["last_read_at"] is None or t["last_read_at"] < cutoff):
            cost = storage_monthly(active + tt + d(t["failsafe_bytes"]), connector)
            out.append(
                _finding(
                    "table_never_read",
                    name,
                    "medium",
                    f"{name} ({active / 2**40:.1f} TB) is not read",
                    {
                        "active_bytes": int(active),
                        "last_read_at": t["last_read_at"].isoformat() if t["last_read_at"] else None,
                        "days": NEVER_READ_DAYS,
                    },
                    "Drop it, or archive it (transient table / cheaper storage tier)",
                    cost / price,
                    m,
                )
            )
        if tt >= LARGE_TABLE and tt >= 2 * active:
            cost = storage_monthly(tt, connector)
            out.append(
                _finding(
                    "time_travel_heavy",
                    name,
                    "low",
                    f"{name} keeps {tt / 2**40:.1f} TB of time travel",
                    {"time_travel_bytes": int(tt), "active_bytes": int(active)},
                    "Lower DATA_RETENTION_TIME_IN_DAYS on this churning table",
                    cost / price,
                    m,
                )
            )
    return out


def waste(conn: Connection, connector: Connector, start: date | None, end: date | None) -> Waste:
    rng = window(connector, start, end)
    m = money(conn, connector, rng.start, rng.end)
    monthly = Decimal(30) / Decimal((rng.end - rng.start).days + 1)
    findings = _warehouse_findings(conn, connector, rng.start, rng.end, m, monthly)
    findings += _table_findings(conn, connector, m, datetime.now(UTC))
    findings.sort(key=lambda f: (-f.estimated_monthly_savings, f.kind, f.subject))
    return Waste(
        sync=sync_state(connector),
        money=m,
        window=Window(start=rng.start, end=rng.end),
        total_estimated_monthly_savings=sum((f.estimated_monthly_savings for f in findings), ZERO),
        findings=findings,
    )
