"""Job runs and the events that start them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

RunStatus = Literal["queued", "running", "succeeded", "failed", "interrupted"]


class JobEvent(BaseModel):
    """What a job function receives: from EventBridge Scheduler, a fan-out, the API or `aws lambda invoke`."""

    model_config = ConfigDict(extra="ignore")

    connector_id: UUID | None = None
    org_id: UUID | None = None
    run_id: UUID | None = None
    trigger: Literal["schedule", "manual"] = "manual"
    mode: str | None = None
    requested_by: UUID | None = None


class JobRun(BaseModel):
    id: UUID
    job: str
    connector_id: UUID | None
    trigger: Literal["schedule", "manual"]
    mode: str | None
    status: RunStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None = None
    duration_ms: int | None
    rows: dict[str, Any]
    error: str | None


class JobScheduleOut(BaseModel):
    id: str
    cron: str
    timezone: str
    payload: dict[str, Any]
    description: str
    next_run: datetime


class JobOut(BaseModel):
    name: str
    description: str
    per_connector: bool
    schedules: list[JobScheduleOut]
    next_run: datetime
    last_run: JobRun | None


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connector_id: UUID | None = Field(default=None, description="Required for sync and security")
    mode: Literal["full", "metering"] | None = Field(default=None, description="sync only")
