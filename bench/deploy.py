"""Deployment benchmark: the idle monthly cost of each profile's synthesized template (us-east-1,
infra/prices.py's dated price table) and its resource count. Headlines: ``idle_cost_usd_month_lean``
(target <= 40) and ``idle_cost_usd_month_prod``.

The prod profile needs its identity provider in the context; placeholder values stand in (they
change no priced resource). Synthesizes offline; builds the layers first if needed (`make layers`).
Standalone: ``python -m bench.deploy``. From ``make bench``: ``run(results)``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
from pathlib import Path
from typing import Any

PROFILES: dict[str, dict[str, Any]] = {
    "lean": {"profile": "lean"},
    "prod": {
        "profile": "prod",
        "jwks_url": "https://idp.example.org/.well-known/jwks.json",
        "jwt_audience": "snowwatch",
        "jwt_issuer": "https://idp.example.org/",
    },
}


def synthesize(context: dict[str, Any]) -> dict[str, Any]:
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    # the CDK app loads only for this bench (it takes seconds)
    from infra.app import build_app

    with tempfile.TemporaryDirectory(prefix="bench-cdk-") as outdir:
        app = build_app(context, outdir=outdir)
        app.synth()
        template: dict[str, Any] = json.loads((Path(outdir) / "Snowwatch.template.json").read_text())
    return template


def run(results: dict[str, Any]) -> None:
    # the CDK app loads only for this bench (it takes seconds)
    from infra.constants import ROOT
    from infra.prices import PRICES_AS_OF, REGION, idle_cost_total, idle_costs

    spec = importlib.util.spec_from_file_location("build_layers", ROOT / "scripts" / "build_layers.py")
    assert spec is not None and spec.loader is not None
    layers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layers)
    layers.build()

    detail: dict[str, Any] = {"prices_as_of": PRICES_AS_OF, "region": REGION}
    for name, context in PROFILES.items():
        template = synthesize(context)
        by_item: dict[str, float] = {}
        for cost in idle_costs(template):
            by_item[cost.what] = by_item.get(cost.what, 0.0) + cost.usd_month
        detail[name] = {
            "resources": len(template["Resources"]),
            "idle_cost_usd_month": idle_cost_total(template),
            "idle_cost_by_item": {k: round(v, 2) for k, v in sorted(by_item.items(), key=lambda kv: -kv[1])},
        }
        results[f"idle_cost_usd_month_{name}"] = idle_cost_total(template)
    results["deploy"] = detail
    results.setdefault("targets", {})["idle_cost_usd_month_lean"] = "<= 40"


if __name__ == "__main__":
    out: dict[str, Any] = {}
    run(out)
    print(json.dumps(out, indent=2))
