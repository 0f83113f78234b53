"""How a unit of job work reaches a job function: one mechanism for fan-out, continuations and
manual runs.

``sqs`` (AWS, and the local stack's SQS pump): one message on the job's queue (JOB_QUEUES); the
job function consumes it through its event source mapping (bounded by maximum concurrency,
redriven to the DLQ after repeated failures). ``thread``/``inline`` (locally): the same handler
run in-process, on a thread (the local server) or inline (tests and the CLI).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from snowwatch import aws
from snowwatch.observability import logger
from snowwatch.settings import DispatchSettings

LocalHandler = Callable[[dict[str, Any], Any], Any]

_local_handlers: dict[str, LocalHandler] = {}
# Local "thread" mode: daemon threads (a stopping local stack never waits on them past its grace period),
# at most LOCAL_CONCURRENCY at a time.
LOCAL_CONCURRENCY = 4
_slots = threading.BoundedSemaphore(LOCAL_CONCURRENCY)
_threads: list[threading.Thread] = []
_threads_lock = threading.Lock()
_inline_state = threading.local()


def register_local(job: str, handler: LocalHandler) -> None:
    """Locally, which callable plays a job's Lambda function."""
    _local_handlers[job] = handler


def dispatch(settings: DispatchSettings, job: str, payload: dict[str, Any]) -> None:
    """Start ``job`` with ``payload`` without waiting for it."""
    body = json.loads(json.dumps(payload, default=str))
    if settings.dispatch_mode == "sqs":
        queue = settings.job_queues.get(job)
        if not queue:
            raise RuntimeError(f"no queue configured for job {job!r} (JOB_QUEUES)")
        aws.client("sqs", settings.aws_region).send_message(QueueUrl=queue, MessageBody=json.dumps(body))
        return
    handler = _local_handlers.get(job)
    if handler is None:
        raise RuntimeError(f"no local handler registered for job {job!r}")
    if settings.dispatch_mode == "inline":
        _inline(handler, body)
        return
    thread = threading.Thread(target=_run_logged, args=(handler, job, body), name=f"job-{job}", daemon=True)
    with _threads_lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(thread)
    thread.start()


def _inline(handler: LocalHandler, body: dict[str, Any]) -> None:
    """Run now; but work dispatched from inside an inline run (a continuation, a fan-out's units) runs after
    that run returns, as a queue would deliver it: a chain of continuations never nests."""
    pending: list[tuple[LocalHandler, dict[str, Any]]] | None = getattr(_inline_state, "pending", None)
    if pending is not None:
        pending.append((handler, body))
        return
    _inline_state.pending = queue = [(handler, body)]
    try:
        while queue:
            run, event = queue.pop(0)
            run(event, None)
    finally:
        _inline_state.pending = None


def _run_logged(handler: LocalHandler, job: str, body: dict[str, Any]) -> None:
    with _slots:
        try:
            handler(body, None)
        except Exception:
            logger.exception("local job failed", extra={"job": job})


def wait_local(timeout: float | None = None) -> bool:
    """Wait, at most ``timeout`` seconds in all, for local thread-dispatched jobs; True when all finished."""
    deadline = None if timeout is None else time.monotonic() + timeout
    with _threads_lock:
        threads = list(_threads)
    for thread in threads:
        thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    with _threads_lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        return not _threads
