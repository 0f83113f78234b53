"""Jobs: one function per job (snowwatch.schedules.JOBS) and one EventBridge Scheduler schedule per
entry of the schedule table (snowwatch.schedules.SCHEDULES), in the configured timezone.

Each scheduled invocation is asynchronous with payload ``{"trigger": "schedule", **payload}``.
Per-connector jobs (sync, security) fan out by invoking themselves once per active connector.
Lambda never retries a job invocation (retry attempts 0): the run is recorded in job_runs and the
next schedule resumes from the watermark. Reserved concurrency caps each job's parallelism so the
fan-out cannot exhaust the database (constants.JOB_SPECS).

Permissions, per function (nothing else):
- every job: read the database secret; write its log group; X-Ray; VPC network interfaces;
- sync, security: read connector secrets (``snowwatch/connectors/*``) and invoke themselves;
- budget_check, security: publish to the notifications queue;
- notify: consume and publish the queue, send as the SES sender, read Slack secrets (``snowwatch/slack/*``).
"""

from __future__ import annotations

import json

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from infra.config import Config
from infra.constants import (
    CONNECTOR_SECRET_PREFIX,
    JOB_SPECS,
    SCHEDULE_MAX_EVENT_AGE_S,
    SCHEDULE_MAX_RETRY_ATTEMPTS,
    SLACK_SECRET_PREFIX,
)
from infra.constructs.database import Database
from infra.constructs.function import SECRET_READ, AppFunction, function_arn, function_name, grant_secret_prefix
from infra.constructs.network import Network
from infra.constructs.notifications import Notifications
from infra.constructs.packaging import Packaging
from infra.routes_table import JOBS, PER_CONNECTOR_JOBS, SCHEDULES

PUBLISHES_NOTIFICATIONS = frozenset({"budget_check", "security", "notify"})
READS_CONNECTOR_SECRETS = frozenset({"sync", "security"})


class Jobs(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: Config,
        network: Network,
        packaging: Packaging,
        database: Database,
        notifications: Notifications,
    ) -> None:
        super().__init__(scope, id)
        self.config = config
        missing = set(JOBS) - set(JOB_SPECS)
        if missing:
            raise ValueError(f"jobs without a function spec in infra/constants.py: {sorted(missing)}")

        self.functions: dict[str, AppFunction] = {}
        for job in JOBS:
            env = {**database.environment, "CONNECTOR_SECRET_PREFIX": CONNECTOR_SECRET_PREFIX}
            if job in PER_CONNECTOR_JOBS:
                env |= {"DISPATCH_MODE": "lambda", "JOB_FUNCTIONS": json.dumps({job: function_name(config, job)})}
            if job in PUBLISHES_NOTIFICATIONS:
                env |= notifications.environment
            if job == "notify":
                env |= {"SES_SENDER": config.ses_sender, "SLACK_SECRET_PREFIX": SLACK_SECRET_PREFIX}
                if config.dashboard_url:
                    env["DASHBOARD_URL"] = config.dashboard_url
            fn = AppFunction(
                self,
                _pascal(job),
                spec=JOB_SPECS[job],
                config=config,
                packaging=packaging,
                network=network,
                security_group=network.functions_sg,
                environment=env,
                async_job=True,
            )
            database.grant_connect(fn.role)
            if job in PUBLISHES_NOTIFICATIONS:
                notifications.grant_publish(fn)
            if job in READS_CONNECTOR_SECRETS:
                grant_secret_prefix(
                    fn, "ReadConnectorSecrets", CONNECTOR_SECRET_PREFIX, SECRET_READ, "Connector credentials"
                )
            if job in PER_CONNECTOR_JOBS:
                # Fan-out: one asynchronous invocation of itself per connector (by name: no cycle).
                fn.role.add_to_policy(
                    iam.PolicyStatement(
                        sid="FanOutToItself",
                        actions=["lambda:InvokeFunction"],
                        resources=[function_arn(self, config, job)],
                    )
                )
            self.functions[job] = fn
        notifications.subscribe(self.functions["notify"])

        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="EventBridge Scheduler: invoke the snowwatch job functions",
        )
        self.scheduler_role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[fn.arn for fn in self.functions.values()],
            )
        )
        self.group = scheduler.CfnScheduleGroup(self, "ScheduleGroup", name=config.stack_name)
        self.schedules: dict[str, scheduler.CfnSchedule] = {}
        for entry in SCHEDULES:
            schedule = scheduler.CfnSchedule(
                self,
                f"Schedule{_pascal(entry.id)}",
                name=f"{config.stack_name}-{entry.id}",
                group_name=config.stack_name,
                description=entry.description or entry.id,
                schedule_expression=entry.eventbridge_expression(),
                schedule_expression_timezone=config.timezone,
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                state="ENABLED" if config.schedules_enabled else "DISABLED",
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=self.functions[entry.job].arn,
                    role_arn=self.scheduler_role.role_arn,
                    input=json.dumps({"trigger": "schedule", **entry.payload}, sort_keys=True),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_retry_attempts=SCHEDULE_MAX_RETRY_ATTEMPTS,
                        maximum_event_age_in_seconds=SCHEDULE_MAX_EVENT_AGE_S,
                    ),
                ),
            )
            schedule.node.add_dependency(self.group)
            self.schedules[entry.id] = schedule

    def names(self) -> dict[str, str]:
        """job -> function name (the API's JOB_FUNCTIONS)."""
        return {job: fn.function_name for job, fn in self.functions.items()}

    def arns(self) -> list[str]:
        """The job functions' ARNs, built from their fixed names (a reference to the functions
        themselves would make the API depend on the notify function, which depends on the
        dashboard URL, which depends on the API: a cycle)."""
        return [function_arn(self, self.config, job) for job in self.functions]


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))
