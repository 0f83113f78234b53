"""Notifications: the transactional outbox, its relay to SQS, and delivery.

Writers (budget_check, the security job) put outbox rows in the same transaction as the alert that
causes them (:func:`enqueue_in_tx`), and after the commit publish them (:func:`publish_pending`;
message body = the notification id). functions/notify receives the messages and calls
:func:`deliver` per message, which

1. claims the row (``pending -> sending`` with a lease, ``attempts + 1``) in one conditional UPDATE;
   a redelivered message, or a second notifier, finds it ``sending``/``sent``/``failed`` and does nothing;
2. sends it (SES or Slack);
3. marks it ``sent`` - or, on failure, back to ``pending`` (retried: the SQS message comes back after a
   backoff, and the relay republishes) or ``failed`` when the error is permanent or attempts run out.

A crash between 2 and 3 leaves the row ``sending``; when its lease runs out the relay puts it back to
``pending`` and it is sent again. That window (one UPDATE after the provider accepted the message) is
the only way to send twice: we prefer that over losing an alert, as neither SES nor Slack takes an
idempotency key.

The relay (every 5 minutes, :func:`relay`) republishes rows still pending ``relay_after_seconds`` after
their last publish (never published, SQS message lost, or moved to the DLQ), and marks rows past
``max_attempts`` as ``failed``, which the API shows per channel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from snowwatch import aws
from snowwatch.db import Connection
from snowwatch.models.notifications import (
    Channel,
    DeliveryOutcome,
    Notification,
    OutboxDelivery,
    SourceType,
)
from snowwatch.notify import PermanentSendError, Sender
from snowwatch.notify.email import SesSender
from snowwatch.notify.slack import SlackSender
from snowwatch.observability import logger, metrics
from snowwatch.repositories import notifications as repo
from snowwatch.repositories import users as users_repo
from snowwatch.services.jobs import JobContext
from snowwatch.settings import DispatchSettings, NotifySettings

SQS_BATCH = 10
RELAY_BATCH = 1000
MAX_BACKOFF_SECONDS = 900


class DeliveryFailed(Exception):
    """The send failed and will be retried: the SQS record is reported as a batch item failure."""


# ---------------------------------------------------------------------------------------------- writing


def enqueue_in_tx(
    conn: Connection,
    *,
    org_id: UUID,
    connector_id: UUID | None,
    source_type: SourceType,
    source_id: UUID,
    deliveries: Sequence[OutboxDelivery],
    payload: Mapping[str, Any],
    dedupe_key: str,
) -> list[UUID]:
    """Write one outbox row per delivery; call inside the transaction that writes the alert.

    ``dedupe_key`` identifies the event (e.g. ``security_alert:<alert id>:<occurrence>``); each row's
    key is ``<dedupe_key>:<channel>``, so enqueuing the same event twice writes nothing the second time.
    Email deliveries without recipients go to the org's admins, resolved now (the row records who
    was told). Returns the ids written now: pass them to :func:`publish_pending` after the commit.
    """
    ids: list[UUID] = []
    admins: list[str] | None = None
    for d in deliveries:
        recipients = list(d.recipients)
        body = dict(payload)
        if d.channel == "email" and not recipients:
            admins = admins if admins is not None else users_repo.admin_emails(conn, org_id)
            recipients = admins
        if d.channel == "slack":
            if not d.slack_secret_ref:
                raise ValueError("a Slack delivery needs slack_secret_ref")
            body["slack"] = {"secret_ref": d.slack_secret_ref, "channel": d.slack_channel}
            recipients = recipients or [d.slack_channel or "webhook"]
        if not recipients:
            logger.warning("no recipients; delivery skipped", extra={"channel": d.channel, "key": dedupe_key})
            continue
        new_id = repo.insert(
            conn,
            org_id=org_id,
            connector_id=connector_id,
            source_type=source_type,
            source_id=source_id,
            channel=d.channel,
            recipients=recipients,
            payload=body,
            dedupe_key=f"{dedupe_key}:{d.channel}",
        )
        if new_id is not None:
            ids.append(new_id)
    return ids


def publish_pending(conn: Connection, settings: DispatchSettings, ids: Sequence[UUID] | None = None) -> int:
    """Send one SQS message per notification id (body = the id) and stamp ``published_at``.

    ``ids=None`` publishes every pending row never published. A failed publish leaves the row
    unstamped; the relay picks it up. Returns how many were published.
    """
    if ids is None:
        ids = repo.unpublished(conn, RELAY_BATCH)
    if not ids:
        return 0
    if not settings.notify_queue_url:
        logger.warning("NOTIFY_QUEUE_URL is not set; notifications stay pending for the relay")
        return 0
    sqs = aws.client("sqs", settings.aws_region)
    published: list[UUID] = []
    for start in range(0, len(ids), SQS_BATCH):
        chunk = list(ids[start : start + SQS_BATCH])
        try:
            answer = sqs.send_message_batch(
                QueueUrl=settings.notify_queue_url,
                Entries=[{"Id": str(i), "MessageBody": str(n)} for i, n in enumerate(chunk)],
            )
        except Exception:
            logger.exception("SQS publish failed; the relay will retry", extra={"count": len(chunk)})
            continue
        published.extend(chunk[int(ok["Id"])] for ok in answer.get("Successful", []))
    repo.mark_published(conn, published)
    return len(published)


# ---------------------------------------------------------------------------------------------- delivery

_sender_overrides: dict[str, Sender] = {}


def use_senders(senders: Mapping[str, Sender] | None) -> None:
    """Replace the senders per channel (tests inject faults here); None restores the real ones."""
    _sender_overrides.clear()
    if senders:
        _sender_overrides.update(senders)


def _sender(channel: Channel, settings: NotifySettings) -> Sender:
    if channel in _sender_overrides:
        return _sender_overrides[channel]
    if channel == "email":
        return SesSender(settings)
    return SlackSender(settings)


def backoff_seconds(settings: NotifySettings, attempts: int) -> int:
    """base x 2^(attempts-1), capped: 30 s, 60 s, 120 s, ... with the defaults."""
    if settings.backoff_base_seconds <= 0:
        return 0
    return int(min(MAX_BACKOFF_SECONDS, settings.backoff_base_seconds * math.pow(2, max(attempts - 1, 0))))


def deliver(conn: Connection, settings: NotifySettings, notification_id: UUID) -> tuple[DeliveryOutcome, int]:
    """Deliver one outbox row at most once per claim; returns (outcome, attempts so far)."""
    row = repo.claim(conn, notification_id, settings.lease_seconds, settings.max_attempts)
    if row is None:
        logger.info("not claimable (sent, failed, in flight or exhausted)", extra={"id": str(notification_id)})
        return "skipped", 0
    note = Notification.model_validate(row)
    try:
        _sender(note.channel, settings).send(note)
    except Exception as exc:
        permanent = isinstance(exc, PermanentSendError)
        error = f"{type(exc).__name__}: {exc}"
        state = repo.release_failed(conn, note.id, error, settings.max_attempts, permanent)
        status = state["status"] if state else "failed"
        metrics.add_metric(name=f"notify_{note.channel}_failed", unit="Count", value=1)
        logger.warning(
            "send failed",
            extra={"id": str(note.id), "channel": note.channel, "attempt": note.attempts, "error": error[:200]},
        )
        return ("failed" if status == "failed" else "retry"), note.attempts
    if not repo.mark_sent(conn, note.id):  # the lease ran out mid-send and the row was handed out again
        logger.warning("sent after the lease expired", extra={"id": str(note.id)})
    metrics.add_metric(name=f"notify_{note.channel}_sent", unit="Count", value=1)
    return "sent", note.attempts


def handle_record(conn: Connection, settings: NotifySettings, record: Any) -> None:
    """One SQS record (body = notification id). Raises to report a retryable failure to SQS.

    Before raising, the message's visibility is set to the backoff, so the retry comes after
    base x 2^(attempts-1) seconds rather than after the queue's fixed visibility timeout.
    """
    try:
        notification_id = UUID(str(record.body).strip())
    except ValueError:
        logger.error("not a notification id; dropped", extra={"body": str(record.body)[:80]})
        return
    outcome, attempts = deliver(conn, settings, notification_id)
    if outcome != "retry":
        return
    if settings.notify_queue_url and getattr(record, "receipt_handle", None):
        try:
            aws.client("sqs", settings.aws_region).change_message_visibility(
                QueueUrl=settings.notify_queue_url,
                ReceiptHandle=record.receipt_handle,
                VisibilityTimeout=backoff_seconds(settings, attempts),
            )
        except Exception:  # the queue's own visibility timeout applies instead
            logger.warning("could not set the retry backoff", extra={"id": str(notification_id)})
    raise DeliveryFailed(str(notification_id))


# ---------------------------------------------------------------------------------------------- relay


def relay(conn: Connection, ctx: JobContext[NotifySettings]) -> dict[str, Any]:
    """The notify job's scheduled work: expire dead leases, fail exhausted rows, republish stragglers — over
    every org on the schedule, over the caller's org only on a manual run (``ctx.org_id``)."""
    settings = ctx.settings
    expired = repo.expire_leases(conn, ctx.org_id)
    failed = repo.fail_exhausted(conn, settings.max_attempts, ctx.org_id)
    due = repo.due_for_relay(conn, settings.relay_after_seconds, RELAY_BATCH, ctx.org_id)
    published = publish_pending(conn, settings, due) if due else 0
    if failed:
        metrics.add_metric(name="notify_failed_permanently", unit="Count", value=failed)
    return {"republished": published, "leases_expired": expired, "marked_failed": failed}
