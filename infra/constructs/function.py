"""One Lambda function as every snowwatch function is built: its own role (only the permissions
granted to it explicitly), its own log group with retention, X-Ray tracing, the newest Python
runtime on arm64, its family's security group in the VPC's private subnets (the authorizer runs
outside the VPC), and the settings environment (snowwatch.settings). No reserved concurrency.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from infra.config import Config
from infra.constants import (
    APP_NAME,
    JOB_MAX_EVENT_AGE_S,
    JOB_RETRY_ATTEMPTS,
    METRICS_NAMESPACE,
    SECRET_ORG_TAG,
    FunctionSpec,
)
from infra.constructs.acks import ack
from infra.constructs.network import Network
from infra.constructs.packaging import ARCHITECTURE, RUNTIME, Packaging


def function_name(config: Config, name: str) -> str:
    """Physical function names are fixed so that roles and settings can name them without a cycle
    (sync and security invoke themselves; the API invokes every job function)."""
    return f"{config.stack_name}-{name}"


def function_arn(scope: IConstruct, config: Config, name: str) -> str:
    return Stack.of(scope).format_arn(
        service="lambda",
        resource="function",
        resource_name=function_name(config, name),
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


SECRET_READ = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")


def secret_namespace_arn(scope: IConstruct, config: Config) -> str:
    """Every runtime secret of this stack: `<stack>/<org>/connectors/<id>`, `<stack>/<org>/slack/<id>`."""
    return Stack.of(scope).format_arn(
        service="secretsmanager",
        resource="secret",
        resource_name=f"{config.stack_name}/*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def _ack_namespace(fn: AppFunction, config: Config, what: str) -> None:
    ack(
        fn.role,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:"
        f"secret:{config.stack_name}/*]",
        f"{what}: secrets are created at runtime, one per connector or Slack target, under the stack's own "
        "namespace; the namespace is the narrowest scope that exists at deploy time (the runtime checks the "
        "org tag before every read).",
    )


def grant_secret_read(fn: AppFunction, config: Config) -> None:
    """Read (never write) the stack's runtime secrets: connector keys (jobs), Slack targets (notify)."""
    fn.role.add_to_policy(
        iam.PolicyStatement(
            sid="ReadRuntimeSecrets", actions=list(SECRET_READ), resources=[secret_namespace_arn(fn, config)]
        )
    )
    _ack_namespace(fn, config, "Read connector keys and Slack targets")


def grant_secret_write(fn: AppFunction, config: Config) -> None:
    """The API creates, updates, restores and deletes the stack's runtime secrets, never reads them.

    Create and tag need the org tag on the request; the rest act only on secrets carrying one.
    """
    arn = secret_namespace_arn(fn, config)
    tagged_request = {"Null": {f"aws:RequestTag/{SECRET_ORG_TAG}": "false"}}
    tagged_secret = {"Null": {f"secretsmanager:ResourceTag/{SECRET_ORG_TAG}": "false"}}
    fn.role.add_to_policy(
        iam.PolicyStatement(
            sid="CreateTaggedSecrets",
            actions=["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
            resources=[arn],
            conditions=tagged_request,
        )
    )
    fn.role.add_to_policy(
        iam.PolicyStatement(
            sid="ManageTaggedSecrets",
            actions=[
                "secretsmanager:PutSecretValue",
                "secretsmanager:DescribeSecret",
                "secretsmanager:DeleteSecret",
                "secretsmanager:RestoreSecret",
            ],
            resources=[arn],
            conditions=tagged_secret,
        )
    )
    _ack_namespace(fn, config, "Write connector keys and Slack targets")


def retention(days: int) -> logs.RetentionDays:
    return logs.RetentionDays.ONE_YEAR if days >= 365 else logs.RetentionDays.ONE_MONTH


VPC_AND_TRACING_REASON = (
    "Resource '*' is required: X-Ray PutTraceSegments/PutTelemetryRecords and the EC2 network-interface "
    "actions Lambda needs to run in a VPC (Create/Describe/Delete/Assign/UnassignPrivateIpAddresses) "
    "support no resource-level permissions. The actions are listed one by one; no '*' action."
)


class AppFunction(Construct):
    """A function plus its role and log group. ``function``, ``role`` and ``log_group`` are public."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: FunctionSpec,
        config: Config,
        packaging: Packaging,
        network: Network | None,
        environment: dict[str, str],
        on_failure: sqs.IQueue | None = None,
    ) -> None:
        """``network`` None: outside the VPC. ``on_failure``: asynchronous invokes are not retried and
        land in that queue when they fail (job functions)."""
        super().__init__(scope, id)
        self.spec = spec
        self.function_name = function_name(config, spec.name)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{APP_NAME} {spec.name} function",
        )
        # No fixed name: a retained log group must never block a retry after a failed first deploy.
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=retention(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN if config.profile.retain else RemovalPolicy.DESTROY,
        )
        self.log_group.grant_write(self.role)
        # X-Ray (tracing ACTIVE adds it) and, in the VPC, the network-interface actions: no resource scope.
        ack(self.role, "AwsSolutions-IAM5[Resource::*]", VPC_AND_TRACING_REASON)
        if network is not None:
            self._in_vpc()

        env = {
            "SNOWWATCH_ENV": "aws",
            "BUILD_VERSION": config.build_version,
            "POWERTOOLS_SERVICE_NAME": f"{APP_NAME}-{spec.name}",
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "SECRET_NAMESPACE": config.stack_name,
            **environment,
        }
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=self.function_name,
            description=f"{APP_NAME}: {spec.description}",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=packaging.code_for(spec),
            handler=spec.handler,
            layers=packaging.layers_for(spec),
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            vpc=network.vpc if network else None,
            vpc_subnets=network.app_subnets if network else None,
            security_groups=[network.family_sgs[spec.family]] if network else None,
            environment=env,
            retry_attempts=JOB_RETRY_ATTEMPTS if on_failure else None,
            max_event_age=Duration.seconds(JOB_MAX_EVENT_AGE_S) if on_failure else None,
            on_failure=destinations.SqsDestination(on_failure) if on_failure else None,
        )

    def _in_vpc(self) -> None:
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="LambdaInVpc",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                resources=["*"],
            )
        )

    @property
    def arn(self) -> str:
        return self.function.function_arn
