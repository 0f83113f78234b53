"""After a synth: the synthesized resource counts by type, the idle monthly cost per resource
(infra/prices.py), and each function's unzipped size.

Usage: .venv/bin/python infra/report.py [cdk.out]   (run by `make synth`)
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "infra"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra.prices import print_idle_costs  # noqa: E402
from infra.sizes import print_function_sizes  # noqa: E402


def main(argv: list[str]) -> int:
    outdir = Path(argv[0]) if argv else ROOT / "cdk.out"
    for template_path in sorted(outdir.glob("*.template.json")):
        template = json.loads(template_path.read_text())
        counts = Counter(r["Type"] for r in template["Resources"].values())
        print(f"{template_path.name}: {sum(counts.values())} resources, {len(counts)} types")
        for type_, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {count:>4}  {type_}")
        print_idle_costs(template, template_path.name)
    report = outdir / "policy-validation-report.json"
    if report.is_file():
        violations = sum(len(p["violations"]) for p in json.loads(report.read_text())["pluginReports"])
        print(f"validation (cdk-nag AwsSolutions + CloudFormation validate): {violations} unacknowledged findings")
    print_function_sizes()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
