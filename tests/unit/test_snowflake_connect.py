"""The connector's login arguments bound what it downloads ahead of the result chunk being read."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from snowwatch.models.connectors import Connector
from snowwatch.settings import JobSettings
from snowwatch.snowflake.client import connect_args

_CONNECTOR = Connector(
    id=uuid4(), org_id=uuid4(), name="c", account_identifier="acme-xy12345", username="SNOWWATCH",
    role_name="SNOWWATCH_READER", warehouse="SNOWWATCH_WH", auth_method="password", secret_ref="ref", currency="USD",
    credit_price=Decimal("3"), storage_price_per_tb=Decimal("23"), currency_source="configured_price", timezone="UTC",
    backfill_days=90, status="active", last_sync_at=None, created_at=datetime.now(UTC), updated_at=datetime.now(UTC),
)  # fmt: skip


@pytest.mark.parametrize(("env", "threads"), [(None, 2), ("1", 1)])
def test_the_connector_prefetches_at_most_the_configured_chunks(
    monkeypatch: pytest.MonkeyPatch, env: str | None, threads: int
) -> None:
    """Given the job settings (SNOWFLAKE_PREFETCH_THREADS unset, or 1), when the login arguments are built, then the
    connector downloads at most that many result chunks ahead of the one being read (before: its default, 4, each
    chunk held in memory until read)."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/unused")
    if env is None:
        monkeypatch.delenv("SNOWFLAKE_PREFETCH_THREADS", raising=False)
    else:
        monkeypatch.setenv("SNOWFLAKE_PREFETCH_THREADS", env)

    args = connect_args(JobSettings(), _CONNECTOR, {"password": "pw"})

    assert args["client_prefetch_threads"] == threads


def test_a_prefetch_setting_out_of_range_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given SNOWFLAKE_PREFETCH_THREADS=0 or SYNC_WINDOW_ROWS=10, when the job settings load, then they are refused."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/unused")
    for name, value in (("SNOWFLAKE_PREFETCH_THREADS", "0"), ("SYNC_WINDOW_ROWS", "10")):
        with monkeypatch.context() as m:
            m.setenv(name, value)
            with pytest.raises(ValueError, match=name):
                JobSettings()
