"""Credentials in Secrets Manager: connector key pairs and budgets' Slack targets.

The API writes them and stores only the ARN; job functions read them. Nothing here returns or logs
a secret's value to a caller.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from snowwatch import aws
from snowwatch.observability import logger
from snowwatch.settings import JobSettings


def put_secret(settings: JobSettings, name: str, payload: dict[str, Any]) -> str:
    """Create or replace the secret ``name``; return its ARN (the only thing we store)."""
    client = aws.client("secretsmanager", settings.aws_region)
    body = json.dumps(payload)
    try:
        return str(client.create_secret(Name=name, SecretString=body)["ARN"])
    except client.exceptions.ResourceExistsException:
        return str(client.put_secret_value(SecretId=name, SecretString=body)["ARN"])


def delete_secret(settings: JobSettings, ref: str | None, owned_prefix: str) -> None:
    """Delete a secret we created (its name starts with ``owned_prefix``); one a customer brought
    stays theirs. A leftover secret is harmless, so a failure only logs."""
    if not ref or not ref.startswith("arn:") or owned_prefix not in ref:
        return
    try:
        aws.client("secretsmanager", settings.aws_region).delete_secret(SecretId=ref, RecoveryWindowInDays=7)
    except Exception:
        logger.warning("could not delete a secret", extra={"secret": ref.rsplit(":", 1)[-1]})


def put_connector_secret(settings: JobSettings, connector_id: UUID, payload: dict[str, str]) -> str:
    return put_secret(settings, f"{settings.connector_secret_prefix}{connector_id}", payload)


def delete_connector_secret(settings: JobSettings, secret_ref: str) -> None:
    delete_secret(settings, secret_ref, settings.connector_secret_prefix)


def read_connector_secret(settings: JobSettings, secret_ref: str) -> dict[str, str]:
    """Job functions only (the Snowflake client). Never logged."""
    return dict(json.loads(aws.secret(secret_ref, settings.aws_region)))
