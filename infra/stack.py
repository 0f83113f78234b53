"""The one stack: composes the constructs (one per capability) and exports what operators need."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Fn, Stack
from constructs import Construct

from infra.config import Config
from infra.constructs.api import Api
from infra.constructs.dashboard import Dashboard
from infra.constructs.database import Database
from infra.constructs.internals import acknowledge_cdk_internals, give_providers_a_log_group
from infra.constructs.jobs import Jobs
from infra.constructs.network import Network
from infra.constructs.notifications import Notifications
from infra.constructs.observability import Observability
from infra.constructs.packaging import Packaging


class SnowwatchStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: Config, **kwargs: Any) -> None:
        super().__init__(scope, id, description="snowwatch: Snowflake cost and security monitoring", **kwargs)
        network = Network(self, "Network", config=config)
        packaging = Packaging(self, "Packaging")
        database = Database(self, "Database", config=config, network=network, packaging=packaging)
        notifications = Notifications(self, "Notifications", config=config)
        jobs = Jobs(
            self,
            "Jobs",
            config=config,
            network=network,
            packaging=packaging,
            database=database,
            notifications=notifications,
        )
        api = Api(self, "Api", config=config, network=network, packaging=packaging, database=database, jobs=jobs)
        dashboard = Dashboard(self, "Dashboard", config=config, api=api)
        if not config.dashboard_url:  # links in alert mails point at this deployment's dashboard
            jobs.functions["notify"].function.add_environment("DASHBOARD_URL", dashboard.url)
        Observability(
            self,
            "Observability",
            config=config,
            api=api,
            jobs=jobs,
            notifications=notifications,
            database=database,
        )
        acknowledge_cdk_internals(self)
        give_providers_a_log_group(self, config.log_retention_days)

        CfnOutput(self, "ApiUrl", value=api.url, description="API Gateway stage URL")
        CfnOutput(self, "DashboardUrl", value=dashboard.url, description="CloudFront: dashboard, /api/*, /health")
        CfnOutput(self, "NotifyQueueUrl", value=notifications.queue.queue_url)
        CfnOutput(self, "DatabaseSecretArn", value=database.secret.secret_arn)
        CfnOutput(self, "DatabaseEndpoint", value=database.endpoint, description="RDS Proxy (prod) or the instance")
        if network.egress_ips:
            CfnOutput(
                self,
                "EgressIps",
                value=Fn.join(",", network.egress_ips),
                description="NAT addresses (Elastic IPs): allow them in the Snowflake account's network policy",
            )
        CfnOutput(self, "JobsDeadLetterQueueUrl", value=jobs.dlq.queue_url)
        CfnOutput(self, "MigrateFunctionName", value=database.migrate.function_name)
        for job, fn in jobs.functions.items():
            CfnOutput(self, f"JobFunction{fn.node.id}", value=fn.function_name, description=f"{job} job function")
