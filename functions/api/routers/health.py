from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from snowwatch.db import get_connection
from snowwatch.db.migrate import current_version
from snowwatch.routes import path_of
from snowwatch.settings import CommonSettings, get_settings

router = Router()


class Health(BaseModel):
    status: str
    database: str
    schema_version: str | None
    build_version: str


@router.get(path_of("health"), summary="Liveness: database reachable, schema and build version")
def health() -> Health:
    settings = get_settings(CommonSettings)
    try:
        version = current_version(get_connection(settings))
        database = "ok"
    except Exception:
        version, database = None, "unreachable"
    return Health(
        status="ok" if database == "ok" else "degraded",
        database=database,
        schema_version=version,
        build_version=settings.build_version,
    )
