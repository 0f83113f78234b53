"""QUERY_HISTORY through the connector's Arrow batches: the same rows, to the column, as through dict rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector, pg, source_counts, table_counts

pytestmark = pytest.mark.integration


def _stored(connector_id: Any) -> list[tuple[Any, ...]]:
    """Every column of every stored query row but the connector, in query_id order."""
    conn = pg()
    names = [
        r[0]
        for r in conn.run(
            """SELECT column_name FROM information_schema.columns
               WHERE table_schema = 'enterprise' AND table_name = 'snowflake_query_history'
                 AND column_name <> 'connector_id' ORDER BY ordinal_position"""
        )
    ]
    rows = conn.run(
        f"SELECT {', '.join(names)} FROM enterprise.snowflake_query_history WHERE connector_id = :c ORDER BY query_id",
        c=connector_id,
    )
    return [tuple(zip(names, row, strict=True)) for row in rows]


def test_arrow_path_loads_every_column_as_the_dict_path(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given two connectors on the synthetic account, when one syncs through the Arrow batches and the other
    through the dict rows (the connector cannot give Arrow: the fallback), then every column of every stored
    query row is equal, attribution keys and QUERY_ATTRIBUTION_HISTORY's attributions included, and the Arrow path
    did read the windows of both query views."""
    from snowflake.connector import errors as sf_errors

    from snowwatch.snowflake.client import SnowflakeSession

    real = SnowflakeSession.fetch_arrow_batches
    arrow_rows = [0]
    attribution_rows = [0]

    def counted(self: SnowflakeSession, sql: str, params: Any = None) -> Iterator[Any]:
        for table in real(self, sql, params):
            arrow_rows[0] += table.num_rows
            if "QUERY_ATTRIBUTION_HISTORY" in sql:
                attribution_rows[0] += table.num_rows
            yield table

    monkeypatch.setattr(SnowflakeSession, "fetch_arrow_batches", counted)
    arrow_cid = new_connector(stack, "sync-arrow")
    assert stack.run_job("sync", connector_id=arrow_cid)["status"] == "succeeded"
    assert arrow_rows[0] >= source_counts(stack)["QUERY_HISTORY"] > 0
    assert attribution_rows[0] > 0  # QUERY_ATTRIBUTION_HISTORY through the Arrow batches too

    def unsupported(self: SnowflakeSession, sql: str, params: Any = None) -> Iterator[Any]:
        raise sf_errors.NotSupportedError("no Arrow result format")
        yield  # a generator, as the real one

    monkeypatch.setattr(SnowflakeSession, "fetch_arrow_batches", unsupported)
    dict_cid = new_connector(stack, "sync-dicts")
    assert stack.run_job("sync", connector_id=dict_cid)["status"] == "succeeded"

    arrow, dicts = _stored(arrow_cid), _stored(dict_cid)
    assert table_counts(arrow_cid)["QUERY_HISTORY"] == source_counts(stack)["QUERY_HISTORY"]
    assert len(arrow) == len(dicts) > 0
    for a, d in zip(arrow, dicts, strict=True):
        assert a == d
    assert any(dict(r)["tag_key"] for r in arrow) and any(dict(r)["dbt_model"] for r in arrow)  # parsing ran
    assert any(dict(r)["cost_method"] == "attribution" for r in arrow)

    # And when the Arrow connector syncs again (the unsettled day re-read: the temp-table upsert), nothing changes.
    monkeypatch.setattr(SnowflakeSession, "fetch_arrow_batches", counted)
    before = arrow_rows[0]
    assert stack.run_job("sync", connector_id=arrow_cid)["status"] == "succeeded"
    assert arrow_rows[0] > before
    assert _stored(arrow_cid) == arrow


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_zoned_timestamps_reach_postgres_as_the_same_instants(stack: LocalStack, unit: str) -> None:
    """Given an Arrow table whose timestamp columns carry a zone (UTC, and one at +05:30), with nulls, in any unit
    When it is COPied through db/arrow_copy's CSV into a timestamptz table, in a session whose TimeZone is not UTC
    Then every value is the same instant (to the microsecond) and every null stays null."""
    from datetime import UTC, datetime, timedelta

    import pyarrow as pa

    from snowwatch.db import transaction
    from snowwatch.db.arrow_copy import csv_chunks

    base = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)
    values = [base + timedelta(hours=h, microseconds=h) for h in range(3)] + [None]
    if unit in ("s", "ms"):
        values = [v.replace(microsecond=0) if v else None for v in values]
    table = pa.table(
        {
            "n": pa.array(range(4), pa.int64()),
            "a": pa.array(values, pa.timestamp(unit, tz="UTC")),
            "b": pa.array(values, pa.timestamp(unit, tz="Asia/Kolkata")),
        }
    )
    conn = pg()
    with transaction(conn):
        conn.run("SET LOCAL TimeZone = 'America/Los_Angeles'")
        conn.run("CREATE TEMP TABLE zoned (n bigint, a timestamptz, b timestamptz) ON COMMIT DROP")
        conn.run("COPY zoned (n, a, b) FROM STDIN WITH (FORMAT csv, NULL '\\N')", stream=csv_chunks(table))
        stored = conn.run("SELECT a, b FROM zoned ORDER BY n")
    assert [tuple(r) for r in stored] == [(v, v) for v in values]
