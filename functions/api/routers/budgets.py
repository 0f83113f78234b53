"""The budgets routes (see snowwatch.routes). Members read, admins write (enforced by the route table)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from routers._context import caller, conn, connector, settings
from snowwatch.models.budgets import BudgetAlertOut, BudgetIn, BudgetOut, BudgetSnapshotOut
from snowwatch.models.common import Day, Page
from snowwatch.routes import path_of
from snowwatch.services import budgets

router = Router()


@router.get(path_of("budgets_list"), summary="The connector's budgets with where each stands this period")
def list_budgets(
    connector_id: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[BudgetOut]:
    return budgets.list_(conn(router), connector(router), limit, offset)


@router.post(path_of("budgets_create"), summary="Create a budget (admin); a Slack credential goes to Secrets Manager")
def create_budget(connector_id: str, body: Annotated[BudgetIn, Body()]) -> tuple[BudgetOut, int]:
    return budgets.create(conn(router), connector(router), body, settings(router), caller(router).user_id), 201


@router.get(path_of("budgets_get"), summary="One budget with its current period's spend and forecast")
def get_budget(connector_id: str, budget_id: str) -> BudgetOut:
    return budgets.get(conn(router), connector(router), budget_id)


@router.put(path_of("budgets_update"), summary="Replace a budget (admin); omit `slack` to keep the stored target")
def update_budget(connector_id: str, budget_id: str, body: Annotated[BudgetIn, Body()]) -> BudgetOut:
    return budgets.replace(conn(router), connector(router), budget_id, body, settings(router))


@router.delete(path_of("budgets_delete"), summary="Delete a budget, its alerts and snapshots (admin)")
def delete_budget(connector_id: str, budget_id: str) -> tuple[dict, int]:
    budgets.delete(conn(router), connector(router), budget_id, settings(router))
    return {}, 204


@router.get(path_of("budgets_history"), summary="Daily snapshots (default: the last 30 days)")
def budget_history(
    connector_id: str,
    budget_id: str,
    start: Annotated[Day | None, Query()] = None,
    end: Annotated[Day | None, Query()] = None,
) -> list[BudgetSnapshotOut]:
    return budgets.history(conn(router), connector(router), budget_id, start, end)


@router.get(path_of("budgets_alerts"), summary="Fired alerts, newest first, with delivery status per channel")
def budget_alerts(
    connector_id: str,
    budget_id: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[BudgetAlertOut]:
    return budgets.alerts(conn(router), connector(router), budget_id, limit, offset)
