"""Observability: alarms (DLQ depth, job failures, API 5xx and p95 latency) into an SNS topic, and
one CloudWatch dashboard over the API, the functions, the queue and the database.

Alarm notifications go to the topic; subscribe an address with context `alarm_email` (or subscribe
anything else to the topic after deploy). The topic is encrypted with a customer-managed key
because CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
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
from infra.constructs.function import AppFunction
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
        jobs: dict[str, AppFunction],
        notifications: Notifications,
        database: Database,
    ) -> None:
        super().__init__(scope, id)
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description="snowwatch alarm topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN if config.prod else RemovalPolicy.DESTROY,
        )
        key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        self.topic = sns.Topic(
            self, "Alarms", display_name=f"{config.stack_name} alarms", master_key=key, enforce_ssl=True
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
        for job, fn in jobs.items():
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
                f"The {job} job function was throttled at its reserved concurrency.",
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

        functions = [api.handler, api.authorizer_function, *jobs.values()]
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
                title="Notifications queue",
                left=[
                    notifications.queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
                    notifications.dlq.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
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
