"""Database: RDS PostgreSQL 17, its master credentials (Secrets Manager, rotated), the RDS Proxy
(profile `prod`), and the migration function that a CDK Trigger runs on every deploy that changes it.

Logins (DESIGN §5: each function family logs in as its own role, created by migration 0320):
- api, jobs, notify: IAM authentication as `snowwatch_api` / `snowwatch_jobs` / `snowwatch_notify`
  (`rds-db:connect` for exactly that user). `prod`: through the RDS Proxy with end-to-end IAM auth
  (no stored credentials at all); `lean`: straight to the instance with IAM database auth.
- migrate: the master user, from the master secret, straight to the instance. No other function
  may read that secret.

TLS always (`rds.force_ssl`). The proxy presents an ACM certificate the default trust store
verifies; the instance presents an RDS CA certificate, so functions that reach the instance
directly load Amazon's RDS CA bundle (DB_CA_BUNDLE_URL) on cold start.
"""

from __future__ import annotations

import hashlib

from aws_cdk import Duration, RemovalPolicy, triggers
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import Config
from infra.constants import (
    DB_ADMIN_USER,
    DB_ALLOCATED_STORAGE_GB,
    DB_MAX_ALLOCATED_STORAGE_GB,
    DB_NAME,
    DB_PORT,
    DB_PROXY_MAX_CONNECTIONS_PERCENT,
    DB_ROLES,
    DB_SECRET_ROTATION_DAYS,
    MIGRATE,
    MIGRATION_CONNECT_ATTEMPTS,
    MIGRATION_CONNECT_PAUSE_S,
    MIGRATION_TRIGGER_TIMEOUT_S,
    MIGRATIONS_DIR,
)
from infra.constructs.acks import ack
from infra.constructs.function import AppFunction, retention
from infra.constructs.network import Network
from infra.constructs.packaging import Packaging

# PostgreSQL 17, newest minor version aws-cdk-lib 2.275 names (a bare "17" is rejected by cfn-lint
# W3691 as not creatable); minor upgrades are applied automatically after that.
ENGINE_VERSION = rds.PostgresEngineVersion.VER_17_9
LOG_EXPORTS = ("postgresql", "upgrade")
RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
ROTATION_FUNCTION = "db-rotation"


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
        profile = config.profile
        engine = rds.DatabaseInstanceEngine.postgres(version=ENGINE_VERSION)
        parameters = rds.ParameterGroup(
            self,
            "Parameters",
            engine=engine,
            description="snowwatch: TLS only, slow statements logged",
            parameters={"rds.force_ssl": "1", "log_min_duration_statement": "2000"},
        )
        # The exported log groups are created here, with retention, before the instance exists
        # (otherwise RDS creates them without retention). They carry fixed names, so they are
        # never retained: a retry after a failed first deploy must be able to create them again.
        instance_id = f"{config.stack_name}-postgres".lower()
        log_groups = [
            logs.LogGroup(
                self,
                f"Logs{kind.capitalize()}",
                log_group_name=f"/aws/rds/instance/{instance_id}/{kind}",
                retention=retention(config.log_retention_days),
                removal_policy=RemovalPolicy.DESTROY,
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
            iam_authentication=True,
            parameter_group=parameters,
            storage_encrypted=True,
            storage_type=rds.StorageType.GP3,
            allocated_storage=DB_ALLOCATED_STORAGE_GB,
            max_allocated_storage=DB_MAX_ALLOCATED_STORAGE_GB,
            multi_az=profile.multi_az,
            deletion_protection=profile.retain,
            backup_retention=Duration.days(profile.backup_days),
            delete_automated_backups=not profile.retain,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            publicly_accessible=False,
            instance_identifier=instance_id,
            cloudwatch_logs_exports=list(LOG_EXPORTS),
            removal_policy=RemovalPolicy.SNAPSHOT,
        )
        for group in log_groups:
            self.instance.node.add_dependency(group)
        if not profile.multi_az:
            ack(
                self.instance,
                "AwsSolutions-RDS3",
                "Multi-AZ is on with profile=prod; the lean profile runs single-AZ to halve the cost.",
            )
        if not profile.retain:
            ack(
                self.instance,
                "AwsSolutions-RDS10",
                "Deletion protection is on with profile=prod; lean stacks must be destroyable "
                "(a final snapshot is still taken: removal policy SNAPSHOT).",
            )
        ack(
            self.instance,
            "AwsSolutions-RDS11",
            "The default port is kept: the instance sits in isolated subnets and its security group admits "
            "only snowwatch's own security groups; a non-standard port adds no protection.",
        )
        assert self.instance.secret is not None
        self.secret: secretsmanager.ISecret = self.instance.secret

        # Rotation: Secrets Manager's hosted single-user rotation function, inside the VPC. Its log
        # group is created here so that it has a retention (the function would create it without).
        rotation_name = f"{config.stack_name}-{ROTATION_FUNCTION}"
        rotation_logs = logs.LogGroup(
            self,
            "RotationLogs",
            log_group_name=f"/aws/lambda/{rotation_name}",
            retention=retention(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        rotation = self.secret.add_rotation_schedule(
            "Rotation",
            hosted_rotation=secretsmanager.HostedRotation.postgre_sql_single_user(
                function_name=rotation_name,
                vpc=network.vpc,
                vpc_subnets=network.app_subnets,
                security_groups=[network.rotation_sg],
            ),
            automatically_after=Duration.days(DB_SECRET_ROTATION_DAYS),
        )
        rotation.node.add_dependency(rotation_logs)

        pg = ec2.Port.tcp(DB_PORT)
        # Migrate and the rotation function always reach the instance itself.
        for client in (network.family_sgs["migrate"], network.rotation_sg):
            client.connections.allow_to(network.database_sg, pg, "Postgres to the instance")
        self.proxy: rds.DatabaseProxy | None = None
        if profile.rds_proxy:
            self.proxy = rds.DatabaseProxy(
                self,
                "Proxy",
                proxy_target=rds.ProxyTarget.from_instance(self.instance),  # adds proxy -> database
                vpc=network.vpc,
                vpc_subnets=network.app_subnets,
                security_groups=[network.proxy_sg],
                require_tls=True,
                iam_auth=True,
                default_auth_scheme=rds.DefaultAuthScheme.IAM_AUTH,
                max_connections_percent=DB_PROXY_MAX_CONNECTIONS_PERCENT,
                idle_client_timeout=Duration.minutes(30),
                debug_logging=False,
            )
            entry: ec2.SecurityGroup = network.proxy_sg
            self.endpoint = self.proxy.endpoint
        else:
            entry = network.database_sg
            self.endpoint = self.instance.db_instance_endpoint_address
        for family in DB_ROLES:
            network.family_sgs[family].connections.allow_to(entry, pg, f"{family} functions to Postgres")

        self.migrate = AppFunction(
            self,
            "Migrate",
            spec=MIGRATE,
            config=config,
            packaging=packaging,
            network=network,
            environment={
                "DB_SECRET_ARN": self.secret.secret_arn,
                "DB_HOST": self.instance.db_instance_endpoint_address,
                "DB_SSL": "true",
                "DB_CA_BUNDLE_URL": RDS_CA_BUNDLE_URL,
                "MIGRATIONS_HASH": migrations_hash(),
                "MIGRATE_CONNECT_ATTEMPTS": str(MIGRATION_CONNECT_ATTEMPTS),
                "MIGRATE_CONNECT_PAUSE_SECONDS": str(MIGRATION_CONNECT_PAUSE_S),
            },
        )
        self.secret.grant_read(self.migrate.role)  # the only reader of the master secret

        self.migration_trigger = triggers.Trigger(
            self,
            "MigrateOnDeploy",
            handler=self.migrate.function,
            execute_after=[self.instance, *([self.proxy] if self.proxy else [])],
            execute_on_handler_change=True,
            invocation_type=triggers.InvocationType.REQUEST_RESPONSE,
            timeout=Duration.seconds(MIGRATION_TRIGGER_TIMEOUT_S),
        )

    def environment(self, family: str) -> dict[str, str]:
        """The database settings of a function family (snowwatch.settings.CommonSettings)."""
        env = {
            "DB_HOST": self.endpoint,
            "DB_PORT": str(DB_PORT),
            "DB_NAME": DB_NAME,
            "DB_USER": DB_ROLES[family],
            "DB_IAM_AUTH": "true",
            "DB_SSL": "true",
        }
        if self.proxy is None:
            env["DB_CA_BUNDLE_URL"] = RDS_CA_BUNDLE_URL
        return env

    def grant_connect(self, fn: AppFunction, family: str) -> None:
        """`rds-db:connect` as the family's role, and nothing else of the database."""
        user = DB_ROLES[family]
        target = self.proxy if self.proxy is not None else self.instance
        target.grant_connect(fn.role, user)
