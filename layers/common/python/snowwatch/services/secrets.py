"""Connector credentials in Secrets Manager. The key material is written, never read back by the API."""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from uuid import UUID

import boto3

from snowwatch.settings import JobSettings


@cache
def _client(region: str) -> Any:
    return boto3.client("secretsmanager", region_name=region)


def put_connector_secret(settings: JobSettings, connector_id: UUID, payload: dict[str, str]) -> str:
    """Create or replace the connector's secret; return its ARN (the only thing we store)."""
    client = _client(settings.aws_region)
    name = f"{settings.connector_secret_prefix}{connector_id}"
    body = json.dumps(payload)
    try:
        return str(client.create_secret(Name=name, SecretString=body)["ARN"])
    except client.exceptions.ResourceExistsException:
        return str(client.put_secret_value(SecretId=name, SecretString=body)["ARN"])


def read_connector_secret(settings: JobSettings, secret_ref: str) -> dict[str, str]:
    """Job functions only (the Snowflake client). Never logged."""
    from aws_lambda_powertools.utilities.parameters import get_secret

    value = get_secret(secret_ref, max_age=300)
    return dict(json.loads(value if isinstance(value, str) else value.decode()))


def delete_connector_secret(settings: JobSettings, secret_ref: str) -> None:
    if not secret_ref.startswith("arn:") or settings.connector_secret_prefix not in secret_ref:
        return  # a secret the customer brought is theirs to delete
    _client(settings.aws_region).delete_secret(SecretId=secret_ref, RecoveryWindowInDays=7)
