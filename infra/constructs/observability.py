"""Observability: alarms (DLQ depths, job failures, API 5xx and p95 latency) into an SNS topic, and
one CloudWatch dashboard over the API, the functions, the queues and the database.

Alarm notifications go to the topic; subscribe an address with context `alarm_email` (or subscribe
anything else to the topic after deploy). The topic is encrypted with a customer-managed key
because CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key. Both the topic
policy and the key policy allow `cloudwatch.amazonaws.com`, only for this account's alarms
(`aws:SourceAccount`, `aws:SourceArn`): `enforce_ssl` alone leaves a policy with only a Deny.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import Config
from infra.constants import API_LATENCY_P95_ALARM_MS
from infra.constructs.api import Api
from infra.constructs.database import Database
from infra.constructs.jobs import Jobs
from infra.constructs.notifications import Notifications

FIVE_MINUTES = Duration.minutes(5)


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: Config,
        api: Api,
        jobs: Jobs,
        notifications: Notifications,
        database: Database,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        alarms_of_this_account = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(
                    service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
                )
            },
        }
        cloudwatch = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description="snowwatch alarm topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN if config.profile.retain else RemovalPolicy.DESTROY,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsEncrypt",
                principals=[cloudwatch],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions=alarms_of_this_account,
            )
        )
        self.topic = sns.Topic(
            self, "Alarms", display_name=f"{config.stack_name} alarms", master_key=key, enforce_ssl=True
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[cloudwatch],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=alarms_of_this_account,
            )
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        action = cw_actions.SnsAction(self.topic)

        self.alarms: dict[str, cw.Alarm] = {}

        def alarm(id_: str, metric: cw.IMetric, threshold: float, description: str, periods: int = 1) -> None:
            created = cw.Alarm(
                self,
                id_,
                alarm_description=description,
                metric=metric,
                threshold=threshold,
                evaluation_periods=periods,
                datapoints_to_alarm=periods,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            created.add_alarm_action(action)
            created.add_ok_action(action)
            self.alarms[id_] = created

        alarm(
            "DlqDepth",
            notifications.dlq.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
            1,
            "Notifications reached the dead-letter queue: they failed 5 times (status 'failed' in the API).",
        )
        alarm(
            "JobsDlqDepth",
            jobs.dlq.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
            1,
            "A job message failed 3 times (see job_runs); redrive the jobs DLQ to its source queues after a fix.",
        )
        alarm(
            "DeliveryDlqDepth",
            jobs.delivery_dlq.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
            1,
            "A schedule could not deliver to its job queue, or an asynchronous invoke of a job function failed.",
        )
        for job, fn in jobs.functions.items():
            alarm(
                f"JobErrors{fn.node.id}",
                fn.function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                1,
                f"The {job} job function failed (see job_runs and its log group).",
            )
            alarm(
                f"JobThrottles{fn.node.id}",
                fn.function.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
                1,
                f"The {job} job function was throttled (account concurrency quota; see `make preflight`).",
                periods=3,
            )
        stage = api.stage
        alarm(
            "Api5xx",
            stage.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
            5,
            "The API answered 5 or more 5xx responses in 5 minutes.",
        )
        alarm(
            "ApiLatencyP95",
            stage.metric_latency(period=FIVE_MINUTES, statistic="p95"),
            API_LATENCY_P95_ALARM_MS,
            f"API p95 latency at or above {API_LATENCY_P95_ALARM_MS} ms for 15 minutes.",
            periods=3,
        )

        functions = [api.handler, api.authorizer_function, *jobs.functions.values()]
        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{config.stack_name}-overview")
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="API requests and errors",
                left=[stage.metric_count(period=FIVE_MINUTES, statistic="Sum")],
                right=[
                    stage.metric_client_error(period=FIVE_MINUTES, statistic="Sum"),
                    stage.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="API latency and cache",
                left=[
                    stage.metric_latency(period=FIVE_MINUTES, statistic="p50"),
                    stage.metric_latency(period=FIVE_MINUTES, statistic="p95"),
                ],
                right=[
                    stage.metric_cache_hit_count(period=FIVE_MINUTES, statistic="Sum"),
                    stage.metric_cache_miss_count(period=FIVE_MINUTES, statistic="Sum"),
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Function errors",
                left=[
                    f.function.metric_errors(period=FIVE_MINUTES, statistic="Sum", label=f.spec.name) for f in functions
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Function duration p95",
                left=[
                    f.function.metric_duration(period=FIVE_MINUTES, statistic="p95", label=f.spec.name)
                    for f in functions
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Notification and job queues",
                left=[
                    notifications.queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
                    notifications.dlq.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
                    jobs.dlq.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
                ],
                right=[notifications.queue.metric_approximate_age_of_oldest_message(period=FIVE_MINUTES)],
                width=12,
            ),
            cw.GraphWidget(
                title="Database",
                left=[
                    database.instance.metric_cpu_utilization(period=FIVE_MINUTES),
                    database.instance.metric_database_connections(period=FIVE_MINUTES),
                ],
                right=[database.instance.metric_free_storage_space(period=FIVE_MINUTES)],
                width=12,
            ),
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24),
        )
