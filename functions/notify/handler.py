"""The notify function.

SQS records of the notifications queue (body = an outbox notification id) -> Powertools
BatchProcessor: each record is delivered on its own; failures are reported as partial batch
failures, so only they come back. Anything else (a record of notify's job queue, a direct invoke)
runs the outbox relay through the shared job runner.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from snowwatch.db import get_connection
from snowwatch.observability import logger, metrics, tracer
from snowwatch.services import jobs, notifications
from snowwatch.settings import NotifySettings, get_settings

# All-failed batches are reported item by item too (not raised), so SQS retries exactly the failed ones.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings(NotifySettings)
    conn = get_connection(settings)
    if event.get("Records") and not jobs.is_job_batch(settings, "notify", event):
        return dict(
            process_partial_response(
                event=event,
                record_handler=partial(notifications.handle_record, conn, settings),
                processor=processor,
                context=context,
            )
        )
    return jobs.handle(conn, settings, "notify", event, notifications.relay)
