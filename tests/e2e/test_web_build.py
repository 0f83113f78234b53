"""The dashboard's own checks: TypeScript types (generated from docs/openapi.json) and the vitest unit
tests, run through npm so that `make test` covers them; and API drift failing the type check."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_web_dashboard import ROOT, WEB, ensure_web_build

pytestmark = pytest.mark.e2e


def test_web_typecheck_and_unit_tests_pass() -> None:
    """Given the web sources, when tsc and vitest run, then both pass."""
    ensure_web_build()
    npm = shutil.which("npm")
    assert npm
    typecheck = subprocess.run([npm, "run", "typecheck"], cwd=WEB, capture_output=True, text=True, check=False)
    assert typecheck.returncode == 0, typecheck.stdout + typecheck.stderr
    unit = subprocess.run([npm, "test"], cwd=WEB, capture_output=True, text=True, check=False)
    assert unit.returncode == 0, unit.stdout + unit.stderr
    assert "passed" in unit.stdout


def test_web_build_is_a_static_bundle() -> None:
    """Given `npm run build`, then web/dist holds index.html and hashed assets, with no source maps."""
    ensure_web_build()
    dist = WEB / "dist"
    index = (dist / "index.html").read_text()
    assert '<div id="app">' in index
    assets = list((dist / "assets").iterdir())
    assert any(p.suffix == ".js" for p in assets) and any(p.suffix == ".css" for p in assets)
    assert not any(p.suffix == ".map" for p in assets)


def test_the_build_fails_when_the_api_drifts_from_the_client(tmp_path: Path) -> None:
    """Given docs/openapi.json with a field the client reads renamed (AlertOut.title -> headline),
    when the client's types are generated from it and the client is type-checked,
    then tsc fails and names the field: API drift is a build error, not a blank cell."""
    ensure_web_build()
    spec = json.loads((ROOT / "docs" / "openapi.json").read_text())
    alert = spec["components"]["schemas"]["AlertOut"]
    alert["properties"]["headline"] = alert["properties"].pop("title")
    alert["required"] = ["headline" if r == "title" else r for r in alert["required"]]
    drifted = tmp_path / "openapi.json"
    drifted.write_text(json.dumps(spec))
    check = WEB / ".drift-check"
    shutil.rmtree(check, ignore_errors=True)
    shutil.copytree(WEB / "src", check / "src", ignore=shutil.ignore_patterns("api.gen.ts", "*.test.ts"))
    (check / "tsconfig.json").write_text(json.dumps({"extends": "../tsconfig.json", "include": ["src"]}))
    try:
        gen = subprocess.run(
            ["node", "scripts/gen-api.mjs", str(drifted), str(check / "src" / "api.gen.ts")],
            cwd=WEB,
            capture_output=True,
            text=True,
            check=False,
        )
        assert gen.returncode == 0, gen.stderr
        tsc = subprocess.run(
            ["node", "node_modules/tsgo/bin/tsc", "--noEmit", "-p", str(check / "tsconfig.json")],
            cwd=WEB,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        shutil.rmtree(check, ignore_errors=True)
    assert tsc.returncode != 0
    assert "'title' does not exist" in tsc.stdout, tsc.stdout[-2000:]
