"""cdk.json's context and the app's defaults agree; bad context fails the synth early."""

from __future__ import annotations

import json

import pytest

from infra.constants import CONTEXT_DEFAULTS, ROOT

pytestmark = pytest.mark.infrastructure


def test_cdk_json_holds_every_default() -> None:
    """Given cdk.json
    When its context is read
    Then it runs the app with the venv's Python and states every context default the app knows."""
    cdk_json = json.loads((ROOT / "cdk.json").read_text())
    assert cdk_json["app"] == ".venv/bin/python infra/app.py"
    context = cdk_json["context"]
    assert {k: context.get(k) for k in CONTEXT_DEFAULTS} == CONTEXT_DEFAULTS


def test_unknown_timezone_is_rejected() -> None:
    """Given `-c timezone=Mars/Olympus`
    When the configuration is read
    Then it fails before anything is synthesized."""
    import aws_cdk as cdk

    from infra.config import Config

    app = cdk.App(context={"timezone": "Mars/Olympus"})
    with pytest.raises(ValueError, match="IANA"):
        Config.from_scope(app)
