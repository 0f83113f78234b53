"""Fixtures shared by the integration modules (the stack-wide ones live in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def extracted(stack: Any) -> str:
    """The demo connector after one security run (extraction and rules); its id."""
    out = stack.run_job("security", connector_id=str(stack.connector_id))
    assert out["status"] == "succeeded", out
    return str(stack.connector_id)


def security_base(connector_id: str) -> str:
    """The security routes' prefix for a connector."""
    return f"/api/connectors/{connector_id}/security/snowflake"
