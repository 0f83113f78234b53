"""The one way to get a boto3 client: cached per execution environment, and keyed on the endpoint
too (AWS_ENDPOINT_URL points the local stack and its tests at moto; a new local stack means a new
endpoint, so a cached client must not outlive it)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.config import Config


def client(service: str, region: str, timeout: float | None = None) -> Any:
    return _cached(service, region, timeout, os.environ.get("AWS_ENDPOINT_URL"))


@cache
def _cached(service: str, region: str, timeout: float | None, endpoint: str | None) -> Any:
    config = (
        Config(connect_timeout=timeout, read_timeout=timeout, retries={"mode": "standard", "max_attempts": 3})
        if timeout is not None
        else None
    )
    return boto3.client(service, region_name=region, config=config)


def secret(secret_id: str, region: str, max_age: int = 300, force_fetch: bool = False) -> str:
    """A Secrets Manager value through Powertools' parameters provider (cached for ``max_age`` seconds),
    on the same endpoint-keyed client as everything else."""
    value = _secrets_provider(client("secretsmanager", region)).get(secret_id, max_age=max_age, force_fetch=force_fetch)
    return value if isinstance(value, str) else bytes(value).decode()


@cache
def _secrets_provider(secrets_client: Any) -> Any:
    return SecretsProvider(boto3_client=secrets_client)
