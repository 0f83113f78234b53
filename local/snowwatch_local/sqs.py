"""The SQS event source mapping, locally: receive from the notify queue, invoke the notify function
with an SQS event, delete what it did not report in `batchItemFailures` (those come back after the
visibility timeout and, past maxReceiveCount, go to the DLQ — moto applies the redrive policy)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3

from snowwatch.observability import logger

REGION = "us-east-1"
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """SQS messages as the Lambda event source mapping hands them to the function."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": m.get("Attributes", {}).get("ApproximateReceiveCount", "1")},
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def pump_once(
    queue_url: str, invoke: Invoke, max_batches: int = 100, wait_seconds: int = 0, batch_size: int = 10
) -> int:
    """Receive batches (up to ``batch_size``: 10 for notify, 1 for the job queues, as the CDK sets
    them) until the queue looks empty; return how many messages were handled."""
    sqs = boto3.client("sqs", region_name=REGION)
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    handled = 0
    for _ in range(max_batches):
        got = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        if not got:
            break
        answer = invoke(sqs_event(got, arn))
        failed = {f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])}
        done = [m for m in got if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
                ],
            )
        handled += len(got)
    return handled


class SqsPoller:
    """A background thread that keeps pumping the queue, as the event source mapping does in AWS."""

    def __init__(self, queue_url: str, invoke: Invoke, wait_seconds: int = 1) -> None:
        self.queue_url = queue_url
        self.invoke = invoke
        self.wait_seconds = wait_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sqs-poller", daemon=True)

    def start(self) -> SqsPoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                pump_once(self.queue_url, self.invoke, max_batches=10, wait_seconds=self.wait_seconds)
            except Exception:
                logger.exception("local SQS poller")
                self._stop.wait(2)
