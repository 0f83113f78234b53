"""The org routes (see snowwatch.routes): the overview of every connector of the caller's org (members)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from routers._context import caller, conn
from snowwatch.models.cost import OrgOverview
from snowwatch.routes import path_of
from snowwatch.services import org

router = Router()


@router.get(path_of("org_overview"), summary="Every connector: spend and forecast this month, budgets, security, sync")
def overview(limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0) -> OrgOverview:
    return org.overview(conn(router), caller(router).org_id, limit, offset)
