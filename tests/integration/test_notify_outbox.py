"""The outbox: enqueue (security-style), publish, redelivery, lease expiry after a crash, relay, attempt limit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.budget_support import demo_org_id, make_connector

pytestmark = pytest.mark.integration


class Recorder:
    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[Any] = []
        self.fail = fail

    def send(self, notification: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append(notification)


@pytest.fixture
def env(stack) -> Iterator[Any]:
    from snowwatch.db import get_connection
    from snowwatch.services import notifications
    from snowwatch.settings import NotifySettings, get_settings

    settings = get_settings(NotifySettings).model_copy(update={"notify_queue_url": None, "max_attempts": 3})
    yield settings, get_connection(settings)
    notifications.use_senders(None)


def _enqueue(conn: Any, **kw: Any) -> list[uuid.UUID]:
    from snowwatch.models.notifications import OutboxDelivery
    from snowwatch.services import notifications

    org = demo_org_id(conn)
    cid = make_connector(conn, org)
    source = uuid.uuid4()
    return notifications.enqueue_in_tx(
        conn,
        org_id=org,
        connector_id=cid,
        source_type="security_alert",
        source_id=source,
        deliveries=kw.get("deliveries", [OutboxDelivery(channel="email")]),
        payload={"title": "ACCOUNTADMIN granted", "severity": "critical", "description": "d"},
        dedupe_key=kw.get("key", f"security_alert:{source}:1"),
    )


def _row(conn: Any, nid: uuid.UUID) -> dict[str, Any]:
    from snowwatch.repositories import notifications as repo

    row = repo.get(conn, nid)
    assert row is not None
    return row


def test_enqueue_in_tx_defaults_to_admins_and_dedupes(env) -> None:
    """Given an email delivery without recipients, when enqueued twice with one key, then one row to the admins."""
    from snowwatch.db import transaction

    _settings, conn = env
    with transaction(conn):
        ids = _enqueue(conn, key="security_alert:test-dedupe:1")
    assert len(ids) == 1
    assert _row(conn, ids[0])["recipients"] == ["admin@demo.snowwatch.local"]
    with transaction(conn):
        assert _enqueue(conn, key="security_alert:test-dedupe:1") == []


def test_redelivered_message_never_sends_twice(env) -> None:
    """Given a sent row, when its message is delivered again, then nothing is sent."""
    from snowwatch.services import notifications

    settings, conn = env
    recorder = Recorder()
    notifications.use_senders({"email": recorder})
    (nid,) = _enqueue(conn)
    assert notifications.deliver(conn, settings, nid)[0] == "sent"
    assert notifications.deliver(conn, settings, nid)[0] == "skipped"
    assert len(recorder.sent) == 1
    assert _row(conn, nid)["status"] == "sent"
    assert "ACCOUNTADMIN" in recorder.sent[0].payload["title"]


def test_retry_then_failed_after_the_attempt_limit(env) -> None:
    """Given a sender that keeps failing, when delivered max_attempts times, then the row is failed with the error."""
    from snowwatch.notify import SendError
    from snowwatch.services import notifications

    settings, conn = env
    notifications.use_senders({"email": Recorder(fail=SendError("SES Throttling"))})
    (nid,) = _enqueue(conn)
    assert [notifications.deliver(conn, settings, nid)[0] for _ in range(4)] == ["retry", "retry", "failed", "skipped"]
    row = _row(conn, nid)
    assert row["status"] == "failed" and row["attempts"] == 3 and "Throttling" in row["last_error"]


def test_permanent_error_fails_at_once(env) -> None:
    from snowwatch.notify import PermanentSendError
    from snowwatch.services import notifications

    settings, conn = env
    notifications.use_senders({"email": Recorder(fail=PermanentSendError("SES MessageRejected"))})
    (nid,) = _enqueue(conn)
    assert notifications.deliver(conn, settings, nid)[0] == "failed"
    assert _row(conn, nid)["attempts"] == 1


def test_crash_between_send_and_mark_is_recovered_by_the_relay(env) -> None:
    """Given a row claimed by a notifier that died (lease expired), when the relay runs, then it is pending
    again and republished, and the next delivery sends it."""
    from snowwatch.repositories import notifications as repo
    from snowwatch.services import notifications
    from snowwatch.services.jobs import JobContext

    settings, conn = env
    (nid,) = _enqueue(conn)
    assert repo.claim(conn, nid, 60, 3) is not None  # the notifier claimed it ... and died
    conn.run("UPDATE enterprise.notifications SET locked_until = now() - interval '1 second' WHERE id = :id", id=nid)
    ctx = JobContext(uuid.uuid4(), "notify", "schedule", None, None, None, settings)
    result = notifications.relay(conn, ctx)
    assert result["leases_expired"] >= 1
    row = _row(conn, nid)
    assert row["status"] == "pending" and "lease expired" in row["last_error"]
    recorder = Recorder()
    notifications.use_senders({"email": recorder})
    assert notifications.deliver(conn, settings, nid)[0] == "sent"
    assert _row(conn, nid)["attempts"] == 2


def test_publish_puts_ids_on_the_queue_and_relay_republishes_stragglers(env, stack) -> None:
    """Given pending rows, when published and later relayed, then SQS carries their ids and published_at is set."""
    import boto3

    from snowwatch.services import notifications
    from snowwatch.services.jobs import JobContext

    settings, conn = env
    queue = stack.moto.notify_dlq_url  # a queue nobody consumes in tests
    s = settings.model_copy(update={"notify_queue_url": queue, "relay_after_seconds": 0})
    (nid,) = _enqueue(conn)
    assert notifications.publish_pending(conn, s, [nid]) == 1
    assert _row(conn, nid)["published_at"] is not None
    ctx = JobContext(uuid.uuid4(), "notify", "schedule", None, None, None, s)
    assert notifications.relay(conn, ctx)["republished"] >= 1
    sqs = boto3.client("sqs", region_name="us-east-1")
    bodies = []
    for _ in range(20):
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        bodies += [m["Body"] for m in got]
        sqs.delete_message_batch(
            QueueUrl=queue, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        )
    assert bodies.count(str(nid)) == 2


def test_unpublishable_rows_stay_pending(env) -> None:
    """Given no reachable queue, when publishing, then the row stays pending and unpublished (the relay retries)."""
    from snowwatch.services import notifications

    settings, conn = env
    (nid,) = _enqueue(conn)
    bad = settings.model_copy(update={"notify_queue_url": "http://127.0.0.1:1/000000000000/nope"})
    assert notifications.publish_pending(conn, bad, [nid]) == 0
    row = _row(conn, nid)
    assert row["status"] == "pending" and row["published_at"] is None
