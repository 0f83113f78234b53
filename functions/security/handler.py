"""The security job function: parse the event, run one unit of work through the shared job runner."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from snowwatch.db import get_connection
from snowwatch.observability import logger, metrics, tracer
from snowwatch.services import jobs
from snowwatch.services.security import run_security
from snowwatch.settings import JobSettings, get_settings


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings(JobSettings)
    return jobs.handle(get_connection(settings), settings, "security", event, run_security, context)
