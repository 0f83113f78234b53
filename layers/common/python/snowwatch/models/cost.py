"""Cost API contracts. Credits are always given; currency amounts use the rate named in
``currency_source`` (ORGANIZATION_USAGE when the sync could read it, else the connector's price)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from snowwatch.models.common import Day, Number, Page

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

# Which figure an answer reports (docs/cost.md, "Figures"): every total and every row of one answer is that figure.
Figure = Literal["billed", "used", "query", "storage"]
Source = Literal["raw", "rollup"]
RAW_FROM = (
    "the first local day whose raw query rows are kept: the sync deletes raw rows older than QUERY_RETENTION_DAYS "
    "(35 by default) once the daily rollups hold them; null while none was deleted"
)
SOURCE = (
    "where the rows come from. raw: single queries, from the raw query rows, so the window starts on raw_from at the "
    "earliest (a range reaching before it is clamped, and is empty when it ends before it); rollup: the per-day "
    "rollups, which cover days before raw_from too (a group's sample query text only from raw_from on)"
)
ROLLUPS_FROM = (
    "the first local day the daily rollups are kept for: the sync deletes rollup months older than "
    "ROLLUP_RETENTION_MONTHS (13 by default). An answer read from them starts its window there at the earliest (a "
    "range reaching before it is clamped, and is empty when it ends before it); null while none was deleted"
)
FIGURE = (
    "billed: credits used + the daily cloud-services adjustment (what Snowflake charges); used: CREDITS_USED "
    "(compute + cloud services, before the adjustment); query: credits attributed to queries (compute + billed "
    "cloud services, idle time excluded); storage: bytes x price per TB-month"
)


class SyncState(BaseModel):
    """Whether the connector's Snowflake data has been read at all: ``never`` means every figure is unknown (not 0)."""

    status: Literal["never", "synced"]
    last_sync_at: datetime | None


class Total(BaseModel):
    """A breakdown's own total: its rows' credits and amounts add up to exactly these (to the cent)."""

    credits: Number
    amount: Number


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


class CostAnswer(BaseModel):
    """What every cost answer says first: which figure it reports, whether the data is synced, its money."""

    figure: Figure
    sync: SyncState
    money: Money


class WindowedAnswer(CostAnswer):
    window: Window


class RollupAnswer(WindowedAnswer):
    """An answer over the daily rollups, which are kept for ROLLUP_RETENTION_MONTHS."""

    rollups_from: date | None = Field(description=ROLLUPS_FROM)


class RawAnswer(RollupAnswer):
    """An answer over raw query rows, which are kept for a window (QUERY_RETENTION_DAYS), or their rollups."""

    raw_from: date | None = Field(description=RAW_FROM)
    source: Source = Field(description=SOURCE)


class MonthForecast(BaseModel):
    """Month-end forecast (figure: used), computed by the budgets' pass (services/forecast.py)."""

    figure: Figure = "used"
    month: str
    month_to_date_credits: Number
    forecast_credits: Number
    forecast_amount: Number
    days_elapsed: int
    days_in_month: int
    method: str


class Overview(RollupAnswer):
    figure: Figure = Field(description=FIGURE)
    credits: Number = Field(description="credits used in the window (METERING_HISTORY)")
    credits_billed: Number = Field(description="the headline: credits used + the cloud-services adjustment")
    amount: Number = Field(description="credits_billed x money.credit_price")
    previous_credits: Number | None = Field(description="billed credits of the previous period of the same length")
    previous_complete: bool = Field(description="false when data starts after the previous period's first day")
    change_pct: Number | None = Field(description="omitted (null) when the previous period is partial or zero")
    by_service_type: list[Amount] = Field(description="billed per service type: sums exactly to the headline")
    warehouses: Total = Field(description="billed credits of all warehouses (WAREHOUSE_METERING)")
    top_warehouses: list[Amount] = Field(description="top 5 warehouses billed, then 'other': sums to `warehouses`")
    forecast: MonthForecast


class DailyPoint(BaseModel):
    day: date
    key: str
    credits: Number
    credits_compute: Number
    credits_cloud_services: Number
    amount: Number


class Daily(RollupAnswer):
    group_by: str
    total: Total
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


class Warehouses(RollupAnswer):
    total: Total
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


class Storage(WindowedAnswer):
    storage_price_per_tb: Number
    monthly_amount: Number
    trend: list[StorageDay]
    databases: list[DatabaseStorage]
    tables: Page[TableStorage]


FindingState = Literal["open", "dismissed", "snoozed"]


class FindingQuery(BaseModel):
    """A query behind a query-level finding, with the figures that put it there."""

    query_id: str
    query_parameterized_hash: str | None
    user_name: str | None
    start_time: datetime
    credits: Number
    bytes_scanned: int
    bytes_spilled_to_remote_storage: int
    partitions_scanned: int
    partitions_total: int
    percentage_scanned_from_cache: float


class Finding(BaseModel):
    id: UUID | None = Field(description="set once a sync has recorded the finding (dismiss/snooze it by this id)")
    key: str = Field(description="kind:subject, stable across syncs")
    kind: str
    subject: str
    severity: Literal["high", "medium", "low"]
    title: str
    evidence: dict[str, object]
    recommendation: str
    sql: str | None = Field(description="the exact statement(s) to run in Snowflake (snowwatch never runs them)")
    claim: str | None = Field(description="the credits this saving comes from: findings with one claim count once")
    counted: bool = Field(description="false when another finding with the same claim (or a dismissal) counts instead")
    estimated_monthly_savings_credits: Number
    estimated_monthly_savings: Number
    state: FindingState = "open"
    state_reason: str | None = None
    snoozed_until: date | None = None
    queries: list[FindingQuery] = Field(default_factory=list)


class Waste(BaseModel):
    sync: SyncState
    money: Money
    window: Window
    total_estimated_monthly_savings: Number = Field(description="counted, open findings only: each claim once")
    total_estimated_monthly_savings_credits: Number
    findings: list[Finding]


class FindingStateIn(BaseModel):
    """Dismiss a finding (it stays listed, not counted), snooze it until a day, or reopen it."""

    state: FindingState
    reason: str | None = Field(default=None, max_length=500)
    until: Day | None = Field(default=None, description="snooze: the last day it stays snoozed")

    @model_validator(mode="after")
    def _snooze_has_until(self) -> FindingStateIn:
        if self.state == "snoozed" and self.until is None:
            raise ValueError("a snooze needs `until`")
        if self.state != "open" and not (self.reason or "").strip():
            raise ValueError("dismissing or snoozing needs a reason")
        return self


class FindingStateOut(BaseModel):
    id: UUID
    finding_key: str
    kind: str
    subject: str
    state: FindingState
    state_reason: str | None
    snoozed_until: date | None
    state_at: datetime | None
    resolved_at: datetime | None


class SavedFinding(BaseModel):
    id: UUID
    kind: str
    subject: str
    resolved_at: datetime
    hours_measured: int
    baseline_credits: Number = Field(description="expected credits of those hours: 4-week mean per weekday and hour")
    actual_credits: Number
    credits_saved: Number
    amount_saved: Number
    baseline_complete: bool = Field(description="false when the warehouse has less than 4 weeks before resolution")
    measured_at: datetime = Field(description="the full sync that measured it (up to the last metered hour)")


class Savings(CostAnswer):
    method: str
    total: Total
    findings: list[SavedFinding]


class QueryFigures(BaseModel):
    """A group of queries' figures (a query, a hash, a tag, a model, a user or a role)."""

    queries: int
    elapsed_ms: int
    credits_compute: Number
    credits_cloud_services: Number = Field(description=CS_BILLED)
    credits_cloud_services_used: Number = Field(description=CS_USED)
    credits: Number = Field(description=CREDITS)
    amount: Number


class QueryCost(QueryFigures):
    key: str
    query_text: str | None
    user_name: str | None = None
    role_name: str | None = None
    warehouse_name: str | None = None
    start_time: datetime | None = None
    cost_method: str | None = None


class Queries(RawAnswer):
    group_by: str
    total: Total
    page: Page[QueryCost]


class Attribution(RawAnswer):
    """Query credits by query tag or by dbt model (services/attribution.py); key '' = queries without one."""

    by: Literal["query_tag", "dbt_model"]
    total: Total = Field(description="every query of the window: the rows of every page add up to it")
    attributed: Total = Field(description="the part with a tag (or a model)")
    page: Page[QueryCost]


class UserCost(QueryFigures):
    user_name: str | None
    role_name: str | None


class Users(RawAnswer):
    group_by: str
    total: Total
    page: Page[UserCost]


class Driver(BaseModel):
    """A key's contribution to an anomaly's excess (its credits on the day - its share of the baseline)."""

    dimension: Literal["service_type", "warehouse", "user", "query_hash"]
    key: str
    credits: Number = Field(description="contribution to the excess; a dimension's rows add up to excess_credits")
    share: Number = Field(description="credits / excess_credits")


class Anomaly(BaseModel):
    day: date
    credits: Number
    baseline_median: Number
    baseline_mad: Number
    score: Number
    direction: Literal["above", "below"]
    amount: Number
    excess_credits: Number = Field(default=Decimal(0), description="credits - baseline_median")
    drivers: list[Driver] = Field(default_factory=list)


class Anomalies(WindowedAnswer):
    method: str
    items: list[Anomaly]


class Forecast(CostAnswer):
    month: MonthForecast
    daily_run_rate_credits: Number


class BudgetCounts(BaseModel):
    active: int
    over: int = Field(description="spent past their amount this period")
    forecast_over: int = Field(description="forecast past their amount by period end")


class OpenAlerts(BaseModel):
    critical: int
    high: int


class OrgConnector(BaseModel):
    """One connector of the org: month to date and forecast in credits used, in its currency when priced."""

    connector_id: UUID
    name: str
    sync: SyncState
    currency: str
    currency_source: CurrencySource
    evaluated_at: datetime | None = Field(description="when the hourly budget check last evaluated its month")
    month_to_date_credits: Number
    month_to_date_amount: Number
    forecast_credits: Number
    forecast_amount: Number
    budgets: BudgetCounts
    security_score: int | None = Field(description="null until the connector's security has been evaluated")
    open_alerts: OpenAlerts


class CurrencyTotal(BaseModel):
    currency: str
    connectors: int
    month_to_date_amount: Number
    forecast_amount: Number


class OrgTotals(BaseModel):
    """Every connector of the org (not only this page)."""

    connectors: int
    never_synced: int
    month_to_date_credits: Number
    forecast_credits: Number
    currency: str | None = Field(description="the one currency of every connector; null when they differ")
    month_to_date_amount: Number | None = Field(description="null when connectors use different currencies")
    forecast_amount: Number | None
    by_currency: list[CurrencyTotal] = Field(description="amounts per currency, never summed across currencies")
    budgets: BudgetCounts
    open_alerts: OpenAlerts


class OrgOverview(BaseModel):
    figure: Figure
    month: str
    method: str
    totals: OrgTotals
    page: Page[OrgConnector]
