"""The README's first command: `snowwatch demo` (what `make demo` runs) comes up healthy, serves an
authorized GET /api/jobs, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from snowwatch_local.services import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_demo_serves_health_and_jobs_then_stops_cleanly(tmp_path) -> None:
    """Given a free port, when the demo starts, then /health and an authorized /api/jobs answer; SIGTERM stops it."""
    port = free_port()
    exe = Path(sys.executable).with_name("snowwatch")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    log = (tmp_path / "demo.log").open("w+")
    process = subprocess.Popen(
        [
            str(exe),
            "demo",
            "--port",
            str(port),
            "--no-schedule",
            "--size",
            "tiny",
            "--database",
            f"snowwatch_demo_test_{os.getpid()}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 240
        output = ""
        while time.monotonic() < deadline and "Ctrl-C stops" not in output:
            assert process.poll() is None, output
            time.sleep(0.5)
            output = (tmp_path / "demo.log").read_text()
        assert "Ctrl-C stops" in output, output[-3000:]
        token = re.search(r"export TOKEN=(\S+)", output)
        assert token is not None
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
            assert json.loads(response.read())["database"] == "ok"
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/jobs", headers={"Authorization": f"Bearer {token.group(1)}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert [j["name"] for j in json.loads(response.read())] == [
                "sync",
                "budget_check",
                "notify",
                "snapshot",
                "security",
            ]
        for job in ("sync", "security", "budget_check", "snapshot", "notify"):
            assert re.search(rf"^  {job}\s+succeeded", output, re.MULTILINE), output[-3000:]
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=90)
    assert code == 0
    assert "snowwatch: stopped." in (tmp_path / "demo.log").read_text()
