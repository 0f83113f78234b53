"""Cost API contracts. Credits are always given; currency amounts use the rate named in
``currency_source`` (ORGANIZATION_USAGE when the sync could read it, else the connector's price)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from snowwatch.models.common import Number, Page

CurrencySource = Literal["configured_price", "organization_usage"]
Period = Literal["7d", "30d", "90d", "mtd", "qtd", "ytd"]

# Per-query cloud services (queries and users endpoints): billed vs used.
CS_BILLED = (
    "Billed cloud-services credits: each query's CREDITS_USED_CLOUD_SERVICES x the billed fraction of its UTC day, "
    "max(0, used + adjustment) / used from METERING_DAILY_HISTORY's WAREHOUSE_METERING row (1 when the day has no "
    "row yet)"
)
CS_USED = "Raw CREDITS_USED_CLOUD_SERVICES of the queries, before the daily 10% cloud-services adjustment"
CREDITS = "credits_compute + credits_cloud_services (billed)"


class Money(BaseModel):
    """How currency figures in this answer were computed."""

    currency: str
    currency_source: CurrencySource
    credit_price: Number  # currency per credit used for the amounts below
    timezone: str


class Window(BaseModel):
    start: date
    end: date


class Amount(BaseModel):
    key: str
    credits: Number
    amount: Number


class MonthForecast(BaseModel):
    month: str
    month_to_date_credits: Number
    forecast_credits: Number
    forecast_amount: Number
    days_elapsed: int
    days_in_month: int
    method: str


class Overview(BaseModel):
    money: Money
    window: Window
    credits: Number
    credits_billed: Number
    amount: Number
    previous_credits: Number
    change_pct: Number | None
    by_service_type: list[Amount]
    top_warehouses: list[Amount]
    forecast: MonthForecast


class DailyPoint(BaseModel):
    day: date
    key: str
    credits: Number
    credits_compute: Number
    credits_cloud_services: Number
    amount: Number


class Daily(BaseModel):
    money: Money
    window: Window
    group_by: str
    items: list[DailyPoint]


class WarehouseCost(BaseModel):
    warehouse_name: str
    credits: Number
    credits_compute: Number
    credits_cloud_services: Number
    credits_attributed_queries: Number
    idle_credits: Number
    idle_share: Number | None
    amount: Number
    idle_amount: Number
    utilisation: Number | None
    avg_queued_load: Number | None
    size: str | None = None
    auto_suspend: int | None = None
    min_cluster_count: int | None = None
    max_cluster_count: int | None = None
    resource_monitor: str | None = None


class Warehouses(BaseModel):
    money: Money
    window: Window
    page: Page[WarehouseCost]


class StorageDay(BaseModel):
    day: date
    storage_bytes: int
    stage_bytes: int
    failsafe_bytes: int
    hybrid_table_storage_bytes: int
    total_bytes: int
    amount: Number


class DatabaseStorage(BaseModel):
    database_name: str
    database_bytes: int
    failsafe_bytes: int
    monthly_amount: Number


class TableStorage(BaseModel):
    table: str
    is_transient: bool
    active_bytes: int
    time_travel_bytes: int
    failsafe_bytes: int
    retained_for_clone_bytes: int
    total_bytes: int
    monthly_amount: Number
    last_read_at: datetime | None


class Storage(BaseModel):
    money: Money
    window: Window
    storage_price_per_tb: Number
    monthly_amount: Number
    trend: list[StorageDay]
    databases: list[DatabaseStorage]
    tables: Page[TableStorage]


class Finding(BaseModel):
    kind: str
    subject: str
    severity: Literal["high", "medium", "low"]
    title: str
    evidence: dict[str, object]
    recommendation: str
    estimated_monthly_savings_credits: Number
    estimated_monthly_savings: Number


class Waste(BaseModel):
    money: Money
    window: Window
    total_estimated_monthly_savings: Number
    findings: list[Finding]


class QueryCost(BaseModel):
    key: str
    query_text: str | None
    user_name: str | None = None
    role_name: str | None = None
    warehouse_name: str | None = None
    start_time: datetime | None = None
    queries: int
    elapsed_ms: int
    credits_compute: Number
    credits_cloud_services: Number = Field(description=CS_BILLED)
    credits_cloud_services_used: Number = Field(description=CS_USED)
    credits: Number = Field(description=CREDITS)
    amount: Number
    cost_method: str | None = None


class Queries(BaseModel):
    money: Money
    window: Window
    group_by: str
    page: Page[QueryCost]


class UserCost(BaseModel):
    user_name: str | None
    role_name: str | None
    queries: int
    elapsed_ms: int
    credits_compute: Number
    credits_cloud_services: Number = Field(description=CS_BILLED)
    credits_cloud_services_used: Number = Field(description=CS_USED)
    credits: Number = Field(description=CREDITS)
    amount: Number


class Users(BaseModel):
    money: Money
    window: Window
    group_by: str
    page: Page[UserCost]


class Anomaly(BaseModel):
    day: date
    credits: Number
    baseline_median: Number
    baseline_mad: Number
    score: Number
    direction: Literal["above", "below"]
    amount: Number


class Anomalies(BaseModel):
    money: Money
    window: Window
    method: str
    items: list[Anomaly]


class Forecast(BaseModel):
    money: Money
    month: MonthForecast
    daily_run_rate_credits: Number
