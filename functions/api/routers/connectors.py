from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from routers._context import caller, conn, connector, settings
from snowwatch.models.access import ConnectorAccess
from snowwatch.models.common import Page
from snowwatch.models.connectors import ConnectorCreate, ConnectorOut, ConnectorUpdate
from snowwatch.routes import path_of
from snowwatch.services import access, connectors

router = Router()


@router.get(path_of("connectors_list"), summary="The organization's connectors")
def list_connectors(
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ConnectorOut]:
    return connectors.list_(conn(router), caller(router), limit, offset)


@router.post(path_of("connectors_create"), summary="Create a connector (admin); the credential goes to Secrets Manager")
def create_connector(body: Annotated[ConnectorCreate, Body()]) -> tuple[ConnectorOut, int]:
    return connectors.create(conn(router), caller(router), body, settings(router)), 201


@router.get(path_of("connectors_get"), summary="One connector")
def get_connector(connector_id: str) -> ConnectorOut:
    return ConnectorOut.model_validate(connector(router).model_dump())


@router.get(
    path_of("connectors_access"),
    summary="What the connector's role can read: per view, what it powers and the grant that fixes it",
)
def connector_access(connector_id: str) -> ConnectorAccess:
    return access.connector_access(conn(router), connector(router))


@router.patch(path_of("connectors_update"), summary="Update a connector (admin)")
def update_connector(connector_id: str, body: Annotated[ConnectorUpdate, Body()]) -> ConnectorOut:
    return connectors.update(conn(router), connector(router), body, settings(router))


@router.delete(path_of("connectors_delete"), summary="Delete a connector and its history (admin)")
def delete_connector(connector_id: str) -> tuple[dict, int]:
    connectors.delete(conn(router), connector(router), settings(router))
    return {}, 204
