"""cdk-nag (AwsSolutions, a validation plugin) and cfn-lint over the synthesized template."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Synth, synthesize

pytestmark = pytest.mark.infrastructure

# cfn-lint rules ignored, and why:
# - W3005 "DependsOn already enforced by GetAtt": CDK itself declares DependsOn on a function's
#   role *and* its DefaultPolicy (so the policy exists before Lambda validates the function); the
#   role half is redundant but harmless, and CDK-generated providers do it too.
CFN_LINT_IGNORED = ("W3005",)


def _violations(report: dict, severity: str | None = None) -> list[str]:
    return [
        f"{v['ruleName']} at {[r['constructPath'] for r in v['violatingResources']]}"
        for plugin in report.get("pluginReports", [])
        for v in plugin["violations"]
        if severity is None or v["severity"] == severity
    ]


def test_cdk_nag_has_no_unacknowledged_errors(synth: Synth) -> None:
    """Given the app with the AwsSolutions pack registered as a validation plugin
    When it is synthesized
    Then the synth passes validation and the report lists no error (nor any warning)."""
    assert synth.error is None, f"validation failed: {_violations(synth.report)}"
    assert _violations(synth.report, "error") == []
    assert _violations(synth.report) == []


def test_cdk_nag_acknowledgements_are_justified(synth: Synth) -> None:
    """Given every acknowledged (suppressed) cdk-nag rule
    When the metadata is read
    Then each names an AwsSolutions rule and carries a reason of at least a sentence."""
    acknowledged = {
        rule: reason
        for entries in synth.metadata.values()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule, reason in entry["data"].items()
        if "AwsSolutions-" in rule
    }
    assert acknowledged, "no acknowledgement recorded: is the plugin running?"
    short = {rule: reason for rule, reason in acknowledged.items() if len(reason.strip()) < 30}
    assert short == {}


def test_cdk_nag_is_live(layers_built: object, tmp_path: Path) -> None:
    """Given a stack with a queue that violates AwsSolutions (no SSL enforcement)
    When it is synthesized with the same plugin registration
    Then the synth fails and the report names the rule (the check is not silently off)."""
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs
    from cdk_nag import AwsSolutionsChecks

    app = cdk.App(outdir=str(tmp_path), context={"@aws-cdk/core:validationReportJson": True})
    sqs.Queue(cdk.Stack(app, "Canary"), "Queue")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "policy-validation-report.json").read_text())
    assert any(v.startswith("AwsSolutions-SQS4") for v in _violations(report, "error"))


def test_cdk_nag_production_context(prod_synth: Synth) -> None:
    """Given production context (prod=true)
    When the app is synthesized
    Then cdk-nag passes there too (different resources: multi-AZ, deletion protection, retention)."""
    assert prod_synth.error is None, f"validation failed: {_violations(prod_synth.report)}"


@pytest.mark.parametrize("which", ["synth", "prod_synth"])
def test_cfn_lint_is_clean(which: str, request: pytest.FixtureRequest) -> None:
    """Given the synthesized template
    When cfn-lint checks it
    Then it reports nothing (errors, warnings, informational), ignoring only CFN_LINT_IGNORED."""
    synth: Synth = request.getfixturevalue(which)
    template = synth.outdir / "Snowwatch.template.json"
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    done = subprocess.run(
        [str(cfn_lint), "--ignore-checks", *CFN_LINT_IGNORED, "--", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _without_asset_hashes(template: dict) -> str:
    # Asset hashes follow the code under functions/ and layers/, which may change between two
    # synths while other work goes on in the repository; everything else must not.
    return re.sub(r"[0-9a-f]{16,}", "<hash>", json.dumps(template, sort_keys=True))


def test_synth_is_deterministic(synth: Synth, tmp_path: Path) -> None:
    """Given the same context
    When the app is synthesized twice
    Then the templates are identical apart from asset hashes (logical ids, properties, ordering)."""
    again = synthesize(tmp_path)
    assert _without_asset_hashes(again.template) == _without_asset_hashes(synth.template)
