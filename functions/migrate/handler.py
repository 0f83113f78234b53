"""Applies the database migrations on deploy (a CDK Trigger runs it after the database is up)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from snowwatch.db import migrate
from snowwatch.observability import logger
from snowwatch.settings import MigrateSettings, get_settings


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings(MigrateSettings)
    applied = migrate.apply(settings, settings.connect_attempts, settings.connect_pause_seconds)
    logger.info("migrations applied", extra={"applied": applied})
    return {"applied": applied}
