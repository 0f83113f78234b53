"""Issue 13: a first deploy on a fresh account works, pages when it should, costs little idle, and
holds least privilege. Each test names the "today" finding it reproduces from the template."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from .conftest import PROD_CONTEXT, Synth

pytestmark = pytest.mark.infrastructure

FAMILY = {"api": "api", "migrate": "migrate", "sync": "jobs", "security": "jobs", "budget_check": "jobs",
          "snapshot": "jobs", "notify": "notify"}  # fmt: skip
ROLE = {"api": "snowwatch_api", "jobs": "snowwatch_jobs", "notify": "snowwatch_notify"}
NAME_PROPERTIES = ("LogGroupName", "FunctionName", "BucketName", "TopicName", "QueueName", "Name", "SecretName",
                   "DBInstanceIdentifier", "DBProxyName", "RoleName", "AliasName")  # fmt: skip


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _functions(synth: Synth) -> dict[str, tuple[str, dict[str, Any]]]:
    """Our functions by short name -> (logical id, properties)."""
    return {
        props["FunctionName"].split("-", 1)[1]: (lid, props)
        for lid, fn in synth.of_type("AWS::Lambda::Function").items()
        if isinstance(props := fn["Properties"], dict) and str(props.get("FunctionName", "")).startswith("Snowwatch-")
        and props["FunctionName"] != "Snowwatch-db-rotation"
    }  # fmt: skip


def _role_statements(synth: Synth, props: dict[str, Any]) -> list[dict[str, Any]]:
    role_id = props["Role"]["Fn::GetAtt"][0]
    return [
        s
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


# ------------------------------------------------------------------------------------ alarms reach someone
@pytest.mark.parametrize("which", ["synth", "prod_synth"])
def test_alarm_topic_and_key_allow_cloudwatch(which: str, request: pytest.FixtureRequest) -> None:
    """Given the alarm topic (today: enforce_ssl leaves a policy with only a Deny; 13 alarms reach no one)
    When the template is synthesized
    Then the topic policy and the KMS key policy allow cloudwatch.amazonaws.com, conditioned on
    aws:SourceAccount and aws:SourceArn."""
    synth: Synth = request.getfixturevalue(which)
    (topic_policy,) = synth.of_type("AWS::SNS::TopicPolicy").values()
    (key,) = synth.of_type("AWS::KMS::Key").values()
    for document, action in ((topic_policy["Properties"]["PolicyDocument"], "sns:Publish"),
                             (key["Properties"]["KeyPolicy"], "kms:GenerateDataKey*")):  # fmt: skip
        allowed = [
            s for s in document["Statement"]
            if s["Effect"] == "Allow" and s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"
            and action in _as_list(s["Action"])
        ]  # fmt: skip
        assert len(allowed) == 1, document
        conditions = json.dumps(allowed[0].get("Condition", {}))
        assert "aws:SourceAccount" in conditions and "aws:SourceArn" in conditions
    assert len(synth.of_type("AWS::CloudWatch::Alarm")) >= 13


# ------------------------------------------------------------------------------ the default deploy succeeds
@pytest.mark.parametrize("which", ["synth", "prod_synth"])
def test_no_reserved_concurrency(which: str, request: pytest.FixtureRequest) -> None:
    """Given a new account whose Lambda concurrency quota is 10 (today: 66 reserved, deploy fails 15–20 min in)
    When the template is synthesized
    Then no function reserves concurrency; job functions are bounded by their event source's maximum
    concurrency instead."""
    synth: Synth = request.getfixturevalue(which)
    reserved = {n: p.get("ReservedConcurrentExecutions") for n, (_, p) in _functions(synth).items()}
    assert all(v is None for v in reserved.values()), reserved


@pytest.mark.parametrize("which", ["synth", "prod_synth"])
def test_no_retained_resource_has_a_fixed_name(which: str, request: pytest.FixtureRequest) -> None:
    """Given a first deploy that fails and rolls back (today with prod: the retained named log groups
    make the retry fail with "already exists")
    When the template is synthesized
    Then no resource that survives a rollback (DeletionPolicy Retain) carries a physical name."""
    synth: Synth = request.getfixturevalue(which)
    named = [
        (lid, r["Type"]) for lid, r in synth.resources.items()
        if r.get("DeletionPolicy") == "Retain" and set(r.get("Properties", {})) & set(NAME_PROPERTIES)
    ]  # fmt: skip
    assert named == []


# ----------------------------------------------------------------------------------------------- profiles
def test_lean_profile_is_the_default(synth: Synth) -> None:
    """Given cdk.json's context (today: 5 interface endpoints, a NAT gateway, RDS Proxy, a 0.5 GB stage cache)
    When the app is synthesized
    Then it is the lean profile: no interface endpoint, a NAT instance with an Elastic IP (stable
    egress address), no RDS Proxy, no stage cache, a db.t4g.micro instance."""
    assert not [e for e in synth.of_type("AWS::EC2::VPCEndpoint").values()
                if e["Properties"].get("VpcEndpointType") == "Interface"]  # fmt: skip
    assert synth.of_type("AWS::EC2::NatGateway") == {}
    (instance,) = synth.of_type("AWS::EC2::Instance").values()
    assert instance["Properties"]["SourceDestCheck"] is False
    (association,) = synth.of_type("AWS::EC2::EIPAssociation").values()
    assert association["Properties"]["InstanceId"]["Ref"] in synth.of_type("AWS::EC2::Instance")
    assert synth.of_type("AWS::RDS::DBProxy") == {}
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    assert stage["Properties"].get("CacheClusterEnabled") is False
    (db,) = synth.of_type("AWS::RDS::DBInstance").values()
    assert db["Properties"]["DBInstanceClass"] == "db.t4g.micro"
    assert db["Properties"]["EnableIAMDatabaseAuthentication"] is True


def test_lean_idle_cost_target(synth: Synth) -> None:
    """Given the lean template (today: about $180 a month idle)
    When its idle cost is computed from the price table
    Then it is at most $40 a month."""
    from infra.prices import idle_cost_total

    assert idle_cost_total(synth.template) <= 40


def test_prod_profile(prod_synth: Synth) -> None:
    """Given -c profile=prod
    When the app is synthesized
    Then it has a NAT gateway per AZ, interface endpoints only for what the code calls (Secrets
    Manager, SQS: no Logs endpoint), the RDS Proxy with end-to-end IAM auth, a stage cache, Multi-AZ."""
    assert len(prod_synth.of_type("AWS::EC2::NatGateway")) == 2
    services = sorted(
        json.dumps(e["Properties"]["ServiceName"]).split(".")[-1].strip('"]}')
        for e in prod_synth.of_type("AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    )
    assert services == ["secretsmanager", "sqs"]
    (proxy,) = prod_synth.of_type("AWS::RDS::DBProxy").values()
    assert proxy["Properties"]["RequireTLS"] is True
    assert proxy["Properties"].get("DefaultAuthScheme") == "IAM_AUTH"
    assert all(a.get("IAMAuth") == "REQUIRED" for a in proxy["Properties"].get("Auth", [{"IAMAuth": "REQUIRED"}]))
    (stage,) = prod_synth.of_type("AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["CacheClusterEnabled"] is True
    (db,) = prod_synth.of_type("AWS::RDS::DBInstance").values()
    assert db["Properties"]["MultiAZ"] is True


def test_prod_synth_requires_the_identity_provider() -> None:
    """Given -c profile=prod without jwks_url, jwt_audience or jwt_issuer (today: empty audience and
    issuer are simply not checked, so tokens for other applications of the same IdP are accepted)
    When the configuration is read
    Then the synth stops, naming what is missing."""
    import aws_cdk as cdk

    from infra.config import Config, ConfigError

    for missing in ("jwks_url", "jwt_audience", "jwt_issuer"):
        context = {**PROD_CONTEXT, missing: ""}
        with pytest.raises(ConfigError, match=missing):
            Config.from_scope(cdk.App(context=context))


# ------------------------------------------------------------------------------------- database logins
@pytest.mark.parametrize("which", ["synth", "prod_synth"])
def test_each_family_logs_in_as_its_own_role(which: str, request: pytest.FixtureRequest) -> None:
    """Given every function (today: all of them, the public API included, log in as the RDS master user)
    When the template is synthesized
    Then api, jobs and notify connect with IAM auth as their family's role (rds-db:connect for exactly
    that user), and only migrate reads the master secret."""
    synth: Synth = request.getfixturevalue(which)
    db_secret = "DatabaseInstanceSecret"  # the secret and its attachment (the ARN functions are given)
    for name, (_, props) in _functions(synth).items():
        env = props["Environment"]["Variables"]
        statements = _role_statements(synth, props)
        reads_master = any(db_secret in json.dumps(s["Resource"]) and "secretsmanager:GetSecretValue"
                           in _as_list(s["Action"]) for s in statements)  # fmt: skip
        assert reads_master is (name == "migrate"), name
        if name in ("authorizer", "migrate"):
            assert "DB_USER" not in env
            continue
        role = ROLE[FAMILY[name]]
        assert env["DB_USER"] == role and env["DB_IAM_AUTH"] == "true" and "DB_SECRET_ARN" not in env
        connect = [s for s in statements if "rds-db:connect" in _as_list(s["Action"])]
        assert len(connect) == 1 and json.dumps(connect[0]["Resource"]).endswith(f'/{role}"]]}}'), connect


# ---------------------------------------------------------------------------------------------- secrets
def test_secrets_are_scoped_to_the_stack(synth: Synth) -> None:
    """Given the runtime secrets (today: `snowwatch/connectors/*` and `snowwatch/slack/*`, shared by every
    stack of the account: a dev stack can read prod's Snowflake keys)
    When the template is synthesized
    Then every function gets SECRET_NAMESPACE (the stack name) and no prefix settings; readers may only
    Get/Describe under `<stack>/*`; the API may Create/Tag (with the org tag on the request) and
    Put/Describe/Delete/Restore (on secrets carrying it) under `<stack>/*`, and never read."""
    db_secret = "DatabaseInstanceSecret"
    for name, (_, props) in _functions(synth).items():
        env = props["Environment"]["Variables"]
        assert env["SECRET_NAMESPACE"] == "Snowwatch", name
        assert not {"CONNECTOR_SECRET_PREFIX", "SLACK_SECRET_PREFIX"} & set(env), name
        runtime = [s for s in _role_statements(synth, props)
                   if any(a.startswith("secretsmanager:") for a in _as_list(s["Action"]))
                   and db_secret not in json.dumps(s["Resource"])]  # fmt: skip
        for statement in runtime:
            assert json.dumps(statement["Resource"]).endswith(':secret:Snowwatch/*"]]}'), statement
        actions = {a for s in runtime for a in _as_list(s["Action"])}
        if name in ("sync", "security", "notify"):
            assert actions == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, name
        elif name == "api":
            assert actions == {f"secretsmanager:{a}" for a in
                               ("CreateSecret", "TagResource", "PutSecretValue", "DescribeSecret", "DeleteSecret",
                                "RestoreSecret")}  # fmt: skip
            for statement in runtime:
                condition = json.dumps(statement["Condition"])
                assert "snowwatch:org" in condition
                assert ("aws:RequestTag" in condition) is ("secretsmanager:CreateSecret" in statement["Action"])
        else:
            assert actions == set(), name


# --------------------------------------------------------------------------------------- fan-out and jobs
def test_jobs_fan_out_through_their_queues(synth: Synth) -> None:
    """Given the job functions (today: sync and security re-invoke themselves asynchronously with no
    retries and no failure destination: a throttled per-connector run is dropped silently)
    When the template is synthesized
    Then each job function consumes its own queue (batch 1, partial batch responses, a maximum
    concurrency); every job queue redrives to one jobs DLQ, which alarms; no function invokes a job
    function; direct async invokes have an on-failure destination; dispatch is `sqs`."""
    queues = synth.of_type("AWS::SQS::Queue")
    mappings = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()]
    functions = _functions(synth)
    dlqs = set()
    for job in ("sync", "security", "budget_check", "snapshot", "notify"):
        logical_id, props = functions[job]
        own = [m for m in mappings if m["FunctionName"] == {"Ref": logical_id} and m.get("BatchSize") == 1]
        assert len(own) == 1, job
        assert own[0]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert own[0]["ScalingConfig"]["MaximumConcurrency"] >= 2
        queue_id = own[0]["EventSourceArn"]["Fn::GetAtt"][0]
        redrive = queues[queue_id]["Properties"]["RedrivePolicy"]
        dlqs.add(redrive["deadLetterTargetArn"]["Fn::GetAtt"][0])
        assert queues[queue_id]["Properties"]["VisibilityTimeout"] >= 6 * props["Timeout"]
        env = props["Environment"]["Variables"]
        assert env["DISPATCH_MODE"] == "sqs"
        assert queue_id in json.dumps(env["JOB_QUEUES"])
        (config,) = [c["Properties"] for c in synth.of_type("AWS::Lambda::EventInvokeConfig").values()
                     if c["Properties"]["FunctionName"] == {"Ref": logical_id}]  # fmt: skip
        assert config["MaximumRetryAttempts"] == 0
        assert "DeliveryDlq" in json.dumps(config["DestinationConfig"]["OnFailure"])
    assert len(dlqs) == 1
    alarmed = json.dumps([a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()])
    assert dlqs.pop() in alarmed and "DeliveryDlq" in alarmed
    invokes = [s for _, (_, p) in functions.items() for s in _role_statements(synth, p)
               if "lambda:InvokeFunction" in _as_list(s["Action"])]  # fmt: skip
    assert invokes == []


def test_schedules_deliver_to_the_job_queues_with_a_dlq(synth: Synth) -> None:
    """Given the schedules (today: no DLQ, nothing alarms on a dropped delivery)
    When the template is synthesized
    Then each schedule sends to its job's queue, with retries and a dead-letter queue that alarms."""
    for schedule in synth.of_type("AWS::Scheduler::Schedule").values():
        target = schedule["Properties"]["Target"]
        assert "Queue" in json.dumps(target["Arn"])
        assert "DeliveryDlq" in json.dumps(target["DeadLetterConfig"]["Arn"])


# --------------------------------------------------------------------------------------------------- SES
def test_ses_identity_imported_by_default(synth: Synth, prod_synth: Synth) -> None:
    """Given a sender shared by two stacks (today: the stack creates the identity; the second deploy fails)
    When the app is synthesized with the defaults, and with ses_create_identity=true
    Then the default imports it (creates nothing) and only the explicit context creates it."""
    assert synth.of_type("AWS::SES::EmailIdentity") == {}
    assert len(prod_synth.of_type("AWS::SES::EmailIdentity")) == 1


# -------------------------------------------------------------------------------------------- authorizer
def test_authorizer_outside_the_vpc(synth: Synth) -> None:
    """Given the TOKEN authorizer (today: in the VPC behind the single NAT, 256 MB, no token regex)
    When the template is synthesized
    Then it runs outside the VPC with 512 MB, API Gateway checks the token's shape first, and its
    results are cached at most 60 s."""
    _, props = _functions(synth)["authorizer"]
    assert "VpcConfig" not in props
    assert props["MemorySize"] == 512
    (authorizer,) = synth.of_type("AWS::ApiGateway::Authorizer").values()
    assert authorizer["Properties"]["IdentityValidationExpression"].startswith("^Bearer ")
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] <= 60


# ----------------------------------------------------------------------------------------- arm64, logs
@pytest.mark.parametrize("which", ["synth", "prod_synth"])
def test_every_function_is_arm64(which: str, request: pytest.FixtureRequest) -> None:
    """Given the functions and layers (today: x86_64, though arm64 wheels exist and arm64 is 20% cheaper)
    When the template is synthesized
    Then every function of ours and every layer is arm64."""
    synth: Synth = request.getfixturevalue(which)
    assert {json.dumps(p.get("Architectures")) for _, p in _functions(synth).values()} == {'["arm64"]'}
    ours = [lv for lid, lv in synth.of_type("AWS::Lambda::LayerVersion").items() if lid.startswith("Packaging")]
    assert len(ours) == 3
    for layer in ours:
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


@pytest.mark.parametrize("which", ["synth", "prod_synth"])
def test_every_log_group_expires(which: str, request: pytest.FixtureRequest) -> None:
    """Given every Lambda function of the template, CDK's providers included, and the rotation function
    (today: the rotation and provider log groups never expire)
    When the template is synthesized
    Then each logs to a log group of the template that has a retention."""
    synth: Synth = request.getfixturevalue(which)
    groups = synth.of_type("AWS::Logs::LogGroup")
    for logical_id, fn in synth.of_type("AWS::Lambda::Function").items():
        group = fn["Properties"].get("LoggingConfig", {}).get("LogGroup", {})
        assert group.get("Ref") in groups, f"{logical_id} logs to a group without retention"
    assert all(g["Properties"].get("RetentionInDays") for g in groups.values())
    names = [g["Properties"].get("LogGroupName") for g in groups.values()]
    assert "/aws/lambda/Snowwatch-db-rotation" in names


# ------------------------------------------------------------------------------------------------ network
@pytest.mark.parametrize("which", ["synth", "prod_synth"])
def test_security_groups_per_family_without_duplicates(which: str, request: pytest.FixtureRequest) -> None:
    """Given the security groups (today: the proxy-to-database rule is declared twice; one shared group
    with port 80 egress serves every function)
    When the template is synthesized
    Then no ingress rule is declared twice, each family has its own group, and only the jobs' group
    may leave on port 80."""
    synth: Synth = request.getfixturevalue(which)
    rules = [json.dumps({k: v for k, v in r["Properties"].items() if k != "Description"}, sort_keys=True)
             for r in synth.of_type("AWS::EC2::SecurityGroupIngress").values()]  # fmt: skip
    assert [r for r, n in Counter(rules).items() if n > 1] == []
    groups_of = {name: json.dumps(p["VpcConfig"]["SecurityGroupIds"])
                 for name, (_, p) in _functions(synth).items() if "VpcConfig" in p}  # fmt: skip
    by_family: dict[str, set[str]] = {}
    for name, groups in groups_of.items():
        by_family.setdefault(FAMILY[name], set()).add(groups)
    assert all(len(g) == 1 for g in by_family.values()) and len({next(iter(g)) for g in by_family.values()}) == 4
    port80 = [lid for lid, g in synth.of_type("AWS::EC2::SecurityGroup").items()
              if any(e.get("FromPort") == 80 for e in g["Properties"].get("SecurityGroupEgress", []))]  # fmt: skip
    assert len(port80) == 1 and port80[0] in by_family["jobs"].pop()


# ---------------------------------------------------------------------------------------- smaller items
def test_stage_cache_control_is_pinned(prod_synth: Synth) -> None:
    """Given the stage cache (today: its cache-invalidation setting rests on an undeclared default)
    When the prod template is synthesized
    Then a custom resource pins requireAuthorizationForCacheControl with FAIL_WITH_403 after each deployment."""
    (pin,) = [r for r in prod_synth.resources.values() if r["Type"] == "Custom::AWS"]
    body = json.dumps(pin["Properties"])
    assert "requireAuthorizationForCacheControl" in body and "FAIL_WITH_403" in body and "updateStage" in body


def test_migration_connect_is_retried(synth: Synth) -> None:
    """Given the migration trigger (today: one connect with a 30 s timeout, no retry)
    When the template is synthesized
    Then the migrate function is told to retry its connect."""
    _, props = _functions(synth)["migrate"]
    assert int(props["Environment"]["Variables"]["MIGRATE_CONNECT_ATTEMPTS"]) > 1


def test_cors_origin_comes_from_context(synth: Synth, prod_synth: Synth) -> None:
    """Given no dashboard_origin (today: the deployed API allows CORS from localhost:3001)
    When the app is synthesized, and with -c dashboard_origin=…
    Then the default answers no CORS preflight at all, and the context's origin is the only one allowed."""
    assert "localhost" not in json.dumps(synth.template)
    assert [m for m in synth.of_type("AWS::ApiGateway::Method").values()
            if m["Properties"]["HttpMethod"] == "OPTIONS"] == []  # fmt: skip
    origins = {
        m["Properties"]["Integration"]["IntegrationResponses"][0]["ResponseParameters"][
            "method.response.header.Access-Control-Allow-Origin"]
        for m in prod_synth.of_type("AWS::ApiGateway::Method").values() if m["Properties"]["HttpMethod"] == "OPTIONS"
    }  # fmt: skip
    assert origins == {f"'{PROD_CONTEXT['dashboard_origin']}'"}
