"""One Postgres role per function family (migration 0320): each logs in as its role and can do what
its functions do, and no more. Real Postgres; the roles log in over TCP (trust locally, IAM in AWS)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pg8000.native
import pytest

from snowwatch.db.connection import _params_from_url
from tests.conftest import env_override, role_url

pytestmark = pytest.mark.integration

DENIED = "42501"  # insufficient_privilege
DAY = "DATE '1999-01-01'"  # a day no test loads (each statement runs in a transaction rolled back)


@pytest.fixture
def as_role(stack: Any) -> Iterator[Callable[[str], pg8000.native.Connection]]:
    opened: list[pg8000.native.Connection] = []

    def connect(role: str) -> pg8000.native.Connection:
        conn = pg8000.native.Connection(**_params_from_url(role_url(stack, role)))
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        conn.close()


def _denied(conn: pg8000.native.Connection, sql: str) -> bool:
    conn.run("BEGIN")
    try:
        conn.run(sql)
    except pg8000.native.DatabaseError as exc:
        return bool(exc.args) and exc.args[0].get("C") == DENIED
    finally:
        conn.run("ROLLBACK")
    return False


def _allowed(conn: pg8000.native.Connection, sql: str) -> bool:
    conn.run("BEGIN")
    try:
        conn.run(sql)
    finally:
        conn.run("ROLLBACK")
    return True


def test_the_api_role(as_role) -> None:
    """Given snowwatch_api
    When it reads and writes what the API does, and what it never does
    Then reads, connector/budget/user writes and queued runs work; deleting a job run, reading a
    notification's body, writing Snowflake copies, making or dropping query partitions or changing the schema are
    refused."""
    api = as_role("snowwatch_api")
    assert _allowed(api, "SELECT count(*) FROM enterprise.snowflake_daily_costs")
    assert _allowed(api, "SELECT id, status, attempts, recipients FROM enterprise.notifications")
    assert _allowed(api, "UPDATE enterprise.connectors SET name = name WHERE false")
    assert _allowed(api, "DELETE FROM enterprise.snowflake_budgets WHERE false")
    assert _allowed(api, "UPDATE enterprise.job_runs SET status = status WHERE false")
    assert _allowed(api, "SELECT migration_id FROM public._yoyo_migration")
    assert _denied(api, "DELETE FROM enterprise.job_runs WHERE false")
    assert _denied(api, "SELECT payload FROM enterprise.notifications")
    assert _denied(api, "UPDATE enterprise.notifications SET status = status WHERE false")
    assert _denied(api, "DELETE FROM enterprise.snowflake_query_history WHERE false")
    assert _denied(api, "CREATE TABLE enterprise.intruder (id int)")
    assert _denied(api, "TRUNCATE enterprise.snowflake_budget_alerts")
    assert _denied(api, f"SELECT enterprise.ensure_query_partitions({DAY}, {DAY} + 1)")
    assert _denied(api, f"SELECT enterprise.drop_query_partition({DAY})")


def test_the_jobs_role(as_role) -> None:
    """Given snowwatch_jobs
    When it does what sync, security, budget_check and snapshot do, and what they never do
    Then Snowflake copies, rollups, alerts, the outbox and job runs are writable and temporary
    staging tables work; the raw query table's daily partitions are made and dropped through 0420's functions (not
    with DDL of its own); organizations, users and connector rows cannot be created or removed."""
    jobs = as_role("snowwatch_jobs")
    assert _allowed(jobs, "DELETE FROM enterprise.snowflake_stale_users WHERE false")
    assert _allowed(jobs, "UPDATE enterprise.snowflake_query_history SET credits_attributed_compute = 0 WHERE false")
    assert _allowed(jobs, "CREATE TEMP TABLE stage (LIKE enterprise.snowflake_warehouse_metering)")
    assert _allowed(jobs, "UPDATE enterprise.connectors SET last_sync_at = now() WHERE false")
    assert _allowed(jobs, "UPDATE enterprise.notifications SET published_at = now() WHERE false")
    assert _denied(jobs, "DELETE FROM enterprise.connectors WHERE false")
    assert _denied(jobs, "UPDATE enterprise.users SET role = 'admin' WHERE false")
    assert _denied(jobs, "DELETE FROM enterprise.organizations WHERE false")
    assert _denied(jobs, "CREATE TABLE enterprise.intruder (id int)")
    assert _denied(jobs, "DROP TABLE enterprise.snowflake_budget_snapshots")
    # the raw query table's daily partitions (0420): made and dropped through the two functions only
    assert _allowed(jobs, f"SELECT enterprise.ensure_query_partitions({DAY}, {DAY} + 2)")
    assert _allowed(jobs, f"SELECT enterprise.ensure_query_partitions({DAY}, {DAY} + 1), "
                          f"enterprise.drop_query_partition({DAY})")  # fmt: skip
    assert _denied(
        jobs,
        "CREATE TABLE enterprise.snowflake_query_history_p19990101 PARTITION OF enterprise.snowflake_query_history "
        "FOR VALUES FROM ('1999-01-01 00:00+00') TO ('1999-01-02 00:00+00')",
    )
    assert _denied(jobs, "DROP TABLE enterprise.snowflake_query_history_default")


def test_the_notify_role(as_role) -> None:
    """Given snowwatch_notify
    When it does what the notifier and the relay do, and what they never do
    Then the outbox and its own job runs work; budgets, cost and security data are out of reach."""
    notify = as_role("snowwatch_notify")
    assert _allowed(notify, "SELECT payload FROM enterprise.notifications")
    assert _allowed(notify, "UPDATE enterprise.notifications SET attempts = attempts WHERE false")
    assert _allowed(notify, "UPDATE enterprise.job_runs SET status = status WHERE false")
    assert _denied(notify, "SELECT * FROM enterprise.snowflake_budgets")
    assert _denied(notify, "SELECT * FROM enterprise.snowflake_query_history")
    assert _denied(notify, "DELETE FROM enterprise.notifications WHERE false")
    assert _denied(notify, "INSERT INTO enterprise.users (org_id, subject) VALUES (gen_random_uuid(), 'x')")


def _in_thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` on its own thread: it gets its own thread-local database connection (the role's),
    leaving the session's shared connection alone."""
    box: dict[str, Any] = {}

    def target() -> None:
        from snowwatch.db.connection import close_connection

        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised on the caller's thread
            box["error"] = exc
        finally:
            close_connection()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=300)
    if "error" in box:
        raise box["error"]
    return box.get("value")


def test_each_family_runs_its_real_code_as_its_role(stack, api, connector_id) -> None:
    """Given each family's database role
    When the API answers its routes, the jobs run and the relay runs, each logged in as its own role
    Then everything succeeds: the grants cover what the code does."""
    with env_override({"DATABASE_URL": role_url(stack, "snowwatch_api")}):
        answers = _in_thread(
            lambda: [
                api.get("/health"),
                api.get(f"/api/connectors/{connector_id}/cost/overview", query={"period": "30d"}),
                api.get(f"/api/connectors/{connector_id}/security/snowflake/alerts"),
                api.get("/api/jobs/runs"),
                api.post(
                    f"/api/connectors/{connector_id}/budgets",
                    json_body={"name": "role test", "period": "monthly", "amount": 10, "thresholds": [{"value": 50}]},
                ),
            ]
        )
    assert [a.status for a in answers] == [200, 200, 200, 200, 201], [a.body for a in answers]
    budget_id = answers[-1].json()["id"]
    try:
        with env_override({"DATABASE_URL": role_url(stack, "snowwatch_jobs")}):
            for job, payload in (
                ("sync", {"connector_id": connector_id, "mode": "metering"}),
                ("security", {"connector_id": connector_id}),
                ("budget_check", {}),
                ("snapshot", {}),
            ):
                result = _in_thread(lambda job=job, payload=payload: stack.run_job(job, **payload))
                assert result["status"] == "succeeded", (job, result)
        with env_override({"DATABASE_URL": role_url(stack, "snowwatch_notify")}):
            result = _in_thread(lambda: stack.run_job("notify", mode="relay"))
            assert result["status"] == "succeeded", result
    finally:
        api.call("DELETE", f"/api/connectors/{connector_id}/budgets/{budget_id}")
