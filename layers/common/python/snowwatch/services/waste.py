"""Waste findings: evidence from the synced data, the exact SQL to run, and a rough estimated monthly saving each.

Savings are estimates, scaled from the window to 30 days: idle credits that a shorter
auto-suspend would save, the storage cost of data nobody reads, and a conservative share of a
warehouse's compute for query-shape problems (spilling, no pruning, no cache).

Each saving names the credits it comes from (``claim``): ``idle:<warehouse>`` (auto-suspend off or long, high idle
share: the same idle credits), ``queries:<warehouse>`` (spilling, cache, full scans: the same query compute),
``storage:<table>``. Findings with one claim count once in the total (the largest estimate); the others are listed
with ``counted: false``. Dismissed findings, and snoozed ones until their day has passed, are listed and not counted.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from snowwatch.db import Connection
from snowwatch.models.connectors import Connector
from snowwatch.models.cost import Finding, FindingQuery, Money, Waste, Window
from snowwatch.repositories import cost as repo
from snowwatch.repositories import findings as findings_repo
from snowwatch.services.cost import (
    ZERO,
    amt,
    bounds,
    cr,
    d,
    money,
    storage_monthly,
    today,
    warehouse_costs,
    window,
)
from snowwatch.services.figures import sync_state

LARGE_TABLE = 2**40
NEVER_READ_DAYS = 90
QUERY_KINDS = ("remote_spilling", "low_cache", "full_scans")
QUERIES_PER_FINDING = 5
# SHOW WAREHOUSES sizes (normalised) in order, as ALTER WAREHOUSE ... SET WAREHOUSE_SIZE spells them
SIZES = ["XSMALL", "SMALL", "MEDIUM", "LARGE", "XLARGE", "XXLARGE", "XXXLARGE", "X4LARGE", "X5LARGE", "X6LARGE"]
SIZE_ALIASES = {"2XLARGE": "XXLARGE", "3XLARGE": "XXXLARGE", "4XLARGE": "X4LARGE", "5XLARGE": "X5LARGE"}


def ident(name: str) -> str:
    """A Snowflake identifier, double-quoted (case kept, embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def next_size(size: str | None) -> str | None:
    if not size:
        return None
    norm = size.upper().replace("-", "").replace(" ", "").replace("_", "")
    norm = SIZE_ALIASES.get(norm, norm)
    if norm not in SIZES or norm == SIZES[-1]:
        return None
    return SIZES[SIZES.index(norm) + 1]


def _finding(
    kind: str,
    subject: str,
    severity: str,
    title: str,
    evidence: dict[str, object],
    rec: str,
    credits: Decimal,
    m: Money,
    sql: str | None = None,
    claim: str | None = None,
) -> Finding:
    return Finding(
        id=None,
        key=f"{kind}:{subject}",
        kind=kind,
        subject=subject,
        severity=severity,
        title=title,
        evidence=evidence,
        recommendation=rec,
        sql=sql,
        claim=claim,
        counted=True,
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
                    "Let it suspend after 60 s idle",
                    idle * Decimal("0.8") * monthly,
                    m,
                    f"ALTER WAREHOUSE {ident(name)} SET AUTO_SUSPEND = 60;",
                    f"idle:{name}",
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
                    "Lower AUTO_SUSPEND to 60 s",
                    idle * (1 - Decimal(60) / w.auto_suspend) * monthly,
                    m,
                    f"ALTER WAREHOUSE {ident(name)} SET AUTO_SUSPEND = 60;",
                    f"idle:{name}",
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
                    f"ALTER WAREHOUSE {ident(name)} SET AUTO_SUSPEND = 60;",
                    f"idle:{name}",
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
                    "Attach a resource monitor with a monthly credit quota (120% of this window's monthly rate)",
                    ZERO,
                    m,
                    _monitor_sql(name, d(w.credits) * monthly),
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
                    "Raise MAX_CLUSTER_COUNT (multi-cluster, Enterprise edition) or split workloads",
                    ZERO,
                    m,
                    f"ALTER WAREHOUSE {ident(name)} SET MAX_CLUSTER_COUNT = {max(2, (w.max_cluster_count or 1) + 1)};",
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
                    _resize_sql(name, w.size),
                    f"queries:{name}",
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
                    None,
                    f"queries:{name}",
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
                    None,
                    f"queries:{name}",
                )
            )
    return out


def _table_findings(conn: Connection, connector: Connector, m: Money, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    cutoff = now - timedelta(days=NEVER_READ_DAYS)
    price = m.credit_price or Decimal(1)
    for t in repo.large_tables(conn, connector.id, LARGE_TABLE):
        name = f"{t['table_catalog']}.{t['table_schema']}.{t['table_name']}"
        quoted = ".".join(ident(t[k]) for k in ("table_catalog", "table_schema", "table_name"))
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
                    f"DROP TABLE {quoted};",
                    f"storage:{name}",
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
                    f"ALTER TABLE {quoted} SET DATA_RETENTION_TIME_IN_DAYS = 1;",
                    f"storage:{name}",
                )
            )
    return out


def _resize_sql(warehouse: str, size: str | None) -> str | None:
    bigger = next_size(size)
    return f"ALTER WAREHOUSE {ident(warehouse)} SET WAREHOUSE_SIZE = '{bigger}';" if bigger else None


def _monitor_sql(warehouse: str, monthly_credits: Decimal) -> str:
    monitor = ident(f"{warehouse}_MONITOR")
    quota = max(1, math.ceil(monthly_credits * Decimal("1.2")))
    return (
        f"CREATE RESOURCE MONITOR {monitor} WITH CREDIT_QUOTA = {quota} FREQUENCY = MONTHLY "
        "START_TIMESTAMP = IMMEDIATELY TRIGGERS ON 90 PERCENT DO NOTIFY ON 100 PERCENT DO SUSPEND;\n"
        f"ALTER WAREHOUSE {ident(warehouse)} SET RESOURCE_MONITOR = {monitor};"
    )


def current(conn: Connection, connector: Connector, first: date, last: date, m: Money, now: datetime) -> list[Finding]:
    """The findings the synced data shows over local days first..last (no stored state)."""
    monthly = Decimal(30) / Decimal((last - first).days + 1)
    out = _warehouse_findings(conn, connector, first, last, m, monthly)
    out += _table_findings(conn, connector, m, now)
    return out


def _apply_states(findings: list[Finding], stored: dict[str, dict[str, Any]], today: date) -> None:
    """Stored ids and states; then each claim counted once (the largest open estimate), dismissals not at all."""
    for f in findings:
        row = stored.get(f.key)
        if row:
            f.id, f.state_reason, f.snoozed_until = row["id"], row["state_reason"], row["snoozed_until"]
            queries = json.loads(row["queries"]) if isinstance(row["queries"], str) else row["queries"]
            f.queries = [FindingQuery.model_validate(q) for q in queries or []]
            snoozed = row["state"] == "snoozed" and row["snoozed_until"] is not None and row["snoozed_until"] >= today
            f.state = "open" if row["state"] == "snoozed" and not snoozed else row["state"]
        f.counted = f.state == "open"
    best: dict[str, Finding] = {}
    for f in sorted(findings, key=lambda f: (-f.estimated_monthly_savings_credits, f.key)):
        if not f.counted or f.claim is None:
            continue
        if f.claim in best:
            f.counted = False
        else:
            best[f.claim] = f


def attach_queries(conn: Connection, connector: Connector, findings: list[Finding], first: date, last: date) -> None:
    """The queries behind each query-level finding (the full sync runs this; answers read what it stored)."""
    wanted = [f for f in findings if f.kind in QUERY_KINDS]
    if not wanted:
        return
    lo, hi = bounds(connector, first, last)
    rows = repo.finding_queries(conn, connector.id, lo, hi, [(f.subject, f.kind) for f in wanted], QUERIES_PER_FINDING)
    for f in wanted:
        f.queries = [
            FindingQuery.model_validate(r) for r in rows if r["warehouse"] == f.subject and r["kind"] == f.kind
        ]


def waste(
    conn: Connection, connector: Connector, start: date | None, end: date | None, now: datetime | None = None
) -> Waste:
    now = now or datetime.now(UTC)
    rng = window(connector, start, end, now)
    m = money(conn, connector, rng.start, rng.end)
    findings = current(conn, connector, rng.start, rng.end, m, now)
    _apply_states(findings, findings_repo.by_key(conn, connector.id), today(connector, now))
    findings.sort(key=lambda f: (not f.counted, -f.estimated_monthly_savings, f.kind, f.subject))
    counted = [f for f in findings if f.counted]
    return Waste(
        sync=sync_state(connector),
        money=m,
        window=Window(start=rng.start, end=rng.end),
        total_estimated_monthly_savings=sum((f.estimated_monthly_savings for f in counted), ZERO),
        total_estimated_monthly_savings_credits=sum((f.estimated_monthly_savings_credits for f in counted), ZERO),
        findings=findings,
    )
