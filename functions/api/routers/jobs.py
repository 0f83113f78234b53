from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from routers._context import caller, conn, settings
from snowwatch.models.common import Accepted, Page
from snowwatch.models.jobs import JobOut, JobRun, RunRequest, RunStatus
from snowwatch.routes import path_of
from snowwatch.services import jobs

router = Router()

JobName = Literal["sync", "budget_check", "notify", "snapshot", "security"]


@router.get(path_of("jobs_list"), summary="The five jobs with their schedules, last and next run")
def list_jobs() -> list[JobOut]:
    return jobs.list_jobs(conn(router), caller(router))


@router.post(path_of("jobs_run"), summary="Start a job now (admin); 202 with the run id, 409 while it runs")
def run_job(job: str, body: Annotated[RunRequest | None, Body()] = None) -> tuple[Accepted, int]:
    return jobs.start(conn(router), caller(router), settings(router), job, body or RunRequest()), 202


@router.get(path_of("jobs_runs_list"), summary="Runs, newest first")
def list_runs(
    job: Annotated[JobName | None, Query()] = None,
    connector_id: Annotated[UUID | None, Query()] = None,
    status: Annotated[RunStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[JobRun]:
    return jobs.list_runs(
        conn(router),
        caller(router),
        job=job,
        connector_id=connector_id,
        status=status,
        limit=limit,
        offset=offset,
    )


@router.get(path_of("jobs_runs_get"), summary="One run")
def get_run(run_id: str) -> JobRun:
    return jobs.get_run(conn(router), caller(router), run_id)
