"""``GET /api/connectors/{id}/access``: for each view snowwatch reads, whether this connector's role can read it,
what it powers, and the exact grant that fixes it.

The answer comes from the per-view outcome the last sync and security runs recorded (``job_runs.rows``: a row
count, ``unreadable: <reason>``, ``unavailable``): the API function carries no Snowflake client and never logs in
to the customer's account; a run (``POST /api/jobs/sync/runs``) refreshes it.
"""

from __future__ import annotations

from typing import Any

from snowwatch.db import Connection
from snowwatch.models.access import AccessStatus, ConnectorAccess, ViewAccess
from snowwatch.models.connectors import Connector
from snowwatch.repositories import jobs as jobs_repo

AU = "SNOWFLAKE.ACCOUNT_USAGE"
# (view, job, key in the run's rows, database role, what it powers); roles as in docs/snowflake-setup.md.
CATALOG: tuple[tuple[str, str, str, str, str], ...] = (
    (f"{AU}.WAREHOUSE_METERING_HISTORY", "sync", "WAREHOUSE_METERING_HISTORY", "USAGE_VIEWER",
     "warehouse spend, budgets, the hourly query cost share"),
    (f"{AU}.METERING_HISTORY", "sync", "METERING_HISTORY", "USAGE_VIEWER", "spend by service type (serverless too)"),
    (f"{AU}.METERING_DAILY_HISTORY", "sync", "METERING_DAILY_HISTORY", "USAGE_VIEWER",
     "billed credits (cloud-services adjustment), the cost overview"),
    (f"{AU}.STORAGE_USAGE", "sync", "STORAGE_USAGE", "USAGE_VIEWER", "account storage cost"),
    (f"{AU}.DATABASE_STORAGE_USAGE_HISTORY", "sync", "DATABASE_STORAGE_USAGE_HISTORY", "USAGE_VIEWER",
     "storage per database"),
    (f"{AU}.TABLE_STORAGE_METRICS", "sync", "TABLE_STORAGE_METRICS", "USAGE_VIEWER", "unused large tables (waste)"),
    (f"{AU}.WAREHOUSE_LOAD_HISTORY", "sync", "WAREHOUSE_LOAD_HISTORY", "USAGE_VIEWER",
     "warehouse load, idle and oversized warehouses"),
    (f"{AU}.QUERY_HISTORY", "sync", "QUERY_HISTORY", "GOVERNANCE_VIEWER",
     "cost per query, user, tag and dbt model; expensive queries"),
    (f"{AU}.QUERY_ATTRIBUTION_HISTORY", "sync", "QUERY_ATTRIBUTION_HISTORY", "USAGE_VIEWER",
     "Snowflake's own per-query compute cost (else the hourly share)"),
    (f"{AU}.USERS", "security", "security.USERS", "SECURITY_VIEWER", "users without MFA, stale users, posture"),
    (f"{AU}.GRANTS_TO_USERS", "security", "security.GRANTS_TO_USERS", "SECURITY_VIEWER", "who holds admin roles"),
    (f"{AU}.GRANTS_TO_ROLES", "security", "security.GRANTS_TO_ROLES", "SECURITY_VIEWER", "role hierarchy, admin paths"),
    (f"{AU}.NETWORK_POLICIES", "security", "security.NETWORK_POLICIES", "SECURITY_VIEWER", "network policy rules"),
    (f"{AU}.LOGIN_HISTORY", "security", "security.LOGIN_HISTORY", "SECURITY_VIEWER", "failed logins, login rules"),
    (f"{AU}.SESSIONS", "security", "security.SESSIONS", "SECURITY_VIEWER", "client applications (UNC5537 rules)"),
    (f"{AU}.QUERY_HISTORY (security rows)", "security", "security.QUERY_HISTORY", "GOVERNANCE_VIEWER",
     "grants, user and policy changes, unloads"),
    (f"{AU}.ACCESS_HISTORY", "security", "security.ACCESS_HISTORY", "GOVERNANCE_VIEWER",
     "data access rules (Enterprise edition)"),
)  # fmt: skip


def _status(value: Any) -> tuple[AccessStatus, str | None]:
    if value is None:
        return "unknown", None
    if isinstance(value, int):
        return "readable", None
    text = str(value)
    if text.startswith("unreadable"):
        return "unreadable", text.partition(": ")[2] or None
    if text.startswith(("unavailable", "skipped")):
        return "unavailable", None
    return "readable", None


def connector_access(conn: Connection, connector: Connector) -> ConnectorAccess:
    last = jobs_repo.last_finished_runs(conn, connector.id, ("sync", "security"))
    views = []
    for view, job, key, role, powers in CATALOG:
        run = last.get(job)
        status, reason = _status((run or {}).get("rows", {}).get(key))
        views.append(
            ViewAccess(
                view=view,
                job="sync" if job == "sync" else "security",
                status=status,
                readable=None if status == "unknown" else status != "unreadable",
                reason=reason,
                powers=powers,
                database_role=f"SNOWFLAKE.{role}",
                grant=f"GRANT DATABASE ROLE SNOWFLAKE.{role} TO ROLE {connector.role_name};",
                alternative_grant=f"GRANT IMPORTED PRIVILEGES ON DATABASE SNOWFLAKE TO ROLE {connector.role_name};",
                checked_at=run["finished_at"] if run else None,
                run_id=run["id"] if run else None,
            )
        )
    missing = sorted({v.grant for v in views if v.status == "unreadable"})
    return ConnectorAccess(
        connector_id=connector.id, role_name=connector.role_name, views=views, missing_grants=missing
    )
