"""The local SQS event source mapping: batches go to the function, reported failures stay queued."""

from __future__ import annotations

import time

import boto3
import pytest

from snowwatch_local.sqs import SqsPoller, pump_once

pytestmark = pytest.mark.integration


@pytest.fixture
def queue(stack):
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName=f"poller-test-{time.monotonic_ns()}", Attributes={"VisibilityTimeout": "0"})[
        "QueueUrl"
    ]
    yield sqs, url
    sqs.delete_queue(QueueUrl=url)


def test_failed_items_stay_and_the_rest_are_deleted(queue) -> None:
    """Given three messages, when the function reports one failed, then two are deleted and one is received again."""
    sqs, url = queue
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    seen: list[str] = []

    def invoke(event):
        seen.extend(r["body"] for r in event["Records"])
        assert all(r["eventSource"] == "aws:sqs" for r in event["Records"])
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "b"]}

    pump_once(url, invoke, max_batches=1)
    assert sorted(seen) == ["a", "b", "c"]
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in left] == ["b"]


def test_the_poller_keeps_consuming_until_stopped(queue) -> None:
    sqs, url = queue
    got: list[str] = []
    poller = SqsPoller(url, lambda event: got.extend(r["body"] for r in event["Records"]) or {}, wait_seconds=0)
    poller.start()
    try:
        sqs.send_message(QueueUrl=url, MessageBody="late")
        deadline = time.monotonic() + 10
        while "late" not in got and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        poller.stop()
    assert got == ["late"]
