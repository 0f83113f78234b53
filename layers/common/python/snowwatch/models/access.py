"""What a connector's Snowflake role can read: per view snowwatch reads, and the grant that fixes it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

AccessStatus = Literal["readable", "unreadable", "unavailable", "unknown"]


class ViewAccess(BaseModel):
    view: str = Field(description="fully qualified view name")
    job: Literal["sync", "security"] = Field(description="the job that reads it")
    status: AccessStatus = Field(
        description="readable / unreadable (missing or not granted) / unavailable (not on this account's edition) / "
        "unknown (not read yet)"
    )
    readable: bool | None = Field(description="null until the job has tried it")
    reason: str | None = Field(default=None, description="Snowflake's message when unreadable")
    powers: str = Field(description="what snowwatch shows from it")
    database_role: str = Field(description="the SNOWFLAKE database role that grants it")
    grant: str = Field(description="the exact statement that fixes it (run as ACCOUNTADMIN)")
    alternative_grant: str = Field(description="the broader alternative: IMPORTED PRIVILEGES on SNOWFLAKE")
    checked_at: datetime | None = Field(default=None, description="when the run that tried it finished")
    run_id: UUID | None = None


class ConnectorAccess(BaseModel):
    connector_id: UUID
    role_name: str
    source: Literal["last_runs"] = Field(
        default="last_runs", description="per-view outcome of the last sync and security runs (the API never logs in)"
    )
    views: list[ViewAccess]
    missing_grants: list[str] = Field(description="the grants that would make every unreadable view readable")
