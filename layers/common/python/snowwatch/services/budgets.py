"""Budgets: the API use cases, the hourly check and the daily snapshot.

Spend sources (filled by the cost sync):
  * account scope    -> snowflake_spend_daily service-type rows for whole local days, then
                        snowflake_metering_history for today's hours (every service type)
  * warehouses scope -> snowflake_spend_daily warehouse rows for whole local days, then
                        snowflake_warehouse_metering for today's hours (the listed warehouses)
  * query_tag scope  -> snowflake_query_history.credits_attributed_compute (per query, its tag_key: the tag as
                        services/attribution.py parses it, the same parser as the attribution endpoints)
A connector whose spend rollup is missing or built in another timezone is read from the raw rows only.
Currency amounts are credits x the connector's credit_price. Periods start at local midnight in the
connector's timezone (weeks on Monday, quarters on Jan/Apr/Jul/Oct 1).

Forecast (to period end): spend to date + run rate x hours left in the period, where the run rate is
the scope's spend over the trailing 7 local days (up to now) divided by the hours in that window.
A trailing week, rather than the period to date, keeps the first hours of a period from extrapolating
a single busy hour, and covers the weekday/weekend cycle.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from snowwatch import egress
from snowwatch.db import Connection, transaction
from snowwatch.errors import NotFoundError, ValidationFailedError
from snowwatch.models.budgets import (
    BudgetAlertOut,
    BudgetIn,
    BudgetOut,
    BudgetSnapshotOut,
    BudgetStatus,
    SlackTargetIn,
    SlackTargetOut,
)
from snowwatch.models.common import DateRange, Page
from snowwatch.models.connectors import Connector
from snowwatch.observability import logger, metrics
from snowwatch.repositories import budgets as repo
from snowwatch.services import attribution, notifications, secrets
from snowwatch.services.jobs import JobContext
from snowwatch.settings import ApiSettings, RunnerSettings

DEFAULT_HISTORY_DAYS = 30


# ---------------------------------------------------------------------------------------------- secrets


def _put_slack_secret(settings: ApiSettings, connector: Connector, budget_id: UUID, slack: SlackTargetIn) -> str:
    """Check a webhook URL against the egress policy, then write the Slack credential to Secrets Manager
    under the org's namespace; return the ARN (the only thing stored)."""
    if slack.webhook_url is not None:
        try:
            egress.check_url(slack.webhook_url.get_secret_value(), egress.Policy.for_slack(settings))
        except egress.EgressRefusedError as exc:
            loc = ["body", "slack", "webhook_url"]
            raise egress.EgressRefusedError(exc.message, details=[{"loc": loc, "msg": exc.message}]) from None
    name = secrets.slack_secret_name(settings, connector.org_id, budget_id)
    tags = {secrets.TAG_ORG: str(connector.org_id), secrets.TAG_BUDGET: str(budget_id)}
    return secrets.put_owned(settings, name, slack.secret_payload(), tags)


def _delete_slack_secret(settings: ApiSettings, connector: Connector, budget_id: UUID) -> None:
    secrets.delete_owned(settings, secrets.slack_secret_name(settings, connector.org_id, budget_id))


# ---------------------------------------------------------------------------------------------- API


def _parse_id(value: UUID | str) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError as exc:
        raise NotFoundError("budget not found") from exc


def _out(row: dict[str, Any], status: dict[str, Any] | None) -> BudgetOut:
    slack = None
    if row.get("slack_secret_ref"):
        slack = SlackTargetOut(kind="bot" if row.get("slack_channel") else "webhook", channel=row.get("slack_channel"))
    data = {k: v for k, v in row.items() if k not in ("slack_channel", "slack_secret_ref")}
    return BudgetOut.model_validate({**data, "slack": slack, "status": BudgetStatus(**status) if status else None})


def _require_row(conn: Connection, connector: Connector, budget_id: UUID | str) -> dict[str, Any]:
    row = repo.get(conn, connector.id, _parse_id(budget_id))
    if row is None:
        raise NotFoundError("budget not found")
    return row


def _validate(conn: Connection, connector: Connector, body: BudgetIn) -> None:
    if body.scope_type == "warehouses":
        unknown = repo.unknown_warehouses(conn, connector.id, body.warehouses)
        if unknown:
            raise ValidationFailedError(
                "unknown warehouses for this connector",
                details=[
                    {
                        "loc": ["body", "warehouses", i],
                        "msg": "not a warehouse of this connector",
                        "type": "value_error",
                    }
                    for i, w in enumerate(body.warehouses)
                    if w in unknown
                ],
            )


def _columns(body: BudgetIn) -> dict[str, Any]:
    return {
        "name": body.name,
        "scope_type": body.scope_type,
        "scope_warehouses": body.warehouses,
        # the query tag's key as services/attribution.py parses it (a dbt JSON tag without its per-run keys)
        "scope_query_tag": attribution.tag_key(body.query_tag) if body.query_tag else None,
        "period": body.period,
        "amount": body.amount,
        "amount_unit": body.amount_unit,
        "thresholds": [t.model_dump(mode="json") for t in body.thresholds],
        "alert_emails": body.alert_emails,
        "active": body.active,
    }


def list_(
    conn: Connection, connector: Connector, limit: int, offset: int, now: datetime | None = None
) -> Page[BudgetOut]:
    rows, total = repo.list_for_connector(conn, connector.id, limit, offset)
    states = repo.status(conn, now or datetime.now(UTC), connector.id) if rows else {}
    return Page[BudgetOut](items=[_out(r, states.get(r["id"])) for r in rows], total=total, limit=limit, offset=offset)


def get(conn: Connection, connector: Connector, budget_id: UUID | str, now: datetime | None = None) -> BudgetOut:
    row = _require_row(conn, connector, budget_id)
    states = repo.status(conn, now or datetime.now(UTC), connector.id, row["id"])
    return _out(row, states.get(row["id"]))


def create(
    conn: Connection, connector: Connector, body: BudgetIn, settings: ApiSettings, created_by: UUID | None = None
) -> BudgetOut:
    _validate(conn, connector, body)
    budget_id = uuid4()
    values = {"id": budget_id, "connector_id": connector.id, "created_by": created_by, **_columns(body)}
    if body.slack is not None:
        values["slack_channel"] = body.slack.channel if body.slack.bot_token is not None else None
        values["slack_secret_ref"] = _put_slack_secret(settings, connector, budget_id, body.slack)
    try:
        with transaction(conn):
            repo.insert(conn, values)
    except BaseException:  # a name conflict (409 from the error path) leaves no orphaned secret
        if values.get("slack_secret_ref"):
            _delete_slack_secret(settings, connector, budget_id)
        raise
    return get(conn, connector, budget_id)


def replace(
    conn: Connection, connector: Connector, budget_id: UUID | str, body: BudgetIn, settings: ApiSettings
) -> BudgetOut:
    """PUT: every field is replaced; `slack` omitted keeps the stored target, `slack: null` removes it."""
    current = _require_row(conn, connector, budget_id)
    _validate(conn, connector, body)
    values = _columns(body)
    old_ref = current.get("slack_secret_ref")
    if "slack" in body.model_fields_set:
        if body.slack is None:
            values["slack_channel"] = None
            values["slack_secret_ref"] = None
        else:
            values["slack_channel"] = body.slack.channel if body.slack.bot_token is not None else None
            values["slack_secret_ref"] = _put_slack_secret(settings, connector, current["id"], body.slack)
    found = repo.update(conn, connector.id, current["id"], values)
    if not found:
        raise NotFoundError("budget not found")
    if "slack" in body.model_fields_set and body.slack is None and old_ref:
        _delete_slack_secret(settings, connector, current["id"])
    return get(conn, connector, current["id"])


def delete(conn: Connection, connector: Connector, budget_id: UUID | str, settings: ApiSettings) -> None:
    row = repo.delete(conn, connector.id, _parse_id(budget_id))
    if row is None:
        raise NotFoundError("budget not found")
    if row.get("slack_secret_ref"):
        _delete_slack_secret(settings, connector, row["id"])


def history(
    conn: Connection, connector: Connector, budget_id: UUID | str, start: date | None, end: date | None
) -> list[BudgetSnapshotOut]:
    row = _require_row(conn, connector, budget_id)
    end = end or datetime.now(UTC).date()
    start = start or end - timedelta(days=DEFAULT_HISTORY_DAYS - 1)
    try:
        rng = DateRange(start=start, end=end)
    except ValueError as exc:
        raise ValidationFailedError(str(exc).splitlines()[-1].strip()) from None
    return [BudgetSnapshotOut.model_validate(r) for r in repo.history(conn, row["id"], rng.start, rng.end)]


def alerts(
    conn: Connection, connector: Connector, budget_id: UUID | str, limit: int, offset: int
) -> Page[BudgetAlertOut]:
    row = _require_row(conn, connector, budget_id)
    rows, total = repo.alerts(conn, row["id"], limit, offset)
    return Page[BudgetAlertOut](
        items=[BudgetAlertOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


# ---------------------------------------------------------------------------------------------- jobs


def _scope(ctx: JobContext[RunnerSettings]) -> dict[str, Any]:
    """One connector, one org (a manual run) or every org (the schedule)."""
    return {"connector_id": ctx.connector.id if ctx.connector else None, "org_id": ctx.org_id}


def check_budgets(conn: Connection, ctx: JobContext[RunnerSettings], now: datetime | None = None) -> dict[str, Any]:
    """The hourly pass: record crossed thresholds with their outbox rows (one statement), then publish; then store
    every connector's month (spend, forecast, budget counts) for the org overview (one more pass).

    Publishing happens after the commit; a row that fails to publish stays pending and the notify
    relay publishes it later, so an alert is never lost between the database and the queue.
    """
    now = now or datetime.now(UTC)
    alert_ids, notification_ids = repo.check(conn, now, **_scope(ctx))
    published = notifications.publish_pending(conn, ctx.settings, notification_ids) if notification_ids else 0
    months = repo.refresh_month_state(conn, now, **_scope(ctx))  # the org overview's per-connector month
    metrics.add_metric(name="budget_alerts_fired", unit="Count", value=len(alert_ids))
    logger.info("budget check", extra={"alerts": len(alert_ids), "notifications": len(notification_ids)})
    return {
        "alerts": len(alert_ids),
        "notifications": len(notification_ids),
        "published": published,
        "month_states": months,
    }


def snapshot_budgets(conn: Connection, ctx: JobContext[RunnerSettings], now: datetime | None = None) -> dict[str, Any]:
    """One row per budget per local day, idempotent (upsert on budget and date).

    Writes yesterday's closing state (evaluated at the connector's local midnight, so late-arriving
    metering corrects it on the next run) and today's state so far.
    """
    now = now or datetime.now(UTC)
    scope = _scope(ctx)
    closed = repo.snapshot(conn, now, close=True, **scope)
    today = repo.snapshot(conn, now, close=False, **scope)
    return {"snapshots_closed": closed, "snapshots_today": today}
