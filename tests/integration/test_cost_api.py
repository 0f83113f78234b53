"""Cost API correctness: every figure equals an independent computation over the synthetic account's
source rows, read straight from fakesnow (not from our Postgres copy)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from snowwatch_local.stack import LocalStack
from tests.integration.cost_helpers import new_connector, sf_rows

pytestmark = pytest.mark.integration
AU = "SNOWFLAKE.ACCOUNT_USAGE"
TB = 2**40


@pytest.fixture(scope="module")
def cost_connector(stack: LocalStack) -> str:
    cid = new_connector(stack, "cost-api")
    assert stack.run_job("sync", connector_id=cid)["status"] == "succeeded"
    return str(cid)


def _window() -> tuple[date, date, str, str]:
    end = datetime.now(UTC).date()
    start = end - timedelta(days=29)
    lo = f"'{start.isoformat()} 00:00:00'"
    hi = f"'{(end + timedelta(days=1)).isoformat()} 00:00:00'"
    return start, end, lo, hi


def _get(api: Any, cid: str, ep: str, **query: Any) -> dict[str, Any]:
    answer = api.get(f"/api/connectors/{cid}/cost/{ep}", query=query)
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.json()
    return body


def close(a: Any, b: Any, tol: str = "0.0001") -> bool:
    return abs(Decimal(str(a)) - Decimal(str(b))) <= Decimal(tol)


def test_overview_totals_match_metering_history(api: Any, stack: LocalStack, cost_connector: str) -> None:
    """Given a synced connector, when the overview is read, then credits equal METERING_HISTORY's sum over the
    last 30 local days, billed adds the daily cloud-services adjustment, and currency uses the configured price."""
    start, end, lo, hi = _window()
    body = _get(api, cost_connector, "overview", period="30d")
    used = sf_rows(
        stack, f"SELECT SUM(CREDITS_USED) FROM {AU}.METERING_HISTORY WHERE START_TIME >= {lo} AND START_TIME < {hi}"
    )
    adj = sf_rows(
        stack,
        f"SELECT SUM(CREDITS_ADJUSTMENT_CLOUD_SERVICES) FROM {AU}.METERING_DAILY_HISTORY "
        f"WHERE USAGE_DATE BETWEEN '{start}' AND '{end}'",
    )
    assert close(body["credits"], used[0][0])
    assert close(body["credits_billed"], used[0][0] + adj[0][0])
    assert body["money"] == {
        "currency": "USD",
        "currency_source": "configured_price",
        "credit_price": 3.0,
        "timezone": "UTC",
    }
    assert close(body["amount"], Decimal(str(body["credits_billed"])) * 3, "0.01")
    by_service = {r["key"]: r["credits"] for r in body["by_service_type"]}
    src = sf_rows(
        stack,
        f"SELECT SERVICE_TYPE, SUM(CREDITS_USED) FROM {AU}.METERING_HISTORY "
        f"WHERE START_TIME >= {lo} AND START_TIME < {hi} GROUP BY 1",
    )
    assert by_service.keys() == {r[0] for r in src}
    assert all(close(by_service[k], v) for k, v in src)


@pytest.mark.parametrize("period", ["7d", "30d", "90d", "mtd", "qtd", "ytd"])
def test_every_overview_period_starts_where_it_says(api: Any, cost_connector: str, period: str) -> None:
    """Given each period name, when the overview is read, then it answers 200 with a window ending today that
    starts on the period's first day (month, quarter, year to date or the last N days)."""
    from datetime import UTC, date, datetime, timedelta

    body = _get(api, cost_connector, "overview", period=period)
    today = datetime.now(UTC).date()
    expected = {
        "mtd": today.replace(day=1),
        "qtd": date(today.year, 3 * ((today.month - 1) // 3) + 1, 1),
        "ytd": date(today.year, 1, 1),
    }.get(period) or today - timedelta(days=int(period[:-1]) - 1)
    assert body["window"] == {"start": expected.isoformat(), "end": today.isoformat()}


def test_daily_by_warehouse_matches_source(api: Any, stack: LocalStack, cost_connector: str) -> None:
    """Given a date range, when daily cost is grouped by warehouse, then each day and warehouse equals the source."""
    start, end, lo, hi = _window()
    body = _get(api, cost_connector, "daily", start=start, end=end, group_by="warehouse")
    src = sf_rows(
        stack,
        f"SELECT TO_DATE(START_TIME), WAREHOUSE_NAME, SUM(CREDITS_USED) FROM {AU}.WAREHOUSE_METERING_HISTORY "
        f"WHERE START_TIME >= {lo} AND START_TIME < {hi} GROUP BY 1, 2",
    )
    got = {(r["day"], r["key"]): r["credits"] for r in body["items"]}
    assert len(got) == len(src)
    for day, wh, credits in src:
        assert close(got[(day.isoformat(), wh)], credits)


def test_warehouse_idle_cost_matches_source(api: Any, stack: LocalStack, cost_connector: str) -> None:
    """Given the warehouses endpoint, then idle credits = compute - credits attributed to queries (source rows),
    and the planted idle warehouse shows its 75% idle share."""
    start, end, lo, hi = _window()
    body = _get(api, cost_connector, "warehouses", start=start, end=end)
    src = sf_rows(
        stack,
        f"SELECT WAREHOUSE_NAME, SUM(CREDITS_USED_COMPUTE), SUM(CREDITS_ATTRIBUTED_COMPUTE_QUERIES) "
        f"FROM {AU}.WAREHOUSE_METERING_HISTORY WHERE START_TIME >= {lo} AND START_TIME < {hi} GROUP BY 1",
    )
    items = {w["warehouse_name"]: w for w in body["page"]["items"]}
    assert body["page"]["total"] == len(src)
    for name, compute, attributed in src:
        assert close(items[name]["credits_compute"], compute)
        assert close(items[name]["idle_credits"], compute - attributed)
        assert close(items[name]["idle_amount"], (compute - attributed) * 3, "0.01")
    assert close(items["TRANSFORM_WH"]["idle_share"], "0.75")
    assert items["TRANSFORM_WH"]["auto_suspend"] == 3600 and items["TRANSFORM_WH"]["resource_monitor"] is None


def _hourly_share(stack: LocalStack) -> dict[str, Decimal]:
    """dbt-snowflake-monitoring's method computed in Python from the raw source rows."""
    queries = sf_rows(
        stack,
        f"SELECT DISTINCT QUERY_ID, WAREHOUSE_ID, START_TIME, END_TIME, QUEUED_OVERLOAD_TIME "
        f"+ QUEUED_PROVISIONING_TIME + QUEUED_REPAIR_TIME + COMPILATION_TIME + LIST_EXTERNAL_FILES_TIME, "
        f"EXECUTION_TIME FROM {AU}.QUERY_HISTORY "
        f"WHERE WAREHOUSE_ID IS NOT NULL",
    )
    metering = {
        (w, s): Decimal(str(c))
        for w, s, c in sf_rows(
            stack, f"SELECT WAREHOUSE_ID, START_TIME, CREDITS_USED_COMPUTE FROM {AU}.WAREHOUSE_METERING_HISTORY"
        )
    }
    spans: dict[tuple[Any, datetime], dict[str, float]] = defaultdict(dict)
    for qid, wh, st, et, pre, ex in queries:
        if not ex or et is None:
            continue
        exec_start = st + timedelta(milliseconds=int(pre))
        hour = exec_start.replace(minute=0, second=0, microsecond=0)
        while hour < et:
            seconds = (min(et, hour + timedelta(hours=1)) - max(exec_start, hour)).total_seconds()
            if seconds > 0:
                spans[(wh, hour)][qid] = seconds
            hour += timedelta(hours=1)
    cost: dict[str, Decimal] = defaultdict(Decimal)
    for (wh, hour), per_query in spans.items():
        total = sum(per_query.values())
        credits = metering.get((wh, hour), Decimal(0))
        for qid, seconds in per_query.items():
            cost[qid] += Decimal(seconds / total) * credits
    return cost


def test_per_query_cost_uses_attribution_else_hourly_share(api: Any, stack: LocalStack, cost_connector: str) -> None:
    """Given the top queries, then attributed queries cost their QUERY_ATTRIBUTION_HISTORY credits and the others
    their hourly share of the warehouse's metered compute, computed independently here."""
    start, end, _, _ = _window()
    body = _get(api, cost_connector, "queries", start=start, end=end, group_by="query", limit=100)
    items = body["page"]["items"]
    assert len(items) == 100 and body["page"]["total"] > 100
    assert [i["credits_compute"] for i in items] == sorted((i["credits_compute"] for i in items), reverse=True)
    attribution = dict(
        sf_rows(stack, f"SELECT QUERY_ID, CREDITS_ATTRIBUTED_COMPUTE FROM {AU}.QUERY_ATTRIBUTION_HISTORY")
    )
    shares = _hourly_share(stack)
    methods = set()
    for item in items:
        methods.add(item["cost_method"])
        if item["cost_method"] == "attribution":
            assert close(item["credits_compute"], attribution[item["key"]], "0.000001")
        else:
            assert item["key"] not in attribution
            assert close(item["credits_compute"], shares[item["key"]], "0.00001")
    assert methods in ({"attribution", "hourly_share"}, {"hourly_share"})
    second = _get(api, cost_connector, "queries", start=start, end=end, group_by="query", limit=100, offset=100)
    assert {i["key"] for i in second["page"]["items"]}.isdisjoint({i["key"] for i in items})


def test_queries_by_parameterized_hash_and_users_count_source_queries(
    api: Any, stack: LocalStack, cost_connector: str
) -> None:
    """Given grouping by parameterized hash and by role, then query counts equal the source's distinct queries."""
    start, end, lo, hi = _window()
    by_hash = _get(api, cost_connector, "queries", start=start, end=end, group_by="parameterized_hash", limit=500)
    src = dict(
        sf_rows(
            stack,
            f"SELECT COALESCE(QUERY_PARAMETERIZED_HASH, ''), COUNT(DISTINCT QUERY_ID) FROM {AU}.QUERY_HISTORY "
            f"WHERE START_TIME >= {lo} AND START_TIME < {hi} GROUP BY 1",
        )
    )
    assert {i["key"]: i["queries"] for i in by_hash["page"]["items"]} == src
    by_role = _get(api, cost_connector, "users", start=start, end=end, group_by="role", limit=500)
    src_roles = dict(
        sf_rows(
            stack,
            f"SELECT COALESCE(ROLE_NAME, ''), COUNT(DISTINCT QUERY_ID) FROM {AU}.QUERY_HISTORY "
            f"WHERE START_TIME >= {lo} AND START_TIME < {hi} GROUP BY 1",
        )
    )
    assert {i["role_name"]: i["queries"] for i in by_role["page"]["items"]} == src_roles
    total_credits = sum(Decimal(str(i["credits_compute"])) for i in by_role["page"]["items"])
    by_user = _get(api, cost_connector, "users", start=start, end=end, group_by="user", limit=500)
    assert close(sum(Decimal(str(i["credits_compute"])) for i in by_user["page"]["items"]), total_credits, "0.001")


def test_storage_matches_source(api: Any, stack: LocalStack, cost_connector: str) -> None:
    """Given the storage endpoint, then the trend equals STORAGE_USAGE, tables equal TABLE_STORAGE_METRICS and
    monthly cost = bytes / 2^40 x the price per TB."""
    start, end, _, _ = _window()
    body = _get(api, cost_connector, "storage", start=start, end=end, limit=5)
    src = {
        d.isoformat(): s + st + f
        for d, s, st, f in sf_rows(
            stack,
            f"SELECT USAGE_DATE, STORAGE_BYTES, STAGE_BYTES, FAILSAFE_BYTES FROM {AU}.STORAGE_USAGE "
            f"WHERE USAGE_DATE BETWEEN '{start}' AND '{end}'",
        )
    }
    assert {t["day"]: t["total_bytes"] for t in body["trend"]} == src
    top = sf_rows(
        stack,
        f"SELECT TABLE_CATALOG || '.' || TABLE_SCHEMA || '.' || TABLE_NAME, ACTIVE_BYTES + TIME_TRAVEL_BYTES + "
        f"FAILSAFE_BYTES AS b FROM {AU}.TABLE_STORAGE_METRICS ORDER BY b DESC, ID LIMIT 5",
    )
    assert [(t["table"], t["total_bytes"]) for t in body["tables"]["items"]] == [(n, int(b)) for n, b in top]
    first = body["tables"]["items"][0]
    assert close(first["monthly_amount"], Decimal(first["total_bytes"]) / TB * 23, "0.01")
    latest = body["trend"][-1]["total_bytes"]
    assert close(body["monthly_amount"], Decimal(latest) / TB * 23, "0.01")


def test_waste_finds_the_planted_cases(api: Any, cost_connector: str) -> None:
    """Given the synthetic account's planted waste, then every case is found with evidence and a saving."""
    body = _get(api, cost_connector, "waste")
    found = {(f["kind"], f["subject"]) for f in body["findings"]}
    for case in [
        ("high_idle", "TRANSFORM_WH"),
        ("auto_suspend_long", "TRANSFORM_WH"),
        ("no_resource_monitor", "TRANSFORM_WH"),
        ("auto_suspend_off", "ADHOC_WH"),
        ("remote_spilling", "BI_WH"),
        ("queued_load", "BI_WH"),
        ("low_cache", "ADHOC_WH"),
        ("full_scans", "ADHOC_WH"),
        ("table_never_read", "ARCHIVE.PUBLIC.EVENTS_2019"),
        ("time_travel_heavy", "RAW.PUBLIC.CLICKSTREAM"),
    ]:
        assert case in found, case
    assert body["total_estimated_monthly_savings"] > 0
    assert all(f["evidence"] for f in body["findings"])


def test_anomalies_flag_the_planted_day(api: Any, stack: LocalStack, cost_connector: str) -> None:
    """Given a day of 6x spend, then anomalies flag it above the 28-day baseline, and only spikes are flagged."""
    peak = sf_rows(
        stack,
        f"SELECT TO_DATE(START_TIME) AS d, SUM(CREDITS_USED) AS c FROM {AU}.METERING_HISTORY GROUP BY 1 "
        f"ORDER BY c DESC LIMIT 1",
    )[0][0]
    body = _get(api, cost_connector, "anomalies")
    days = {a["day"]: a for a in body["items"]}
    assert peak.isoformat() in days and days[peak.isoformat()]["direction"] == "above"


def test_forecast_and_validation(api: Any, cost_connector: str, other_connector_id: str) -> None:
    """Given the forecast, then it is at least month-to-date; bad ranges answer 422; other orgs 404."""
    body = _get(api, cost_connector, "forecast")
    assert body["month"]["forecast_credits"] >= body["month"]["month_to_date_credits"]
    assert body["money"]["currency_source"] == "configured_price"
    bad = api.get(f"/api/connectors/{cost_connector}/cost/daily", query={"start": "2026-02-01", "end": "2026-01-01"})
    assert bad.status == 422
    too_long = api.get(
        f"/api/connectors/{cost_connector}/cost/daily", query={"start": "2024-01-01", "end": "2026-01-01"}
    )
    assert too_long.status == 422
    assert api.get(f"/api/connectors/{cost_connector}/cost/overview", query={"period": "2y"}).status == 422
    assert api.get(f"/api/connectors/{cost_connector}/cost/overview", as_="other").status == 404
    assert api.get(f"/api/connectors/{other_connector_id}/cost/overview").status == 404
