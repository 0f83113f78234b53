"""Database: RDS PostgreSQL 17, its credentials (Secrets Manager, rotated), the RDS Proxy, and the
migration function that a CDK Trigger runs on every deploy that changes the migrations.

Every function, the migration function included, connects through the proxy with TLS (DB_HOST =
proxy endpoint, DB_SSL = true; the proxy presents an ACM certificate that the default trust store
verifies, which the instance's RDS CA certificate would not) using the credentials in the database
secret (DB_SECRET_ARN). The trigger runs after the proxy and its target group exist; while the
target is still registering, the proxy holds the client connection (borrow timeout, 120 s) rather
than refusing it.
"""

from __future__ import annotations

import hashlib

from aws_cdk import Duration, RemovalPolicy, triggers
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import Config
from infra.constants import (
    DB_ADMIN_USER,
    DB_ALLOCATED_STORAGE_GB,
    DB_BACKUP_RETENTION_DAYS,
    DB_BACKUP_RETENTION_DAYS_PROD,
    DB_MAX_ALLOCATED_STORAGE_GB,
    DB_NAME,
    DB_PORT,
    DB_PROXY_MAX_CONNECTIONS_PERCENT,
    DB_SECRET_ROTATION_DAYS,
    MIGRATE,
    MIGRATION_TRIGGER_TIMEOUT_S,
    MIGRATIONS_DIR,
)
from infra.constructs.function import AppFunction, ack, retention
from infra.constructs.network import Network
from infra.constructs.packaging import Packaging

# PostgreSQL 17, newest minor version aws-cdk-lib 2.275 names (a bare "17" is rejected by cfn-lint
# W3691 as not creatable); minor upgrades are applied automatically after that.
ENGINE_VERSION = rds.PostgresEngineVersion.VER_17_9
LOG_EXPORTS = ("postgresql", "upgrade")


def migrations_hash() -> str:
    """Changes whenever a migration file changes: the trigger re-runs the migrations then."""
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(MIGRATIONS_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class Database(Construct):
    def __init__(self, scope: Construct, id: str, *, config: Config, network: Network, packaging: Packaging) -> None:
        super().__init__(scope, id)
        engine = rds.DatabaseInstanceEngine.postgres(version=ENGINE_VERSION)
        parameters = rds.ParameterGroup(
            self,
            "Parameters",
            engine=engine,
            description="snowwatch: TLS only, slow statements logged",
            parameters={"rds.force_ssl": "1", "log_min_duration_statement": "2000"},
        )
        # The exported log groups are created here, with retention, before the instance exists
        # (otherwise RDS creates them without retention, or CDK adds a log-retention custom resource).
        instance_id = f"{config.stack_name}-postgres".lower()
        log_groups = [
            logs.LogGroup(
                self,
                f"Logs{kind.capitalize()}",
                log_group_name=f"/aws/rds/instance/{instance_id}/{kind}",
                retention=retention(config.log_retention_days),
                removal_policy=RemovalPolicy.RETAIN if config.prod else RemovalPolicy.DESTROY,
            )
            for kind in LOG_EXPORTS
        ]
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=engine,
            instance_type=ec2.InstanceType(config.db_instance_class),
            vpc=network.vpc,
            vpc_subnets=network.data_subnets,
            security_groups=[network.database_sg],
            port=DB_PORT,
            database_name=DB_NAME,
            credentials=rds.Credentials.from_generated_secret(
                DB_ADMIN_USER, secret_name=f"{config.stack_name}/database"
            ),
            parameter_group=parameters,
            storage_encrypted=True,
            storage_type=rds.StorageType.GP3,
            allocated_storage=DB_ALLOCATED_STORAGE_GB,
            max_allocated_storage=DB_MAX_ALLOCATED_STORAGE_GB,
            multi_az=config.prod,
            deletion_protection=config.prod,
            backup_retention=Duration.days(DB_BACKUP_RETENTION_DAYS_PROD if config.prod else DB_BACKUP_RETENTION_DAYS),
            delete_automated_backups=not config.prod,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            publicly_accessible=False,
            instance_identifier=instance_id,
            cloudwatch_logs_exports=list(LOG_EXPORTS),
            removal_policy=RemovalPolicy.SNAPSHOT,
        )
        for group in log_groups:
            self.instance.node.add_dependency(group)
        if not config.prod:
            ack(
                self.instance,
                "AwsSolutions-RDS3",
                "Multi-AZ is enabled with prod=true; non-production stacks run single-AZ to halve the cost.",
            )
            ack(
                self.instance,
                "AwsSolutions-RDS10",
                "Deletion protection is enabled with prod=true; non-production stacks must be destroyable "
                "(a final snapshot is still taken: removal policy SNAPSHOT).",
            )
        ack(
            self.instance,
            "AwsSolutions-RDS11",
            "The default port is kept: the instance sits in isolated subnets and its security group admits "
            "only the proxy and rotation security groups; a non-standard port adds no protection.",
        )
        assert self.instance.secret is not None
        self.secret: secretsmanager.ISecret = self.instance.secret

        # Rotation: Secrets Manager's hosted single-user rotation function, inside the VPC.
        self.secret.add_rotation_schedule(
            "Rotation",
            hosted_rotation=secretsmanager.HostedRotation.postgre_sql_single_user(
                function_name=f"{config.stack_name}-db-rotation",
                vpc=network.vpc,
                vpc_subnets=network.app_subnets,
                security_groups=[network.rotation_sg],
            ),
            automatically_after=Duration.days(DB_SECRET_ROTATION_DAYS),
        )

        self.proxy = rds.DatabaseProxy(
            self,
            "Proxy",
            proxy_target=rds.ProxyTarget.from_instance(self.instance),
            secrets=[self.secret],
            vpc=network.vpc,
            vpc_subnets=network.app_subnets,
            security_groups=[network.proxy_sg],
            require_tls=True,
            iam_auth=False,
            max_connections_percent=DB_PROXY_MAX_CONNECTIONS_PERCENT,
            idle_client_timeout=Duration.minutes(30),
            debug_logging=False,
        )

        # The database settings every function gets (snowwatch.settings.CommonSettings).
        self.environment = {
            "DB_SECRET_ARN": self.secret.secret_arn,
            "DB_HOST": self.proxy.endpoint,
            "DB_SSL": "true",
        }

        self.migrate = AppFunction(
            self,
            "Migrate",
            spec=MIGRATE,
            config=config,
            packaging=packaging,
            network=network,
            security_group=network.functions_sg,
            environment={**self.environment, "MIGRATIONS_HASH": migrations_hash()},
        )
        self.grant_connect(self.migrate.role)

        self.migration_trigger = triggers.Trigger(
            self,
            "MigrateOnDeploy",
            handler=self.migrate.function,
            execute_after=[self.proxy],
            execute_on_handler_change=True,
            invocation_type=triggers.InvocationType.REQUEST_RESPONSE,
            timeout=Duration.seconds(MIGRATION_TRIGGER_TIMEOUT_S),
        )

    def grant_connect(self, grantee: iam.IGrantable) -> None:
        """Read the database credentials (the functions authenticate to the proxy with them)."""
        self.secret.grant_read(grantee)
