"""Notifications: the SQS queue (with its DLQ and redrive) and the SES sending identity.

SES: by default the sender's identity is *imported* (it must already exist and be verified in the
account: dev and prod stacks may share a sender, and a second stack creating the same identity
fails); `-c ses_create_identity=true` creates it instead (a verification mail goes to the address).
`make preflight` says which applies and whether the account is still in the SES sandbox.

Slack credentials are per budget (a bot token + channel, or a webhook URL): the API writes each to
its own secret under ``<stack>/<org>/slack/`` and stores only the ARN; notify reads them.

Flow (DESIGN §4): budget_check and security write alert + outbox rows in one transaction; the
outbox relay (the notify function on its 5-minute schedule) publishes pending rows to the queue;
the notify function consumes the queue with partial batch responses (only the failed messages
return to the queue); after NOTIFY_MAX_RECEIVE_COUNT receives a message moves to the DLQ, which
alarms (observability.py).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import Config
from infra.constants import (
    JOB_SPECS,
    NOTIFY_BATCH_SIZE,
    NOTIFY_DLQ_RETENTION_DAYS,
    NOTIFY_EVENT_SOURCE_MAX_CONCURRENCY,
    NOTIFY_MAX_RECEIVE_COUNT,
    NOTIFY_QUEUE_RETENTION_DAYS,
)
from infra.constructs.acks import ack
from infra.constructs.function import AppFunction


class Notifications(Construct):
    def __init__(self, scope: Construct, id: str, *, config: Config) -> None:
        super().__init__(scope, id)
        self.config = config
        self.dlq = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(NOTIFY_DLQ_RETENTION_DAYS),
        )
        ack(self.dlq, "AwsSolutions-SQS3", "This is the dead-letter queue of the notifications queue.")
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(NOTIFY_QUEUE_RETENTION_DAYS),
            # At least 6x the consumer's timeout (AWS guidance for Lambda event sources).
            visibility_timeout=Duration.seconds(6 * JOB_SPECS["notify"].timeout_s),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=NOTIFY_MAX_RECEIVE_COUNT),
        )

        # The sending identity: imported (exists already) unless the context asks to create it.
        self.identity: ses.EmailIdentity | None = None
        if config.ses_create_identity:
            self.identity = ses.EmailIdentity(self, "SenderIdentity", identity=ses.Identity.email(config.ses_sender))

    @property
    def environment(self) -> dict[str, str]:
        return {"NOTIFY_QUEUE_URL": self.queue.queue_url}

    def grant_publish(self, fn: AppFunction) -> None:
        self.queue.grant_send_messages(fn.role)

    def subscribe(self, notify: AppFunction) -> None:
        """The notify function: consumes the queue, sends mail through SES, posts to Slack."""
        notify.function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=NOTIFY_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=NOTIFY_EVENT_SOURCE_MAX_CONCURRENCY,
            )
        )
        stack = Stack.of(self)
        # SES authorises SendEmail against the identities involved (in the sandbox, the recipients'
        # too), so the statement names identity/* and pins the From address with a condition.
        notify.role.add_to_policy(
            iam.PolicyStatement(
                sid="SendAsTheSenderOnly",
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[stack.format_arn(service="ses", resource="identity", resource_name="*")],
                conditions={"StringEquals": {"ses:FromAddress": self.config.ses_sender}},
            )
        )
        ack(
            notify.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]",
            "SES checks SendEmail against every identity in the message (recipients too while the account "
            "is in the SES sandbox); the ses:FromAddress condition limits sending to the configured sender.",
        )
