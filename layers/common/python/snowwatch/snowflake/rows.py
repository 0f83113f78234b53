"""Named row types of the ACCOUNT_USAGE views the cost sync reads: one per view, its fields the target
table's columns in load order (``_fields``), built from a source row by :func:`from_source`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar


class WarehouseMeteringRow(NamedTuple):
    """ACCOUNT_USAGE.WAREHOUSE_METERING_HISTORY -> enterprise.snowflake_warehouse_metering."""

    warehouse_id: int | None
    warehouse_name: str | None
    start_time: datetime
    end_time: datetime | None
    credits_used: Decimal | None
    credits_used_compute: Decimal | None
    credits_used_cloud_services: Decimal | None
    credits_attributed_compute_queries: Decimal | None


class MeteringRow(NamedTuple):
    """ACCOUNT_USAGE.METERING_HISTORY -> enterprise.snowflake_metering_history."""

    service_type: str | None
    entity_id: int | None
    entity_type: str | None
    name: str | None
    start_time: datetime
    end_time: datetime | None
    credits_used_compute: Decimal | None
    credits_used_cloud_services: Decimal | None
    credits_used: Decimal | None


class MeteringDailyRow(NamedTuple):
    """ACCOUNT_USAGE.METERING_DAILY_HISTORY -> enterprise.snowflake_daily_costs."""

    usage_date: date
    service_type: str | None
    credits_used_compute: Decimal | None
    credits_used_cloud_services: Decimal | None
    credits_used: Decimal | None
    credits_adjustment_cloud_services: Decimal | None
    credits_billed: Decimal | None


class StorageUsageRow(NamedTuple):
    """ACCOUNT_USAGE.STORAGE_USAGE -> enterprise.snowflake_storage_usage."""

    usage_date: date
    storage_bytes: int | None
    stage_bytes: int | None
    failsafe_bytes: int | None
    hybrid_table_storage_bytes: int | None


class DatabaseStorageRow(NamedTuple):
    """ACCOUNT_USAGE.DATABASE_STORAGE_USAGE_HISTORY -> enterprise.snowflake_database_storage."""

    usage_date: date
    database_id: int | None
    database_name: str | None
    deleted: Any  # a timestamp (databases) or a flag (tables)
    average_database_bytes: int | None
    average_failsafe_bytes: int | None


class TableStorageRow(NamedTuple):
    """ACCOUNT_USAGE.TABLE_STORAGE_METRICS -> enterprise.snowflake_table_storage."""

    table_id: int | None
    table_catalog: str | None
    table_schema: str | None
    table_name: str | None
    is_transient: bool | None
    active_bytes: int | None
    time_travel_bytes: int | None
    failsafe_bytes: int | None
    retained_for_clone_bytes: int | None
    deleted: Any  # a timestamp (databases) or a flag (tables)
    table_created: datetime | None
    table_dropped: datetime | None


class QueryRow(NamedTuple):
    """ACCOUNT_USAGE.QUERY_HISTORY -> enterprise.snowflake_query_history."""

    query_id: str
    query_text: str | None
    query_type: str | None
    user_name: str | None
    role_name: str | None
    warehouse_id: int | None
    warehouse_name: str | None
    warehouse_size: str | None
    query_tag: str | None
    execution_status: str | None
    error_code: str | None
    start_time: datetime
    end_time: datetime | None
    total_elapsed_time: int
    execution_time: int
    compilation_time: int
    queued_provisioning_time: int
    queued_repair_time: int
    queued_overload_time: int
    list_external_files_time: int
    bytes_scanned: int | None
    percentage_scanned_from_cache: Decimal | float | None
    partitions_scanned: int | None
    partitions_total: int | None
    bytes_spilled_to_local_storage: int | None
    bytes_spilled_to_remote_storage: int | None
    rows_produced: int | None
    credits_used_cloud_services: Decimal | None
    query_hash: str | None
    query_parameterized_hash: str | None
    dbt_comment: str | None
    tag_key: str | None
    dbt_model: str | None


class QueryAttributionRow(NamedTuple):
    """ACCOUNT_USAGE.QUERY_ATTRIBUTION_HISTORY -> enterprise.snowflake_query_history."""

    query_id: str
    warehouse_id: int | None
    warehouse_name: str | None
    query_hash: str | None
    query_parameterized_hash: str | None
    query_tag: str | None
    user_name: str | None
    start_time: datetime
    end_time: datetime | None
    credits_attributed_compute: Decimal | None
    credits_used_query_acceleration: Decimal | None


# What QUERY_ATTRIBUTION_HISTORY gives a stored query (the rest of its columns are QUERY_HISTORY's too): it only sets
# these (and cost_method 'attribution') on rows QUERY_HISTORY loaded (or will load).
ATTRIBUTION_CREDITS = ("credits_attributed_compute", "credits_used_query_acceleration")


class WarehouseLoadRow(NamedTuple):
    """ACCOUNT_USAGE.WAREHOUSE_LOAD_HISTORY -> enterprise.snowflake_warehouse_load."""

    warehouse_name: str | None
    start_time: datetime
    avg_running: Decimal | float | None
    avg_queued_load: Decimal | float | None
    avg_queued_provisioning: Decimal | float | None
    avg_blocked: Decimal | float | None


Row = TypeVar("Row", bound=tuple[Any, ...])


def _flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    return str(value).upper() in ("YES", "TRUE", "Y", "1")


def from_source(row_type: type[Row], source: Mapping[str, Any]) -> Row:
    """The named row of ``row_type`` from a source row (upper-case keys)."""
    fields: tuple[str, ...] = getattr(row_type, "_fields")  # noqa: B009 - NamedTuple classes
    values = [source.get(f.upper()) for f in fields]
    if row_type is TableStorageRow:
        values[fields.index("is_transient")] = _flag(values[fields.index("is_transient")])
        deleted = values[fields.index("deleted")]
        values[fields.index("deleted")] = bool(deleted) if deleted is not None else False
    make: Any = row_type  # a NamedTuple class: positional fields
    built: Row = make(*values)
    return built
