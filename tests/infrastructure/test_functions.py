"""Every function: its own least-privilege role, log group, tracing, runtime, VPC and layers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import aws_lambda as lambda_

from infra.constants import ALL_SPECS, LAMBDA_PYTHON_VERSION, FunctionSpec
from snowwatch.schedules import JOBS

from .conftest import Synth

pytestmark = pytest.mark.infrastructure

OURS = {f"Snowwatch-{spec.name}": spec for spec in ALL_SPECS}


def _ours(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        fn["Properties"]["FunctionName"]: fn["Properties"]
        for fn in synth.of_type("AWS::Lambda::Function").values()
        if fn["Properties"].get("FunctionName") in OURS
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(synth: Synth) -> list[tuple[str, dict[str, Any]]]:
    """Every IAM statement of the template: policies, inline role policies, managed policies."""
    found: list[tuple[str, dict[str, Any]]] = []
    for logical_id, resource in synth.resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            found += [(logical_id, s) for s in props["PolicyDocument"]["Statement"]]
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                found += [(logical_id, s) for s in policy["PolicyDocument"]["Statement"]]
    return found


def _role_statements(synth: Synth, role_ref: dict[str, Any]) -> list[dict[str, Any]]:
    role_id = role_ref["Fn::GetAtt"][0]
    statements = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in _as_list(s["Action"])}


def test_no_statement_allows_every_action_on_every_resource(synth: Synth) -> None:
    """Given every IAM policy in the template (ours and CDK-generated)
    When the statements are inspected
    Then none allows Action '*' on Resource '*', and none of ours uses a service-wide 'svc:*' action."""
    for logical_id, statement in _statements(synth):
        actions = _as_list(statement["Action"])
        resources = _as_list(statement.get("Resource", []))
        assert not ("*" in actions and "*" in resources), f"{logical_id}: * on *"
        assert "*" not in actions, f"{logical_id}: Action *"
        assert not any(a.endswith(":*") for a in actions), f"{logical_id}: service-wide action {actions}"


def test_every_function_exists_with_its_own_role(synth: Synth) -> None:
    """Given the function specs (API, authorizer, migration, one per job)
    When the app is synthesized
    Then each exists once and no two functions share a role."""
    functions = _ours(synth)
    assert set(functions) == set(OURS)
    assert {spec.name for spec in ALL_SPECS} >= set(JOBS)
    roles = [json.dumps(props["Role"]) for props in functions.values()]
    assert len(set(roles)) == len(roles)


def test_runtime_is_the_newest_python(synth: Synth) -> None:
    """Given the Python runtimes aws-cdk-lib knows
    When the functions are synthesized
    Then every one of ours runs the newest, the one the layers are built for."""
    newest = max(
        (getattr(lambda_.Runtime, n) for n in dir(lambda_.Runtime) if n.startswith("PYTHON_3_")),
        key=lambda r: int(r.name.split(".")[1]),
    )
    assert newest.name == f"python{LAMBDA_PYTHON_VERSION}"
    assert {props["Runtime"] for props in _ours(synth).values()} == {newest.name}


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.name)
def test_function_baseline(spec: FunctionSpec, synth: Synth) -> None:
    """Given a function
    When it is synthesized
    Then it traces with X-Ray, logs to its own (unnamed) log group with a retention, runs in the
    VPC's private subnets (all but the authorizer), and gets the settings environment for AWS."""
    props = _ours(synth)[f"Snowwatch-{spec.name}"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    log_group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = synth.resources[log_group_id]["Properties"]
    assert "LogGroupName" not in log_group
    assert log_group["RetentionInDays"] > 0
    env = props["Environment"]["Variables"]
    assert env["SNOWWATCH_ENV"] == "aws" and env["POWERTOOLS_SERVICE_NAME"] == f"snowwatch-{spec.name}"
    if spec.name == "authorizer":
        assert "VpcConfig" not in props and "DB_HOST" not in env
        return
    subnets = props["VpcConfig"]["SubnetIds"]
    assert subnets and all("appSubnet" in s["Ref"] for s in subnets)
    assert "DB_HOST" in env and env["DB_SSL"] == "true"
    assert "DatabaseInstance" in json.dumps(env["DB_HOST"])  # lean: no proxy


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.name)
def test_snowflake_layer_only_where_snowflake_is_read(spec: FunctionSpec, synth: Synth) -> None:
    """Given a function
    When it is synthesized
    Then it carries the snowflake-connector layer if and only if it is sync or security."""
    props = _ours(synth)[f"Snowwatch-{spec.name}"]
    layers = json.dumps(props["Layers"])
    assert ("depssnowflake" in layers) is (spec.name in ("sync", "security"))
    assert "depsbase" in layers and "snowwatch" in layers


def test_api_starts_jobs_through_their_queues(synth: Synth) -> None:
    """Given the API function
    When its role is synthesized
    Then it may send to exactly the job queues (JOB_QUEUES: manual runs) and invoke no function."""
    props = _ours(synth)["Snowwatch-api"]
    statements = _role_statements(synth, props["Role"])
    assert "lambda:InvokeFunction" not in _actions(statements)
    queues = json.loads(json.dumps(props["Environment"]["Variables"]["JOB_QUEUES"]))
    assert all(f'"{job}' in json.dumps(queues) for job in JOBS)
    send = [s for s in statements if "sqs:SendMessage" in _as_list(s["Action"])]
    targets = {r["Fn::GetAtt"][0] for s in send for r in _as_list(s["Resource"])}
    assert len(targets) == len(JOBS) and all("JobsQueue" not in t and "Queue" in t for t in targets)


@pytest.mark.parametrize(
    ("name", "present", "absent"),
    [
        ("sync", {"sqs:SendMessage", "secretsmanager:GetSecretValue", "rds-db:connect"}, {"ses:SendEmail"}),
        ("security", {"sqs:SendMessage", "rds-db:connect"}, {"ses:SendEmail", "secretsmanager:CreateSecret"}),
        ("budget_check", {"sqs:SendMessage", "rds-db:connect"}, {"ses:SendEmail", "secretsmanager:GetSecretValue"}),
        ("notify", {"sqs:ReceiveMessage", "sqs:SendMessage", "ses:SendEmail"}, {"secretsmanager:CreateSecret"}),
        ("snapshot", {"sqs:ReceiveMessage", "rds-db:connect"}, {"ses:SendEmail", "secretsmanager:GetSecretValue"}),
        ("authorizer", set(), {"secretsmanager:GetSecretValue", "rds-db:connect", "sqs:SendMessage"}),
        ("migrate", {"secretsmanager:GetSecretValue"}, {"sqs:SendMessage", "rds-db:connect"}),
    ],
)
def test_role_holds_only_what_its_function_uses(name: str, present: set[str], absent: set[str], synth: Synth) -> None:
    """Given a function's role
    When it is synthesized
    Then it grants what the function uses and not what other functions use; no role invokes a function."""
    props = _ours(synth)[f"Snowwatch-{name}"]
    actions = _actions(_role_statements(synth, props["Role"]))
    assert present <= actions
    assert not (absent & actions)
    assert "lambda:InvokeFunction" not in actions
