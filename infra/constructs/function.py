"""One Lambda function as every snowwatch function is built: its own role (only the permissions
granted to it explicitly), its own log group with retention, X-Ray tracing, the newest Python
runtime, the VPC's private subnets, and the settings environment (snowwatch.settings).
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from infra.config import Config
from infra.constants import APP_NAME, JOB_MAX_EVENT_AGE_S, JOB_RETRY_ATTEMPTS, METRICS_NAMESPACE, FunctionSpec
from infra.constructs.network import Network
from infra.constructs.packaging import ARCHITECTURE, RUNTIME, Packaging


def ack(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge (suppress) one cdk-nag finding on ``scope`` and its children, with the reason."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


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
SECRET_WRITE = ("secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret")


def grant_secret_prefix(fn: AppFunction, sid: str, prefix: str, actions: tuple[str, ...], what: str) -> None:
    """Secrets created at runtime under ``prefix`` (one per connector / per Slack target): the prefix
    is the narrowest resource that exists at deploy time."""
    fn.role.add_to_policy(
        iam.PolicyStatement(
            sid=sid,
            actions=list(actions),
            resources=[
                Stack.of(fn).format_arn(
                    service="secretsmanager",
                    resource="secret",
                    resource_name=f"{prefix}*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )
    )
    ack(
        fn.role,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:"
        f"secret:{prefix}*]",
        f"{what} are created at runtime, one secret each under the '{prefix}' prefix; the prefix is the "
        "narrowest scope that exists at deploy time.",
    )


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
        network: Network,
        security_group: ec2.ISecurityGroup,
        environment: dict[str, str],
        async_job: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self.spec = spec
        self.function_name = function_name(config, spec.name)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{APP_NAME} {spec.name} function",
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{self.function_name}",
            retention=retention(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN if config.prod else RemovalPolicy.DESTROY,
        )
        self.log_group.grant_write(self.role)
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
        ack(self.role, "AwsSolutions-IAM5[Resource::*]", VPC_AND_TRACING_REASON)

        env = {
            "SNOWWATCH_ENV": "aws",
            "BUILD_VERSION": config.build_version,
            "POWERTOOLS_SERVICE_NAME": f"{APP_NAME}-{spec.name}",
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
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
            reserved_concurrent_executions=spec.reserved_concurrency if config.reserved_concurrency else None,
            vpc=network.vpc,
            vpc_subnets=network.app_subnets,
            security_groups=[security_group],
            environment=env,
            # Jobs run asynchronously (schedules, fan-out, manual runs): never retried by Lambda.
            retry_attempts=JOB_RETRY_ATTEMPTS if async_job else None,
            max_event_age=Duration.seconds(JOB_MAX_EVENT_AGE_S) if async_job else None,
        )

    @property
    def arn(self) -> str:
        return self.function.function_arn
