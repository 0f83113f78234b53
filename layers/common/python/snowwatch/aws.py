"""The one way to get a boto3 client: cached per execution environment, and keyed on the endpoint
too (AWS_ENDPOINT_URL points the local stack and its tests at moto; a new local stack means a new
endpoint, so a cached client must not outlive it)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
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
