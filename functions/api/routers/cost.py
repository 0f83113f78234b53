"""The cost routes (see snowwatch.routes): GETs cached at the stage per the route table; one admin PUT (findings)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from routers._context import caller, conn, connector
from snowwatch.models.common import Day
from snowwatch.models.cost import (
    Anomalies,
    Attribution,
    Daily,
    FindingStateIn,
    FindingStateOut,
    Forecast,
    Overview,
    Queries,
    Savings,
    Storage,
    Users,
    Warehouses,
    Waste,
)
from snowwatch.routes import path_of
from snowwatch.services import cost, cost_queries, savings, waste

router = Router()

Start = Annotated[Day | None, Query(description="First local day (connector timezone); default: 29 days before end")]
End = Annotated[Day | None, Query(description="Last local day, inclusive; default: today")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


@router.get(path_of("cost_overview"), summary="Billed totals, change vs previous period, services, top warehouses")
def overview(
    connector_id: str,
    period: Annotated[Literal["7d", "30d", "90d", "mtd", "qtd", "ytd"], Query()] = "30d",
    start: Annotated[Day | None, Query(description="First local day; with end, replaces period")] = None,
    end: Annotated[Day | None, Query(description="Last local day, inclusive; with start, replaces period")] = None,
) -> Overview:
    return cost.overview(conn(router), connector(router), period, start=start, end=end)


@router.get(path_of("cost_daily"), summary="Credits per local day, by service type or warehouse")
def daily(
    connector_id: str,
    start: Start = None,
    end: End = None,
    group_by: Annotated[Literal["service_type", "warehouse", "total"], Query()] = "service_type",
) -> Daily:
    return cost.daily(conn(router), connector(router), start, end, group_by)


@router.get(path_of("cost_warehouses"), summary="Per warehouse: credits, idle cost, utilisation, configuration")
def warehouses(
    connector_id: str, start: Start = None, end: End = None, limit: Limit = 50, offset: Offset = 0
) -> Warehouses:
    return cost.warehouses(conn(router), connector(router), start, end, limit, offset)


@router.get(path_of("cost_storage"), summary="Storage trend, per database, top tables, monthly cost")
def storage(connector_id: str, start: Start = None, end: End = None, limit: Limit = 50, offset: Offset = 0) -> Storage:
    return cost.storage(conn(router), connector(router), start, end, limit, offset)


@router.get(path_of("cost_waste"), summary="Waste findings with evidence and estimated monthly savings")
def waste_findings(connector_id: str, start: Start = None, end: End = None) -> Waste:
    return waste.waste(conn(router), connector(router), start, end)


@router.get(path_of("cost_queries"), summary="Top queries by cost, or by parameterized hash, query tag or dbt model")
def queries(
    connector_id: str,
    start: Start = None,
    end: End = None,
    group_by: Annotated[Literal["query", "parameterized_hash", "query_tag", "dbt_model"], Query()] = "query",
    limit: Limit = 50,
    offset: Offset = 0,
    warehouse: Annotated[
        str | None, Query(min_length=1, max_length=255, description="single queries of one warehouse")
    ] = None,
) -> Queries:
    return cost_queries.queries(conn(router), connector(router), start, end, group_by, limit, offset, warehouse)


@router.get(path_of("cost_users"), summary="Cost by user or by role")
def users(
    connector_id: str,
    start: Start = None,
    end: End = None,
    group_by: Annotated[Literal["user", "role"], Query()] = "user",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Users:
    return cost_queries.users(conn(router), connector(router), start, end, group_by, limit, offset)


@router.get(path_of("cost_anomalies"), summary="Days far outside a robust baseline of the previous 28 days")
def anomalies(connector_id: str, start: Start = None, end: End = None) -> Anomalies:
    return cost.anomalies(conn(router), connector(router), start, end)


@router.get(path_of("cost_forecast"), summary="Month-end forecast from month-to-date spend and the recent run rate")
def forecast(connector_id: str) -> Forecast:
    return cost.forecast(conn(router), connector(router))


@router.get(path_of("cost_savings"), summary="Credits saved since findings were resolved, against a 4-week baseline")
def savings_made(connector_id: str) -> Savings:
    return savings.savings(conn(router), connector(router))


@router.put(path_of("cost_finding_state"), summary="Dismiss, snooze (until a day) or reopen a finding (admin)")
def finding_state(connector_id: str, finding_id: str, body: Annotated[FindingStateIn, Body()]) -> FindingStateOut:
    return savings.set_state(conn(router), connector(router), finding_id, body, caller(router).user_id)


@router.get(
    path_of("cost_attribution"), summary="Query credits by query tag or by dbt model (tag JSON and dbt comment)"
)
def attribution(
    connector_id: str,
    by: Annotated[Literal["query_tag", "dbt_model"], Query()] = "dbt_model",
    start: Start = None,
    end: End = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Attribution:
    return cost_queries.attribution(conn(router), connector(router), start, end, by, limit, offset)
