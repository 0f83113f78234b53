"""How a unit of job work reaches a job function: one mechanism for fan-out and manual runs.

In AWS: an asynchronous Lambda invoke of the job's function. Locally: the same handler run
in-process, on a thread (the local server) or inline (tests and the CLI).
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


def register_local(job: str, handler: LocalHandler) -> None:
    """Locally, which callable plays a job's Lambda function."""
    _local_handlers[job] = handler


def dispatch(settings: DispatchSettings, job: str, payload: dict[str, Any]) -> None:
    """Start ``job`` with ``payload`` without waiting for it."""
    body = json.loads(json.dumps(payload, default=str))
    if settings.dispatch_mode == "lambda":
        function = settings.job_functions.get(job)
        if not function:
            raise RuntimeError(f"no function configured for job {job!r} (JOB_FUNCTIONS)")
        aws.client("lambda", settings.aws_region).invoke(
            FunctionName=function, InvocationType="Event", Payload=json.dumps(body).encode()
        )
        return
    handler = _local_handlers.get(job)
    if handler is None:
        raise RuntimeError(f"no local handler registered for job {job!r}")
    if settings.dispatch_mode == "inline":
        handler(body, None)
        return
    thread = threading.Thread(target=_run_logged, args=(handler, job, body), name=f"job-{job}", daemon=True)
    with _threads_lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(thread)
    thread.start()


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
