"""Job runs and the events that start them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

RunStatus = Literal["queued", "running", "succeeded", "partial", "failed", "interrupted"]


class JobEvent(BaseModel):
    """What a job function receives: from EventBridge Scheduler, a fan-out, the API or `aws lambda invoke`."""

    model_config = ConfigDict(extra="ignore")

    connector_id: UUID | None = None
    org_id: UUID | None = None
    run_id: UUID | None = None
    trigger: Literal["schedule", "manual"] = "manual"
    mode: str | None = None
    requested_by: UUID | None = None
    resume: dict[str, Any] | None = None  # a continuation: where the run it continues stopped


class RunProgress(BaseModel):
    """How far a windowed extraction has come (a sync or security run reading its views window by window)."""

    windows_done: int = Field(description="time windows loaded and committed by this run")
    windows_left: int = Field(description="windows still to read (an estimate: large windows are split)")
    rows: int = Field(description="source rows loaded by this run")
    view: str | None = Field(default=None, description="the view being read")
    reached: datetime | None = Field(default=None, description="the end of the last window committed")


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
    progress: RunProgress | None = None
    continues: UUID | None = Field(default=None, description="the run this one continues (it ran out of time)")


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
