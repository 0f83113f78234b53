"""The dashboard's own checks: TypeScript types and the vitest unit tests (formatting, tolerant field
access, form parsing, chart data), run through npm so that `make test` covers them."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.e2e.test_web_dashboard import WEB, ensure_web_build

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
