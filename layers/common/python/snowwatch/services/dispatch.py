"""How a unit of job work reaches a job function: one mechanism for fan-out and manual runs.

In AWS: an asynchronous Lambda invoke of the job's function. Locally: the same handler run
in-process, on a thread (the local server) or inline (tests and the CLI).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from snowwatch import aws
from snowwatch.observability import logger
from snowwatch.settings import JobSettings

LocalHandler = Callable[[dict[str, Any], Any], Any]

_local_handlers: dict[str, LocalHandler] = {}
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_pending: list[Future[Any]] = []


def register_local(job: str, handler: LocalHandler) -> None:
    """Locally, which callable plays a job's Lambda function."""
    _local_handlers[job] = handler


def _executor() -> ThreadPoolExecutor:
    global _pool  # noqa: PLW0603
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="job")
        return _pool


def dispatch(settings: JobSettings, job: str, payload: dict[str, Any]) -> None:
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
    future = _executor().submit(_run_logged, handler, job, body)
    _pending.append(future)


def _run_logged(handler: LocalHandler, job: str, body: dict[str, Any]) -> Any:
    try:
        return handler(body, None)
    except Exception:
        logger.exception("local job failed", extra={"job": job})
        return None


def wait_local(timeout: float | None = None) -> None:
    """Wait for local thread-dispatched jobs (graceful shutdown, tests)."""
    while _pending:
        _pending.pop().result(timeout=timeout)
