"""`make bench`: run every benchmark module and write one JSON file under bench/results/.

Headline figures sit at the top level of the JSON (with their targets); each module's detail
sits under its own key. Modules: bench.cost, bench.budgets, bench.security, bench.deploy, bench.large.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MODULES = ("cost", "budgets", "security", "deploy", "large")
RESULTS = Path(__file__).parent / "results"

TARGETS = {
    "loader_vs_copy_ratio": ">= 0.5",
    "cost_api_p95_ms_max": "<= 50",
    "sync_statements_per_connector": "constant, not growing with data",
    "budget_check_vs_aggregate_ratio": "<= 3",
    "idle_cost_usd_month_lean": "<= 40",
    "large_sync_peak_rss_mb": "<= 512",
    "large_sync_postgres_rows_per_s": ">= 80000",
    "large_sync_rows_per_s": ">= 40000",
    "query_row_bytes": "<= 700",
    "backfill_exact": "= 1",
}


def main(argv: list[str]) -> int:
    selected = argv or list(MODULES)
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(),
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "targets": TARGETS,
    }
    failed = []
    for name in selected:
        started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            module.run(results)
        except Exception:
            failed.append(name)
            results.setdefault("errors", {})[name] = traceback.format_exc()[-2000:]
        results.setdefault("durations_s", {})[name] = round(time.monotonic() - started, 1)
        print(f"bench.{name}: {results['durations_s'][name]} s", flush=True)
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(results, indent=2, default=str, sort_keys=True)
    (RESULTS / "latest.json").write_text(text + "\n")
    print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
