"""Jobs: one function per job (snowwatch.schedules.JOBS), each fed by its own SQS queue, and one
EventBridge Scheduler schedule per entry of the schedule table, delivering to the job's queue.

Every unit of job work is one message on the job's queue (DESIGN §5): a schedule's tick, one
connector of a fan-out, a sync continuation, a manual run from the API. The function consumes its
queue through an event source mapping with `maximum_concurrency` (no reserved concurrency: a new
account's quota of 10 deploys) and partial batch responses. A failed run is recorded in job_runs
and its message returns after the visibility timeout; after JOB_MAX_RECEIVE_COUNT receives it moves
to the jobs DLQ (one for every job queue; "redrive to source" returns each message to its own
queue). Schedules retry a failed delivery, then drop it into the delivery DLQ, which is also every
job function's on-failure destination for direct asynchronous invokes. Both DLQs alarm.

Permissions, per function (nothing else):
- every job: `rds-db:connect` as its family's role; its log group; X-Ray; VPC network interfaces;
  consume its own queue;
- sync, security: read the stack's runtime secrets (connector keys) and send to their own queue;
- budget_check, security, notify: publish to the notifications queue;
- notify: consume the notifications queue, send as the SES sender, read the stack's runtime secrets
  (Slack targets).
"""

from __future__ import annotations

import json

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import Config
from infra.constants import (
    JOB_BATCH_SIZE,
    JOB_DLQ_RETENTION_DAYS,
    JOB_MAX_RECEIVE_COUNT,
    JOB_QUEUE_RETENTION_DAYS,
    JOB_SPECS,
    SCHEDULE_MAX_EVENT_AGE_S,
    SCHEDULE_MAX_RETRY_ATTEMPTS,
)
from infra.constructs.acks import ack
from infra.constructs.database import Database
from infra.constructs.function import AppFunction, grant_secret_read
from infra.constructs.network import Network
from infra.constructs.notifications import Notifications
from infra.constructs.packaging import Packaging
from infra.routes_table import JOBS, PER_CONNECTOR_JOBS, SCHEDULES

PUBLISHES_NOTIFICATIONS = frozenset({"budget_check", "security", "notify"})
READS_RUNTIME_SECRETS = frozenset({"sync", "security", "notify"})


def _queue(scope: Construct, id: str, **kwargs: object) -> sqs.Queue:
    return sqs.Queue(scope, id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True, **kwargs)  # type: ignore[arg-type]


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

        self.dlq = _queue(self, "DeadLetterQueue", retention_period=Duration.days(JOB_DLQ_RETENTION_DAYS))
        ack(self.dlq, "AwsSolutions-SQS3", "This is the dead-letter queue of the job queues.")
        self.delivery_dlq = _queue(self, "DeliveryDlq", retention_period=Duration.days(JOB_DLQ_RETENTION_DAYS))
        ack(
            self.delivery_dlq,
            "AwsSolutions-SQS3",
            "This is itself a dead-letter queue: failed schedule deliveries and failed asynchronous invokes.",
        )
        self.queues: dict[str, sqs.Queue] = {}
        for job in JOBS:
            self.queues[job] = _queue(
                self,
                f"{_pascal(job)}Queue",
                retention_period=Duration.days(JOB_QUEUE_RETENTION_DAYS),
                # At least 6x the consumer's timeout (AWS guidance for Lambda event sources).
                visibility_timeout=Duration.seconds(6 * JOB_SPECS[job].timeout_s),
                dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=JOB_MAX_RECEIVE_COUNT),
            )

        self.functions: dict[str, AppFunction] = {}
        for job in JOBS:
            spec = JOB_SPECS[job]
            # Per-connector jobs dispatch to their own queue (fan-out, continuations).
            targets = {job: self.queues[job].queue_url}
            env = {
                **database.environment(spec.family),
                "DISPATCH_MODE": "sqs",
                "JOB_QUEUES": Stack.of(self).to_json_string(targets),
            }
            if job in PUBLISHES_NOTIFICATIONS:
                env |= notifications.environment
            if job == "notify":
                env["SES_SENDER"] = config.ses_sender
                if config.dashboard_url:
                    env["DASHBOARD_URL"] = config.dashboard_url
            fn = AppFunction(
                self,
                _pascal(job),
                spec=spec,
                config=config,
                packaging=packaging,
                network=network,
                environment=env,
                on_failure=self.delivery_dlq,
            )
            database.grant_connect(fn, spec.family)
            fn.function.add_event_source(
                event_sources.SqsEventSource(
                    self.queues[job],
                    batch_size=JOB_BATCH_SIZE,
                    report_batch_item_failures=True,
                    max_concurrency=spec.max_concurrency,
                )
            )
            if job in PER_CONNECTOR_JOBS:
                self.queues[job].grant_send_messages(fn.role)
            if job in PUBLISHES_NOTIFICATIONS:
                notifications.grant_publish(fn)
            if job in READS_RUNTIME_SECRETS:
                grant_secret_read(fn, config)
            self.functions[job] = fn
        notifications.subscribe(self.functions["notify"])

        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="EventBridge Scheduler: send to the snowwatch job queues",
        )
        for queue in (*self.queues.values(), self.delivery_dlq):
            queue.grant_send_messages(self.scheduler_role)
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
                    arn=self.queues[entry.job].queue_arn,
                    role_arn=self.scheduler_role.role_arn,
                    input=json.dumps({"trigger": "schedule", **entry.payload}, sort_keys=True),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_retry_attempts=SCHEDULE_MAX_RETRY_ATTEMPTS,
                        maximum_event_age_in_seconds=SCHEDULE_MAX_EVENT_AGE_S,
                    ),
                    dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=self.delivery_dlq.queue_arn),
                ),
            )
            schedule.node.add_dependency(self.group)
            self.schedules[entry.id] = schedule

    def queue_urls(self) -> dict[str, str]:
        """job -> queue URL (the API's JOB_QUEUES: manual runs)."""
        return {job: queue.queue_url for job, queue in self.queues.items()}

    def grant_start(self, fn: AppFunction) -> None:
        """Start any job (manual runs): send to every job queue."""
        for queue in self.queues.values():
            queue.grant_send_messages(fn.role)


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))
