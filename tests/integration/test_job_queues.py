"""Fan-out, manual runs and continuations through the job queues (dispatch mode `sqs`), as in AWS:
real boto3 against the moto server, the local event source mapping (snowwatch_local.sqs) feeding
the job handlers with SQS batches, failures recorded in job_runs and redriven to the DLQ."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from snowwatch.db import query
from snowwatch.services import jobs
from snowwatch.settings import JobSettings, get_settings
from snowwatch_local.sqs import pump_once
from tests.conftest import env_override

pytestmark = pytest.mark.integration


@pytest.fixture
def sqs_settings(stack) -> JobSettings:
    return get_settings(JobSettings).model_copy(update={"dispatch_mode": "sqs"})


def _runs(db, job: str, since: Any) -> list[dict[str, Any]]:
    return query(
        db,
        "SELECT * FROM enterprise.job_runs WHERE job = :j AND created_at >= :t ORDER BY created_at",
        j=job,
        t=since,
    )


def _now(db) -> Any:
    return db.run("SELECT clock_timestamp()")[0][0]


def test_a_scheduled_fan_out_queues_one_message_per_connector_and_each_runs(db, stack, sqs_settings) -> None:
    """Given the scheduled security tick (no connector) and dispatch mode sqs
    When the function handles it, and the queue's event source mapping delivers what it queued
    Then one message per active connector went through the queue and each ran as its own run."""
    since = _now(db)
    queue = stack.moto.job_queue_urls["security"]
    done: list[str] = []

    def work(conn, ctx):
        done.append(str(ctx.connector.id))
        return {"checked": 1}

    result = jobs.handle(db, sqs_settings, "security", {"trigger": "schedule"}, work)
    active = db.run("SELECT count(*) FROM enterprise.connectors WHERE status <> 'paused'")[0][0]
    assert result["fanned_out"] == active and result["dispatch_failures"] == 0

    def consume(event: dict[str, Any]) -> dict[str, Any]:
        assert len(event["Records"]) == 1  # batch size 1, as the CDK sets it
        return jobs.handle(db, sqs_settings, "security", event, work)

    assert pump_once(queue, consume, batch_size=1) == active
    runs = _runs(db, "security", since)
    assert len(runs) == active and {r["status"] for r in runs} == {"succeeded"}
    assert {r["trigger"] for r in runs} == {"schedule"}
    assert sorted(done) == sorted(str(r["connector_id"]) for r in runs)


def test_a_failed_run_is_recorded_retried_and_then_dead_lettered(db, stack, sqs_settings) -> None:
    """Given a job message whose run fails every time (queue: 3 receives, then the DLQ)
    When the event source mapping delivers it again and again
    Then each attempt is a failed run in job_runs, reported as a batch item failure, and the message
    ends in the dead-letter queue instead of being dropped."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    suffix = time.monotonic_ns()
    dlq = sqs.create_queue(QueueName=f"jobs-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName=f"job-snapshot-{suffix}",
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
        },
    )["QueueUrl"]
    settings = sqs_settings.model_copy(update={"job_queues": {"snapshot": queue}})
    since = _now(db)

    def boom(conn, ctx):
        raise RuntimeError("snapshot exploded")

    answers: list[dict[str, Any]] = []

    def consume(event: dict[str, Any]) -> dict[str, Any]:
        answers.append(jobs.handle(db, settings, "snapshot", event, boom))
        return answers[-1]

    try:
        from snowwatch.services.dispatch import dispatch

        dispatch(settings, "snapshot", {"trigger": "manual"})
        for _ in range(4):
            pump_once(queue, consume, max_batches=1, batch_size=1)
        runs = _runs(db, "snapshot", since)
        assert len(runs) == 3 and {r["status"] for r in runs} == {"failed"}
        assert all("snapshot exploded" in r["error"] for r in runs)
        assert all(len(a["batchItemFailures"]) == 1 for a in answers)
        dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
        assert [json.loads(m["Body"]) for m in dead] == [{"trigger": "manual"}]
    finally:
        sqs.delete_queue(QueueUrl=queue)
        sqs.delete_queue(QueueUrl=dlq)


def test_a_manual_run_from_the_api_travels_through_the_queue(db, stack, api) -> None:
    """Given the API in dispatch mode sqs (as deployed)
    When an admin starts budget_check, and the job queue's event source mapping runs the real handler
    Then the run goes queued -> succeeded, and the queue is empty again."""
    with env_override({"DISPATCH_MODE": "sqs"}):
        answer = api.post("/api/jobs/budget_check/run", json_body={})
        assert answer.status == 202, answer.body
        run_id = answer.json()["run_id"]
        queued = query(db, "SELECT status FROM enterprise.job_runs WHERE id = :id", id=run_id)
        assert queued[0]["status"] == "queued"
        assert stack.pump_jobs(("budget_check",)) == 1
    (row,) = query(db, "SELECT status, trigger FROM enterprise.job_runs WHERE id = :id", id=run_id)
    assert row == {"status": "succeeded", "trigger": "manual"}


def test_notify_tells_its_job_queue_from_the_notifications_queue(db, stack, sqs_settings) -> None:
    """Given a relay run dispatched to notify's job queue
    When the real notify handler consumes that queue
    Then it runs the relay through the job runner (not the outbox sender)."""
    from snowwatch.services.dispatch import dispatch

    since = _now(db)
    dispatch(sqs_settings, "notify", {"trigger": "manual", "mode": "relay"})
    assert stack.pump_jobs(("notify",)) == 1
    runs = _runs(db, "notify", since)
    assert [(r["status"], r["trigger"]) for r in runs] == [("succeeded", "manual")]


def test_records_of_another_queue_are_refused(stack, sqs_settings, db) -> None:
    """Given SQS records from a queue that is not the job's own
    When a job function receives them
    Then it refuses the batch instead of guessing what they are."""
    event = {"Records": [{"messageId": "1", "body": "{}", "eventSourceARN": "arn:aws:sqs:us-east-1:1:other"}]}
    with pytest.raises(ValueError, match="not sync's"):
        jobs.handle(db, sqs_settings, "sync", event, lambda c, ctx: {})
