"""Shared helpers of the cost integration tests: an isolated connector on the synthetic account."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from snowwatch_local import services
from snowwatch_local.stack import LocalStack, new_private_key_pem

TABLES = {
    "WAREHOUSE_METERING_HISTORY": "snowflake_warehouse_metering",
    "METERING_HISTORY": "snowflake_metering_history",
    "METERING_DAILY_HISTORY": "snowflake_daily_costs",
    "STORAGE_USAGE": "snowflake_storage_usage",
    "DATABASE_STORAGE_USAGE_HISTORY": "snowflake_database_storage",
    "TABLE_STORAGE_METRICS": "snowflake_table_storage",
    "WAREHOUSE_LOAD_HISTORY": "snowflake_warehouse_load",
    "QUERY_HISTORY": "snowflake_query_history",
}
# What each source holds, counted on its natural key (QUERY_HISTORY repeats rows: distinct QUERY_ID).
SOURCE_COUNTS = {
    "WAREHOUSE_METERING_HISTORY": "SELECT COUNT(*) FROM (SELECT DISTINCT WAREHOUSE_ID, START_TIME FROM {v})",
    "METERING_HISTORY": "SELECT COUNT(*) FROM (SELECT DISTINCT SERVICE_TYPE, ENTITY_ID, START_TIME FROM {v})",
    "METERING_DAILY_HISTORY": "SELECT COUNT(*) FROM (SELECT DISTINCT USAGE_DATE, SERVICE_TYPE FROM {v})",
    "STORAGE_USAGE": "SELECT COUNT(DISTINCT USAGE_DATE) FROM {v}",
    "DATABASE_STORAGE_USAGE_HISTORY": "SELECT COUNT(*) FROM (SELECT DISTINCT USAGE_DATE, DATABASE_ID FROM {v})",
    "TABLE_STORAGE_METRICS": "SELECT COUNT(DISTINCT ID) FROM {v}",
    "WAREHOUSE_LOAD_HISTORY": "SELECT COUNT(*) FROM (SELECT DISTINCT WAREHOUSE_NAME, START_TIME FROM {v})",
    "QUERY_HISTORY": "SELECT COUNT(DISTINCT QUERY_ID) FROM {v}",
}


def pg() -> Any:
    from snowwatch.db import get_connection
    from snowwatch.settings import JobSettings, get_settings

    return get_connection(get_settings(JobSettings))


@contextlib.contextmanager
def snowflake(stack: LocalStack) -> Iterator[Any]:
    assert stack.fakesnow is not None
    with contextlib.closing(services.snowflake_connection(stack.fakesnow)) as conn:
        yield conn.cursor()


def sf_rows(stack: LocalStack, sql: str) -> list[tuple[Any, ...]]:
    with snowflake(stack) as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def new_connector(stack: LocalStack, name: str, **overrides: Any) -> UUID:
    """A connector of the demo org on the synthetic account, isolated from other tests' data."""
    from snowwatch.services import connectors as connectors_service
    from snowwatch.settings import JobSettings, get_settings

    conn = pg()
    org = conn.run("SELECT org_id FROM enterprise.connectors WHERE id = :i", i=stack.connector_id)[0][0]
    connector_id = UUID(int=secrets.randbits(128) | (4 << 76))
    ref = connectors_service.put_secret(
        get_settings(JobSettings), org, connector_id, {"private_key": new_private_key_pem()}
    )
    values = {"timezone": "UTC", "backfill_days": 365, "credit_price": "3.00"} | overrides
    conn.run(
        """INSERT INTO enterprise.connectors (id, org_id, name, account_identifier, username, role_name, warehouse,
               secret_ref, credit_price, timezone, backfill_days)
           VALUES (:id, :org, :name, 'fakesnow', 'SNOWWATCH', 'SNOWWATCH_READER', 'SNOWWATCH_WH', :ref,
               CAST(:price AS numeric), :tz, :bf)""",
        id=connector_id,
        org=org,
        name=f"{name}-{connector_id.hex[:6]}",
        ref=ref,
        price=values["credit_price"],
        tz=values["timezone"],
        bf=values["backfill_days"],
    )
    return connector_id


def table_counts(connector_id: UUID) -> dict[str, int]:
    conn = pg()
    return {
        view: int(conn.run(f"SELECT count(*) FROM enterprise.{table} WHERE connector_id = :c", c=connector_id)[0][0])
        for view, table in TABLES.items()
    }


def source_counts(stack: LocalStack) -> dict[str, int]:
    return {
        view: int(sf_rows(stack, sql.format(v=f"SNOWFLAKE.ACCOUNT_USAGE.{view}"))[0][0])
        for view, sql in SOURCE_COUNTS.items()
    }


@contextlib.contextmanager
def rows_set_aside(keep: UUID, before: datetime) -> Iterator[None]:
    """The other connectors' raw query rows started before ``before`` held in a side table while the block runs,
    then put back into their days' partitions: the raw query table's daily partitions are shared by every
    connector, and a retention test drops whole days."""
    from snowwatch.db import transaction
    from snowwatch.repositories import query_partitions
    from snowwatch.services import query_retention

    conn = pg()
    with transaction(conn):
        conn.run("CREATE TABLE public.test_rows_aside (LIKE enterprise.snowflake_query_history)")
        conn.run(
            """WITH moved AS (DELETE FROM enterprise.snowflake_query_history WHERE connector_id <> :c
                              AND start_time < :b RETURNING *)
               INSERT INTO public.test_rows_aside SELECT * FROM moved""",
            c=keep,
            b=before,
        )
    try:
        yield
    finally:
        for (day,) in conn.run("SELECT DISTINCT (start_time AT TIME ZONE 'UTC')::date FROM public.test_rows_aside"):
            start = query_partitions.day_start(day)
            query_retention.prepare_window(conn, start, start + timedelta(days=1))
        with transaction(conn):
            conn.run("INSERT INTO enterprise.snowflake_query_history SELECT * FROM public.test_rows_aside")
            conn.run("DROP TABLE public.test_rows_aside")
