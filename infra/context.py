"""CDK context without the CDK: cdk.json's defaults and `-c key=value` arguments (the app, `make synth`
and `make preflight` read them the same way; this module imports no jsii library)."""

from __future__ import annotations

import json
from typing import Any

from infra.constants import ROOT

CDK_JSON = ROOT / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    return dict(json.loads(CDK_JSON.read_text()).get("context", {})) if CDK_JSON.is_file() else {}


def context_args(argv: list[str]) -> dict[str, Any]:
    """`-c key=value` pairs, as the CDK CLI takes them."""
    context: dict[str, Any] = {}
    args = iter(argv)
    for arg in args:
        if arg not in ("-c", "--context"):
            raise SystemExit(f"usage: [-c key=value ...] (got {arg!r})")
        key, sep, value = next(args, "").partition("=")
        if not sep:
            raise SystemExit("a context value is key=value")
        context[key] = value
    return context
