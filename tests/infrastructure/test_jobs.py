"""Jobs, schedules and the notifications queue."""

from __future__ import annotations

import json

import pytest

from infra.constants import JOB_SPECS, NOTIFY_MAX_RECEIVE_COUNT
from snowwatch.schedules import JOBS, PER_CONNECTOR_JOBS, SCHEDULES, Schedule

from .conftest import PROD_CONTEXT, Synth

pytestmark = pytest.mark.infrastructure


def _function(synth: Synth, name: str) -> tuple[str, dict]:
    for logical_id, fn in synth.of_type("AWS::Lambda::Function").items():
        if fn["Properties"].get("FunctionName") == f"Snowwatch-{name}":
            return logical_id, fn["Properties"]
    raise AssertionError(f"no function Snowwatch-{name}")


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: s.id)
def test_schedule(schedule: Schedule, synth: Synth) -> None:
    """Given an entry of the schedule table
    When the app is synthesized with the default context
    Then an EventBridge Scheduler schedule runs its job with its cron expression in UTC, delivering
    {"trigger": "schedule", **payload} to the queue the job's function consumes."""
    fn_id, _ = _function(synth, schedule.job)
    (mapping,) = [
        m["Properties"]
        for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": fn_id} and m["Properties"]["BatchSize"] == 1
    ]
    matches = [
        s["Properties"]
        for s in synth.of_type("AWS::Scheduler::Schedule").values()
        if s["Properties"]["Name"] == f"Snowwatch-{schedule.id}"
    ]
    assert len(matches) == 1
    props = matches[0]
    assert props["ScheduleExpression"] == schedule.eventbridge_expression()
    assert props["ScheduleExpressionTimezone"] == "UTC"
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert props["State"] == "ENABLED"
    assert props["Target"]["Arn"] == mapping["EventSourceArn"]
    assert json.loads(props["Target"]["Input"]) == {"trigger": "schedule", **schedule.payload}


def test_schedule_count(synth: Synth) -> None:
    """Given the schedule table
    When the app is synthesized
    Then there is exactly one schedule per entry."""
    synth.assertions().resource_count_is("AWS::Scheduler::Schedule", len(SCHEDULES))


def test_schedules_follow_the_timezone_context(prod_synth: Synth) -> None:
    """Given `-c timezone=Europe/Berlin`
    When the app is synthesized
    Then every schedule runs in that timezone."""
    zones = {
        s["Properties"]["ScheduleExpressionTimezone"] for s in prod_synth.of_type("AWS::Scheduler::Schedule").values()
    }
    assert zones == {PROD_CONTEXT["timezone"]}


@pytest.mark.parametrize("job", JOBS)
def test_job_function(job: str, synth: Synth) -> None:
    """Given a job of the schedule table
    When the app is synthesized
    Then it has its own function, sized as constants.JOB_SPECS says, bounded by its event source's
    maximum concurrency, never retried asynchronously, and per-connector jobs dispatch to their own queue."""
    logical_id, props = _function(synth, job)
    spec = JOB_SPECS[job]
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout_s
    assert "ReservedConcurrentExecutions" not in props
    (mapping,) = [
        m["Properties"]
        for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": logical_id} and m["Properties"]["BatchSize"] == 1
    ]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == spec.max_concurrency
    env = props["Environment"]["Variables"]
    assert env["SNOWWATCH_ENV"] == "aws" and env["DISPATCH_MODE"] == "sqs"
    assert mapping["EventSourceArn"]["Fn::GetAtt"][0] in json.dumps(env["JOB_QUEUES"])
    if job in PER_CONNECTOR_JOBS:
        assert '"' + job + '"' in json.dumps(env["JOB_QUEUES"]).replace('\\"', '"')
    configs = [
        c["Properties"]
        for c in synth.of_type("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": logical_id}
    ]
    assert len(configs) == 1 and configs[0]["MaximumRetryAttempts"] == 0


def test_queue_redrive(synth: Synth) -> None:
    """Given the notifications queue
    When it is synthesized
    Then it redrives to its DLQ after NOTIFY_MAX_RECEIVE_COUNT receives, every queue is encrypted,
    and its visibility timeout covers the notify function's timeout six times."""
    queues = synth.of_type("AWS::SQS::Queue")
    main = [q["Properties"] for lid, q in queues.items() if lid.startswith("NotificationsQueue")]
    assert len(main) == 1
    redrive = main[0]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == NOTIFY_MAX_RECEIVE_COUNT == 5
    dlq_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert dlq_id in queues
    assert main[0]["VisibilityTimeout"] >= 6 * JOB_SPECS["notify"].timeout_s
    synth.assertions().all_resources_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True})


def test_notify_consumes_the_queue_with_partial_batch_responses(synth: Synth) -> None:
    """Given the notify function
    When the app is synthesized
    Then an SQS event source feeds it with ReportBatchItemFailures."""
    logical_id, _ = _function(synth, "notify")
    mappings = [
        m for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
        if "NotificationsQueue" in json.dumps(m["Properties"]["EventSourceArn"])
    ]  # fmt: skip
    assert len(mappings) == 1
    props = mappings[0]["Properties"]
    assert props["FunctionName"] == {"Ref": logical_id}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "NotificationsQueue" in json.dumps(props["EventSourceArn"])


def test_ses_sender_from_context(synth: Synth, prod_synth: Synth) -> None:
    """Given `ses_sender` in the context (and `ses_create_identity=true` in the prod context)
    When the app is synthesized
    Then notify sends as it, and the identity is created only when asked."""
    prod_synth.assertions().has_resource_properties("AWS::SES::EmailIdentity", {"EmailIdentity": "alerts@example.com"})
    _, props = _function(synth, "notify")
    assert props["Environment"]["Variables"]["SES_SENDER"] == "alerts@example.com"
