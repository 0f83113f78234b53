"""Security benchmark: a full extraction of the demo-size synthetic account plus rule evaluation, timed,
with row counts; an incremental re-run; each rule's evaluation time; the security API's service calls.

Standalone: ``python -m bench.security`` (prints the JSON; ``--bench-size`` for the bench-size account, key
``security_timeline_p95_ms_bench``). From ``make bench``: ``run(results)`` (demo size).
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime
from typing import Any, Literal

SIZE: Literal["tiny", "demo", "bench"] = "demo"
DATABASE = "snowwatch_bench_security"
SAMPLES = 20


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def bench(stack: Any) -> dict[str, Any]:
    # after the bench's local stack has set the environment (settings and Powertools read it)
    from snowwatch.db import get_connection, query_one
    from snowwatch.services import security_reads as security
    from snowwatch.services import security_rules as rules
    from snowwatch.settings import JobSettings, get_settings

    conn = get_connection(get_settings(JobSettings))
    cid = stack.connector_id

    t = time.perf_counter()
    first = stack.run_job("security", connector_id=str(cid))
    first_s = time.perf_counter() - t
    assert first["status"] == "succeeded", first

    t = time.perf_counter()
    again = stack.run_job("security", connector_id=str(cid))
    again_s = time.perf_counter() - t

    now = datetime.now(UTC)
    per_rule: dict[str, float] = {}
    t_all = time.perf_counter()
    for r in rules.RULES:
        t = time.perf_counter()
        r.run(conn, cid, now)
        per_rule[r.id] = _ms(time.perf_counter() - t)
    evaluation_ms = _ms(time.perf_counter() - t_all)

    api: dict[str, dict[str, float]] = {}
    calls = {
        "summary": lambda: security.summary(conn, cid),
        "alerts": lambda: security.list_alerts(conn, cid, status=None, severity=None, rule=None, limit=50, offset=0),
        "failed_logins_24h": lambda: security.failed_logins(conn, cid, 24),
        "login_history": lambda: security.login_history(
            conn, cid, user=None, ip=None, success=False, start=None, end=None, limit=50, offset=0
        ),
        "admin_access": lambda: security.admin_access(conn, cid),
        "no_mfa": lambda: security.no_mfa(conn, cid, 50, 0),
    }
    for name, call in calls.items():
        samples = []
        for _ in range(SAMPLES):
            t = time.perf_counter()
            call()
            samples.append(time.perf_counter() - t)
        samples.sort()
        api[name] = {"p50_ms": _ms(statistics.median(samples)), "p95_ms": _ms(samples[int(0.95 * (SAMPLES - 1))])}

    # The post-login timeline, uncached (no stage cache: the service call itself), over distinct logins: the
    # planted story (sessions, queries, objects) and successful logins that opened sessions.
    from snowwatch.db import query
    from snowwatch.services import security_timeline
    from snowwatch_local.synthetic.security import STORY_LOGIN

    event_ids = [STORY_LOGIN] + [
        int(r["login_event_id"])
        for r in query(
            conn,
            """SELECT DISTINCT login_event_id FROM enterprise.snowflake_sessions
               WHERE connector_id = :c AND login_event_id IS NOT NULL AND login_event_id <> :story
               ORDER BY login_event_id DESC LIMIT :n""",
            c=cid,
            story=STORY_LOGIN,
            n=SAMPLES - 1,
        )
    ]
    timeline: list[float] = []
    for event_id in event_ids:
        t = time.perf_counter()
        security_timeline.timeline(conn, cid, event_id)
        timeline.append(time.perf_counter() - t)
    timeline.sort()
    api["login_timeline"] = {
        "p50_ms": _ms(statistics.median(timeline)),
        "p95_ms": _ms(timeline[int(0.95 * (len(timeline) - 1))]),
        "samples": len(timeline),
    }

    logins = query_one(
        conn, "SELECT count(*) AS n FROM enterprise.snowflake_login_history WHERE connector_id = :c", c=cid
    )
    return {
        "size": stack.size,
        "seeded_source_rows": {k: v for k, v in stack.seed_counts.items() if k.startswith("security.")},
        "full_run": {"seconds": round(first_s, 2), "rows": first["rows"]},
        "incremental_run": {"seconds": round(again_s, 2), "rows": again["rows"]},
        "login_history_rows_kept": int(logins["n"]) if logins else 0,
        "rule_evaluation_ms": evaluation_ms,
        "rule_ms": per_rule,
        "rule_count": len(rules.RULES),
        "service_calls": api,
    }


def run(results: dict[str, Any], size: Literal["tiny", "demo", "bench"] | None = None) -> None:
    # after the bench's local stack has set the environment (settings and Powertools read it)
    from snowwatch_local.services import drop_database
    from snowwatch_local.stack import LocalStack

    t = time.perf_counter()
    size = size or SIZE
    stack = LocalStack(database=DATABASE, fresh_database=True, size=size, dispatch_mode="inline")
    stack.start()
    start_s = time.perf_counter() - t
    try:
        detail = bench(stack)
    finally:
        stack.stop()
        drop_database(DATABASE)
    detail["stack_start_seconds"] = round(start_s, 1)
    results["security"] = detail
    results["security_full_extraction_and_rules_s"] = detail["full_run"]["seconds"]
    results["security_rule_evaluation_ms"] = detail["rule_evaluation_ms"]
    results["security_rule_count"] = detail["rule_count"]
    suffix = "" if size == SIZE else f"_{size}"
    results[f"security_timeline_p95_ms{suffix}"] = detail["service_calls"]["login_timeline"]["p95_ms"]


if __name__ == "__main__":
    import sys

    out: dict[str, Any] = {}
    started = time.perf_counter()
    run(out, "bench" if "--bench-size" in sys.argv else None)
    out["security"]["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=2, default=str))
