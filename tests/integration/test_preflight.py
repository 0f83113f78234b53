"""`make preflight` (scripts/preflight.py): real boto3 against the moto server, and without credentials."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _preflight() -> ModuleType:
    spec = importlib.util.spec_from_file_location("preflight", ROOT / "scripts" / "preflight.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["preflight"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_without_credentials_it_explains_and_exits_0(tmp_path: Path) -> None:
    """Given no AWS credentials at all (no variables, no files, no instance metadata)
    When `make preflight` runs
    Then it says so, tells how to provide them, and exits 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "preflight.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "no AWS credentials" in done.stdout and "aws configure" in done.stdout


def test_against_the_account_it_reads_ses_and_says_what_to_change(stack, capsys: pytest.CaptureFixture[str]) -> None:
    """Given an account (moto) whose SES sender is verified but which is in the SES sandbox
    When the preflight runs for that sender
    Then it finds the identity, flags the sandbox with what to do, reports the concurrency check it
    could not make with the command to run, and exits 1 (something to change)."""
    preflight = _preflight()
    code = preflight.main(["-c", f"ses_sender={stack.moto.ses_sender}"])
    out = capsys.readouterr().out
    assert code == 1
    assert f"ok      SES identity for {stack.moto.ses_sender} is verified" in out
    assert "CHANGE  SES: this account is in the sandbox" in out and "production access" in out
    assert "CHECK   Lambda concurrency quota: could not read it" in out
    assert "aws lambda get-account-settings" in out


def test_an_unverified_sender_must_be_verified_or_created(stack, capsys: pytest.CaptureFixture[str]) -> None:
    """Given a sender with no SES identity in the account
    When the preflight runs, with and without ses_create_identity
    Then it asks to verify it (the stack imports by default), unless the stack is told to create it."""
    preflight = _preflight()
    preflight.main(["-c", "ses_sender=nobody@unverified.example"])
    assert "CHANGE  SES identity for nobody@unverified.example (or its domain unverified.example) is missing" in (
        capsys.readouterr().out
    )
    preflight.main(["-c", "ses_sender=nobody@unverified.example", "-c", "ses_create_identity=true"])
    assert "will be created by the stack" in capsys.readouterr().out


@pytest.mark.parametrize(("limit", "level"), [(10, "change"), (1000, "ok"), (None, "unknown")])
def test_concurrency_quota_against_what_the_stack_uses(limit: int | None, level: str) -> None:
    """Given an account concurrency quota of 10 (a new account), 1000, or unreadable
    When it is compared with what the stack can use at once
    Then 10 asks for a quota increase (naming the quota), 1000 is fine, unreadable says how to check."""
    finding = _preflight().concurrency_finding(limit, "AccessDenied")
    assert finding.level == level
    if level == "change":
        assert "L-B99A9384" in finding.advice
