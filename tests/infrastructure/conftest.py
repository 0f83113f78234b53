"""Synthesize the CDK app once per session (offline, no credentials) and share the result.

The dependency layers are built first if build/layers is missing or stale (scripts/build_layers.py
hashes its inputs, so a second run is a no-op). cdk-nag runs as a validation plugin during the
synth; a finding makes `app.synth()` raise, which is recorded here (not raised) so that the
compliance test can report it while the other tests still see the template.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

# This machine's Node (20) is past end-of-life for jsii: the banner is noise on every synth.
# Deploy with a supported Node (22/24) per docs/deploy.md.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # major versions, comma-separated

ROOT = Path(__file__).resolve().parents[2]


def load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_layers", ROOT / "scripts" / "build_layers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Synth:
    outdir: Path
    template: dict[str, Any]
    report: dict[str, Any]
    metadata: dict[str, Any]
    error: str | None
    seconds: float
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.template["Resources"])

    def of_type(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == type_}

    def assertions(self) -> Any:
        from aws_cdk.assertions import Template

        return Template.from_json(self.template)


def synthesize(outdir: Path, context: dict[str, Any] | None = None) -> Synth:
    from infra.app import build_app

    started = time.perf_counter()
    app = build_app(context=context, outdir=str(outdir))
    stack_name = app.node.try_get_context("stack_name") or "Snowwatch"
    error = None
    try:
        app.synth()
    except Exception as exc:  # the validation report says why; the template is still written
        error = str(exc)
    seconds = time.perf_counter() - started
    report_path = outdir / "policy-validation-report.json"
    return Synth(
        outdir=outdir,
        template=json.loads((outdir / f"{stack_name}.template.json").read_text()),
        report=json.loads(report_path.read_text()) if report_path.is_file() else {},
        metadata=json.loads((outdir / f"{stack_name}.metadata.json").read_text()),
        error=error,
        seconds=seconds,
        context=context or {},
    )


@pytest.fixture(scope="session")
def layers_built() -> ModuleType:
    """The dependency layers exist and match their pins (built once, then reused)."""
    script = load_build_script()
    script.build_snowflake(script.build_base())
    return script


@pytest.fixture(scope="session")
def synth(layers_built: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The app as `make synth` builds it (cdk.json's context)."""
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


PROD_CONTEXT = {
    "profile": "prod",
    "timezone": "Europe/Berlin",
    "jwks_url": "https://idp.example.org/.well-known/jwks.json",
    "jwt_audience": "snowwatch",
    "jwt_issuer": "https://idp.example.org/",
    "ses_create_identity": True,
    "dashboard_origin": "https://dashboard.example.org",
}


@pytest.fixture(scope="session")
def prod_synth(layers_built: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The app with the prod profile, its identity provider, a created SES identity, a CORS origin and
    a non-UTC timezone."""
    return synthesize(tmp_path_factory.mktemp("cdk.out.prod"), PROD_CONTEXT)
