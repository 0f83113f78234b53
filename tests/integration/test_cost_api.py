"""Cost API correctness: every figure equals an independent computation over the synthetic account's
source rows, read straight from fakesnow (not from our Postgres copy)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
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
    adj_by_service = dict(
        sf_rows(
            stack,
            f"SELECT SERVICE_TYPE, SUM(CREDITS_ADJUSTMENT_CLOUD_SERVICES) FROM {AU}.METERING_DAILY_HISTORY "
            f"WHERE USAGE_DATE BETWEEN '{start}' AND '{end}' GROUP BY 1",
        )
    )
    assert by_service.keys() == {r[0] for r in src}
    # billed per service type: its credits used + its own adjustment
    assert all(close(by_service[k], v + adj_by_service.get(k, 0)) for k, v in src)


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


def _billed_fractions(stack: LocalStack) -> dict[date, Decimal]:
    """Per UTC day, METERING_DAILY_HISTORY's WAREHOUSE_METERING row: max(0, used + adjustment) / used."""
    rows = sf_rows(
        stack,
        f"SELECT USAGE_DATE, CREDITS_USED_CLOUD_SERVICES, CREDITS_ADJUSTMENT_CLOUD_SERVICES "
        f"FROM {AU}.METERING_DAILY_HISTORY WHERE SERVICE_TYPE = 'WAREHOUSE_METERING'",
    )
    out = {}
    for day, cs, cs_adj in rows:
        used, adj = Decimal(str(cs)), Decimal(str(cs_adj))
        out[day] = max(Decimal(0), used + adj) / used if used > 0 else Decimal(1)
    return out


def _source_queries(stack: LocalStack, lo: str, hi: str) -> list[dict[str, Any]]:
    """Each source query once (QUERY_HISTORY repeats rows), with its raw and billed cloud services: raw x the
    billed fraction of its UTC start day (1 when that day has no daily row), at Snowflake's 9 decimals."""
    fractions = _billed_fractions(stack)
    rows = sf_rows(
        stack,
        f"SELECT DISTINCT QUERY_ID, START_TIME, CREDITS_USED_CLOUD_SERVICES, COALESCE(USER_NAME, ''), "
        f"COALESCE(ROLE_NAME, ''), COALESCE(QUERY_PARAMETERIZED_HASH, '') FROM {AU}.QUERY_HISTORY "
        f"WHERE START_TIME >= {lo} AND START_TIME < {hi}",
    )
    out = []
    for qid, st, cs, user, role, phash in rows:
        used = Decimal(str(cs or 0))
        billed = (used * fractions.get(st.date(), Decimal(1))).quantize(Decimal("0.000000001"), ROUND_HALF_UP)
        out.append(
            {"id": qid, "day": st.date(), "used": used, "billed": billed, "user": user, "role": role, "hash": phash}
        )
    return out


def _sums(queries: list[dict[str, Any]], key: str) -> dict[str, tuple[Decimal, Decimal]]:
    """(billed, used) cloud services per group."""
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for q in queries:
        billed, used = out.get(q[key], (Decimal(0), Decimal(0)))
        out[q[key]] = (billed + q["billed"], used + q["used"])
    return out


def test_per_query_cost_uses_attribution_else_hourly_share(api: Any, stack: LocalStack, cost_connector: str) -> None:
    """Given the top queries, then attributed queries cost their QUERY_ATTRIBUTION_HISTORY credits and the others
    their hourly share of the warehouse's metered compute, and their cloud services are billed at their UTC day's
    billed fraction (the raw figure beside it), all computed independently here."""
    start, end, lo, hi = _window()
    body = _get(api, cost_connector, "queries", start=start, end=end, group_by="query", limit=100)
    items = body["page"]["items"]
    assert len(items) == 100 and body["page"]["total"] > 100
    assert [i["credits_compute"] for i in items] == sorted((i["credits_compute"] for i in items), reverse=True)
    attribution = dict(
        sf_rows(stack, f"SELECT QUERY_ID, CREDITS_ATTRIBUTED_COMPUTE FROM {AU}.QUERY_ATTRIBUTION_HISTORY")
    )
    shares = _hourly_share(stack)
    source = {q["id"]: q for q in _source_queries(stack, lo, hi)}
    methods = set()
    for item in items:
        methods.add(item["cost_method"])
        if item["cost_method"] == "attribution":
            assert close(item["credits_compute"], attribution[item["key"]], "0.000001")
        else:
            assert item["key"] not in attribution
            assert close(item["credits_compute"], shares[item["key"]], "0.00001")
        q = source[item["key"]]
        assert close(item["credits_cloud_services_used"], q["used"], "0.000001")
        assert close(item["credits_cloud_services"], q["billed"], "0.000001")
        assert close(item["credits"], Decimal(str(item["credits_compute"])) + q["billed"], "0.000002")
    assert methods in ({"attribution", "hourly_share"}, {"hourly_share"})
    # The top page mixes days of each kind: some cloud services are scaled down, none up.
    assert any(i["credits_cloud_services"] < i["credits_cloud_services_used"] for i in items)
    assert all(i["credits_cloud_services"] <= i["credits_cloud_services_used"] for i in items)
    second = _get(api, cost_connector, "queries", start=start, end=end, group_by="query", limit=100, offset=100)
    assert {i["key"] for i in second["page"]["items"]}.isdisjoint({i["key"] for i in items})


def test_queries_by_parameterized_hash_and_users_count_source_queries(
    api: Any, stack: LocalStack, cost_connector: str
) -> None:
    """Given grouping by parameterized hash and by role, then query counts equal the source's distinct queries, and
    each hash shows its sample query's text."""
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
    # each hash's text is its sample's (its greatest QUERY_ID), found by the raw table's key (0508)
    samples: dict[str, tuple[str, str]] = {}
    for key, query_id, text in sf_rows(
        stack,
        f"SELECT COALESCE(QUERY_PARAMETERIZED_HASH, ''), QUERY_ID, LEFT(QUERY_TEXT, 500) FROM {AU}.QUERY_HISTORY "
        f"WHERE START_TIME >= {lo} AND START_TIME < {hi}",
    ):
        samples[key] = max(samples.get(key, (query_id, text)), (query_id, text))
    assert {i["key"]: i["query_text"] for i in by_hash["page"]["items"]} == {k: t for k, (_, t) in samples.items()}
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
    # Cloud services per hash, role and user: billed (x each query's UTC day's fraction) and raw, from the source.
    queries = _source_queries(stack, lo, hi)
    for items, name, key in (
        (by_hash["page"]["items"], "key", "hash"),
        (by_role["page"]["items"], "role_name", "role"),
        (by_user["page"]["items"], "user_name", "user"),
    ):
        expected = _sums(queries, key)
        assert {i[name] for i in items} == expected.keys()
        for i in items:
            billed, used = expected[i[name]]
            assert close(i["credits_cloud_services"], billed, "0.000001"), (key, i)
            assert close(i["credits_cloud_services_used"], used, "0.000001"), (key, i)
            assert close(i["credits"], Decimal(str(i["credits_compute"])) + billed, "0.000002"), (key, i)


def _day_of_kind(stack: LocalStack, billed_zero: bool) -> date:
    """The latest complete UTC day in the window whose cloud services the adjustment cancels (fraction 0), or
    that has no adjustment (fraction 1), per METERING_DAILY_HISTORY's WAREHOUSE_METERING rows."""
    start, end, _, _ = _window()
    condition = (
        "CREDITS_USED_CLOUD_SERVICES + CREDITS_ADJUSTMENT_CLOUD_SERVICES <= 0"
        if billed_zero
        else "CREDITS_ADJUSTMENT_CLOUD_SERVICES = 0"
    )
    rows = sf_rows(
        stack,
        f"SELECT MAX(USAGE_DATE) FROM {AU}.METERING_DAILY_HISTORY WHERE SERVICE_TYPE = 'WAREHOUSE_METERING' "
        f"AND CREDITS_USED_CLOUD_SERVICES > 0 AND {condition} AND USAGE_DATE BETWEEN '{start}' AND '{end}' "
        f"AND USAGE_DATE < '{end}'",
    )
    day = rows[0][0]
    assert day is not None, "the synthetic account plants days of both kinds"
    return day  # type: ignore[no-any-return]


def _one_day(api: Any, stack: LocalStack, cid: str, day: date) -> tuple[list[dict[str, Any]], ...]:
    lo, hi = f"'{day} 00:00:00'", f"'{day + timedelta(days=1)} 00:00:00'"
    source = _source_queries(stack, lo, hi)
    assert source and any(q["used"] > 0 for q in source)
    top = _get(api, cid, "queries", start=day, end=day, group_by="query", limit=500)["page"]["items"]
    hashes = _get(api, cid, "queries", start=day, end=day, group_by="parameterized_hash", limit=500)["page"]["items"]
    users = _get(api, cid, "users", start=day, end=day, group_by="user", limit=500)["page"]["items"]
    roles = _get(api, cid, "users", start=day, end=day, group_by="role", limit=500)["page"]["items"]
    assert len(top) == len(source)
    used = sum((q["used"] for q in source), Decimal(0))
    for items in (top, hashes, users, roles):
        assert close(sum(Decimal(str(i["credits_cloud_services_used"])) for i in items), used, "0.00001")
    return source, top, hashes, users, roles


def test_day_whose_adjustment_cancels_cloud_services_bills_none(
    api: Any, stack: LocalStack, cost_connector: str
) -> None:
    """Given a UTC day whose cloud-services adjustment cancels all its cloud services (billed fraction 0), when its
    queries are read one by one, per hash, per user and per role, then no cloud services are billed (the raw
    figure stays beside it) and each cost is its compute alone."""
    day = _day_of_kind(stack, billed_zero=True)
    _, *groups = _one_day(api, stack, cost_connector, day)
    for items in groups:
        assert any(Decimal(str(i["credits_cloud_services_used"])) > 0 for i in items)
        for i in items:
            assert i["credits_cloud_services"] == 0
            # rows are rounded so that pages add up to the total (cumulative rounding): within one micro-credit
            assert close(i["credits"], i["credits_compute"], "0.000001")


def test_day_without_adjustment_bills_all_cloud_services(api: Any, stack: LocalStack, cost_connector: str) -> None:
    """Given a UTC day with no cloud-services adjustment (billed fraction 1), when its queries are read one by one,
    per hash, per user and per role, then billed cloud services equal the raw ones, as in the source."""
    day = _day_of_kind(stack, billed_zero=False)
    source, top, *groups = _one_day(api, stack, cost_connector, day)
    raw = {q["id"]: q["used"] for q in source}
    for i in top:
        assert close(i["credits_cloud_services"], raw[i["key"]], "0.000001")
    for items in (top, *groups):
        for i in items:
            assert i["credits_cloud_services"] == i["credits_cloud_services_used"]
            assert close(
                i["credits"], Decimal(str(i["credits_compute"])) + Decimal(str(i["credits_cloud_services"])), "0.000001"
            )


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


# ---------------------------------------------------------------- reconciliation: every total = the sum of its rows


def D(value: Any) -> Decimal:
    return Decimal(str(value))


def _total(rows: list[dict[str, Any]], field: str) -> Decimal:
    return sum((D(r[field]) for r in rows), Decimal(0))


def _pages(api: Any, cid: str, ep: str, **query: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every row of a paginated answer (pages of 7, so that page edges are crossed), with the first page's body."""
    rows: list[dict[str, Any]] = []
    first: dict[str, Any] | None = None
    while True:
        body = _get(api, cid, ep, limit=7, offset=len(rows), **query)
        first = first or body
        rows += body["page"]["items"]
        if not body["page"]["items"] or len(rows) >= body["page"]["total"]:
            return first, rows


def test_overview_headline_equals_the_sum_of_its_rows(api: Any, cost_connector: str) -> None:
    """Given the synced synthetic account, when the overview is read, then its billed headline equals the sum of its
    service-type rows to the micro-credit and to the cent, and the top warehouses plus 'other' add up to the
    warehouses' total. Before: the headline was billed (after the cloud-services adjustment) and the rows used."""
    for period in ("30d", "7d", "mtd"):
        body = _get(api, cost_connector, "overview", period=period)
        assert _total(body["by_service_type"], "credits") == D(body["credits_billed"])
        assert _total(body["by_service_type"], "amount") == D(body["amount"])
        assert body["figure"] == "billed" and body["sync"]["status"] == "synced"
        assert _total(body["top_warehouses"], "credits") == D(body["warehouses"]["credits"])
        assert _total(body["top_warehouses"], "amount") == D(body["warehouses"]["amount"])


def test_every_breakdown_adds_up_to_its_total(api: Any, cost_connector: str) -> None:
    """Given the synced synthetic account, when daily, warehouses, users and queries are read (every page), then each
    answer's rows add up exactly to its own total, in credits and in currency, and each says its figure."""
    for group_by in ("service_type", "warehouse", "total"):
        body = _get(api, cost_connector, "daily", group_by=group_by)
        assert body["figure"] == "used"
        assert _total(body["items"], "credits") == D(body["total"]["credits"])
        assert _total(body["items"], "amount") == D(body["total"]["amount"])
    daily_total = _get(api, cost_connector, "daily", group_by="total")["total"]
    body, rows = _pages(api, cost_connector, "warehouses")
    by_warehouse = _get(api, cost_connector, "daily", group_by="warehouse")["total"]
    assert body["figure"] == "used" and body["total"] == by_warehouse  # one figure, two breakdowns of it
    assert D(daily_total["credits"]) > D(by_warehouse["credits"])  # serverless services too
    assert _total(rows, "credits") == D(body["total"]["credits"]) and _total(rows, "amount") == D(
        body["total"]["amount"]
    )
    query_totals = []
    for ep, group_by in (("users", "user"), ("users", "role"), ("queries", "parameterized_hash"), ("queries", "query")):
        body, rows = _pages(api, cost_connector, ep, group_by=group_by)
        assert body["figure"] == "query"
        assert _total(rows, "credits") == D(body["total"]["credits"]), (ep, group_by)
        assert _total(rows, "amount") == D(body["total"]["amount"]), (ep, group_by)
        query_totals.append(body["total"])
    assert all(t == query_totals[0] for t in query_totals)


def test_overview_forecast_endpoint_and_budget_forecast_agree(api: Any, cost_connector: str) -> None:
    """Given a monthly account budget in credits, when the overview, the forecast endpoint and the budget are
    evaluated at the same instant, then the three month-end forecasts and month-to-date spends are the same number,
    and the budget's spend equals the sum of the daily rows of the month so far. Before: two methods (10,536 vs
    10,302 credits in the demo)."""
    from snowwatch.db import query_one
    from snowwatch.models.connectors import Connector
    from snowwatch.services import budgets, cost
    from tests.integration.cost_helpers import pg

    made = api.post(
        f"/api/connectors/{cost_connector}/budgets",
        json_body={"name": "forecast-agrees", "scope_type": "account", "period": "monthly", "amount": 1000000},
    )
    assert made.status == 201, made.body
    conn = pg()
    connector = Connector.model_validate(
        query_one(conn, "SELECT * FROM enterprise.connectors WHERE id = :c", c=cost_connector)
    )
    now = datetime.now(UTC)
    overview = cost.overview(conn, connector, "30d", now=now).forecast
    endpoint = cost.forecast(conn, connector, now=now).month
    status = budgets.get(conn, connector, made.json()["id"], now=now).status
    assert status is not None
    assert overview.forecast_credits == endpoint.forecast_credits == status.forecast
    assert overview.month_to_date_credits == endpoint.month_to_date_credits == status.spend
    month = cost.daily(conn, connector, now.date().replace(day=1), now.date(), "total")
    assert abs(D(month.total.credits) - D(status.spend)) <= Decimal("0.0001")


def test_a_connector_never_synced_says_so_on_every_cost_endpoint(api: Any, lone_connector: Any) -> None:
    """Given a connector that has never synced, when every cost endpoint is read, then each answers 200 with
    `sync.status = "never"` (its figures are unknown, not zero), while a synced connector says "synced". Before:
    "0 cr" and "No waste found." with nothing saying the data was never read."""
    for ep in ("overview", "daily", "warehouses", "storage", "waste", "queries", "users", "anomalies", "forecast"):
        body = _get(api, str(lone_connector.id), ep)
        assert body["sync"] == {"status": "never", "last_sync_at": None}, ep


def test_anomaly_drivers_add_up_to_the_excess(api: Any, stack: LocalStack, cost_connector: str) -> None:
    """Given the planted 6x day, when anomalies are read, then the day lists its drivers per dimension (service types,
    warehouses, users, query hashes) ranked by contribution, each dimension's rows add up exactly to the excess over
    the baseline, and the warehouse that drove it leads. Before: an anomaly named a day and nothing else."""
    body = _get(api, cost_connector, "anomalies")
    above = [a for a in body["items"] if a["direction"] == "above"]
    assert above
    for a in above:
        excess = D(a["excess_credits"])
        assert excess == D(a["credits"]) - D(a["baseline_median"])
        dims = {d["dimension"] for d in a["drivers"]}
        assert dims == {"service_type", "warehouse", "user", "query_hash"}
        for dim in dims:
            rows = [d for d in a["drivers"] if d["dimension"] == dim]
            assert _total(rows, "credits") == excess, dim
        top = next(d for d in a["drivers"] if d["dimension"] == "warehouse")
        assert D(top["credits"]) > 0 and top["key"] != "(not in this dimension)"


def test_attribution_by_dbt_model_and_query_tag(api: Any, stack: LocalStack, cost_connector: str) -> None:
    """Given queries tagged with dbt's JSON query tag (a new invocation id per run) and queries whose dbt comment sits
    after the 10,000th character, when cost is grouped by dbt model and by query tag, then each model is one row
    (the comment found although the text is cut), runs of a model share one tag row, the rows add up to the total,
    and `attributed` is the total minus the rows without a key; `queries?group_by=dbt_model` answers the same."""
    _, _, lo, hi = _window()
    body, rows = _pages(api, cost_connector, "attribution", by="dbt_model")
    by_key = {r["key"]: r for r in rows}
    assert {"model.shop.orders_0", "model.shop.orders_1", "model.shop.orders_2", "model.shop.customers"} <= set(by_key)
    commented = sf_rows(
        stack,
        f"SELECT COUNT(DISTINCT QUERY_ID) FROM {AU}.QUERY_HISTORY WHERE START_TIME >= {lo} AND START_TIME < {hi} "
        f"AND QUERY_TEXT LIKE '%model.shop.customers%' AND LENGTH(QUERY_TEXT) > 10000 "
        f"AND COALESCE(QUERY_TAG, '') NOT LIKE '{{%'",  # a JSON tag naming a model comes first
    )[0][0]
    assert commented and by_key["model.shop.customers"]["queries"] == commented
    assert _total(rows, "credits") == D(body["total"]["credits"])
    assert D(body["attributed"]["credits"]) == D(body["total"]["credits"]) - D(by_key[""]["credits"])
    same, _ = _pages(api, cost_connector, "queries", group_by="dbt_model")
    assert same["total"] == body["total"]
    _, tags = _pages(api, cost_connector, "attribution", by="query_tag")
    keys = {r["key"] for r in tags}
    assert "finance" in keys and '{"app":"dbt","node_id":"model.shop.orders_0"}' in keys
    assert not any("invocation_id" in k for k in keys)


def test_a_tag_scoped_budget_parses_its_tag_like_the_attribution(api: Any, cost_connector: str) -> None:
    """Given a budget scoped to a dbt JSON query tag as a user copies it from one run (with its invocation id), when it
    is evaluated, then it matches every run of that model: its spend is that tag's compute this month."""
    import json as _json

    tag = _json.dumps({"app": "dbt", "node_id": "model.shop.orders_1", "invocation_id": "copied-from-a-run"})
    made = api.post(
        f"/api/connectors/{cost_connector}/budgets",
        json_body={"name": "orders_1", "scope_type": "query_tag", "query_tag": tag, "period": "monthly", "amount": 1e6},
    )
    assert made.status == 201, made.body
    assert made.json()["query_tag"] == '{"app":"dbt","node_id":"model.shop.orders_1"}'
    today = datetime.now(UTC).date()
    _, rows = _pages(api, cost_connector, "attribution", by="query_tag", start=today.replace(day=1), end=today)
    compute = next(D(r["credits_compute"]) for r in rows if r["key"] == made.json()["query_tag"])
    assert compute > 0 and abs(D(made.json()["status"]["spend"]) - compute) <= Decimal("0.0001")


def test_a_warehouse_drills_down_to_its_queries(api: Any, stack: LocalStack, cost_connector: str) -> None:
    """Given the warehouses list, when one warehouse's queries are read, then every page holds only its queries, the
    rows add up to its own total, and the count equals the source's distinct queries on it; the filter with a
    grouping is 422."""
    _, _, lo, hi = _window()
    body, rows = _pages(api, cost_connector, "queries", warehouse="BI_WH")
    assert rows and all(r["warehouse_name"] == "BI_WH" for r in rows)
    assert _total(rows, "credits") == D(body["total"]["credits"])
    src = sf_rows(
        stack,
        f"SELECT COUNT(DISTINCT QUERY_ID) FROM {AU}.QUERY_HISTORY WHERE WAREHOUSE_NAME = 'BI_WH' "
        f"AND START_TIME >= {lo} AND START_TIME < {hi}",
    )[0][0]
    assert body["page"]["total"] == len(rows) == src
    bad = api.get(
        f"/api/connectors/{cost_connector}/cost/queries", query={"warehouse": "BI_WH", "group_by": "parameterized_hash"}
    )
    assert bad.status == 422
