"""The one route table: path, method, who may call, stage-cache TTL and the query strings.

The API resolver (functions/api) registers exactly these routes, the local server emulates the
API Gateway stage cache from them, and the CDK builds every API Gateway method from them.
A test fails if the resolver and this table drift apart.

Cache keys always include the Authorization header, every path parameter and every query string
listed here (never the path alone: tenants would see each other's data). Writes are never cached.
A cached route's key also holds ``FRESHNESS`` (``v``), a query string the API ignores: a client that has
just changed a connector's data sets it (to the time of its change) and gets a copy newer than the change
at once instead of waiting out the TTL (docs/decisions.md, "freshness key").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Auth = Literal["public", "member", "admin"]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]

PAGE = ("limit", "offset")
RANGE = ("start", "end")
FRESHNESS = "v"  # in every cached route's cache key, ignored by the API (see the module docstring)
FRESHNESS_MAX_CHARS = 64  # longer is a 422: each value is a cache entry


@dataclass(frozen=True)
class Route:
    name: str
    method: Method
    path: str  # API Gateway form: /api/connectors/{connector_id}/cost/overview
    auth: Auth = "member"
    cache_ttl: int = 0  # seconds; 0 = not cached
    query: tuple[str, ...] = ()
    status: int = 200  # the success status (201 created, 202 accepted, 204 no content)

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.path))

    @property
    def resolver_path(self) -> str:
        """Powertools form: /api/connectors/<connector_id>/cost/overview."""
        return re.sub(r"{(\w+)}", r"<\1>", self.path)

    @property
    def cached(self) -> bool:
        return self.method == "GET" and self.cache_ttl > 0

    @property
    def cache_key_query(self) -> tuple[str, ...]:
        """The query strings a cached answer is keyed on: the declared ones and the freshness key."""
        return (*self.query, FRESHNESS) if self.cached else self.query


C = "/api/connectors/{connector_id}"
SEC = f"{C}/security/snowflake"

ROUTES: tuple[Route, ...] = (
    # platform
    Route("health", "GET", "/health", auth="public"),
    Route("me", "GET", "/api/me"),
    # connectors
    Route("connectors_list", "GET", "/api/connectors", query=PAGE),
    Route("connectors_create", "POST", "/api/connectors", auth="admin", status=201),
    Route("connectors_get", "GET", C),
    Route("connectors_update", "PATCH", C, auth="admin"),
    Route("connectors_access", "GET", f"{C}/access"),
    Route("connectors_delete", "DELETE", C, auth="admin", status=204),
    # jobs
    Route("jobs_list", "GET", "/api/jobs"),
    Route("jobs_run", "POST", "/api/jobs/{job}/run", auth="admin", status=202),
    Route("jobs_runs_list", "GET", "/api/jobs/runs", query=("job", "connector_id", "status", *PAGE)),
    Route("jobs_runs_get", "GET", "/api/jobs/runs/{run_id}"),
    # cost (all GET, cached)
    Route("cost_overview", "GET", f"{C}/cost/overview", cache_ttl=300, query=("period", *RANGE)),
    Route("cost_daily", "GET", f"{C}/cost/daily", cache_ttl=300, query=(*RANGE, "group_by")),
    Route("cost_warehouses", "GET", f"{C}/cost/warehouses", cache_ttl=300, query=(*RANGE, *PAGE)),
    Route("cost_storage", "GET", f"{C}/cost/storage", cache_ttl=600, query=(*RANGE, *PAGE)),
    Route("cost_waste", "GET", f"{C}/cost/waste", cache_ttl=600, query=RANGE),
    Route("cost_queries", "GET", f"{C}/cost/queries", cache_ttl=300, query=(*RANGE, "group_by", *PAGE, "warehouse")),
    Route("cost_users", "GET", f"{C}/cost/users", cache_ttl=300, query=(*RANGE, "group_by", *PAGE)),
    Route("cost_anomalies", "GET", f"{C}/cost/anomalies", cache_ttl=600, query=RANGE),
    Route("cost_forecast", "GET", f"{C}/cost/forecast", cache_ttl=300),
    Route("cost_savings", "GET", f"{C}/cost/savings", cache_ttl=300),
    Route("org_overview", "GET", "/api/org/overview", query=PAGE),  # per org: never stage-cached
    Route("cost_attribution", "GET", f"{C}/cost/attribution", cache_ttl=300, query=("by", *RANGE, *PAGE)),
    Route("cost_finding_state", "PUT", f"{C}/cost/findings/{{finding_id}}", auth="admin"),
    # budgets (reads are not cached: a budget must read back right after it is written)
    Route("budgets_list", "GET", f"{C}/budgets", query=PAGE),
    Route("budgets_create", "POST", f"{C}/budgets", auth="admin", status=201),
    Route("budgets_get", "GET", f"{C}/budgets/{{budget_id}}"),
    Route("budgets_update", "PUT", f"{C}/budgets/{{budget_id}}", auth="admin"),
    Route("budgets_delete", "DELETE", f"{C}/budgets/{{budget_id}}", auth="admin", status=204),
    Route("budgets_history", "GET", f"{C}/budgets/{{budget_id}}/history", query=RANGE),
    Route("budgets_alerts", "GET", f"{C}/budgets/{{budget_id}}/alerts", query=PAGE),
    # security
    Route("security_summary", "GET", f"{SEC}/summary", cache_ttl=300),
    Route(
        "security_alerts",
        "GET",
        f"{SEC}/alerts",
        cache_ttl=180,
        query=("status", "severity", "rule", *PAGE),
    ),
    Route("security_stale_users", "GET", f"{SEC}/stale-users", cache_ttl=600, query=PAGE),
    Route("security_failed_logins", "GET", f"{SEC}/failed-logins", cache_ttl=180, query=("window_hours",)),
    Route(
        "security_login_history",
        "GET",
        f"{SEC}/login-history",
        cache_ttl=180,
        query=("user", "ip", "success", *RANGE, *PAGE),
    ),
    Route("security_no_mfa", "GET", f"{SEC}/no-mfa", cache_ttl=600, query=PAGE),
    Route("security_admin_access", "GET", f"{SEC}/admin-access", cache_ttl=600),
    Route("security_extract", "POST", f"{SEC}/extract", auth="admin", status=202),
    Route("security_alert", "GET", f"{SEC}/alerts/{{alert_id}}"),
    Route("security_resolve", "PUT", f"{SEC}/alerts/{{alert_id}}/resolve", auth="admin"),
    Route("security_acknowledge", "PUT", f"{SEC}/alerts/{{alert_id}}/acknowledge", auth="admin"),
    Route("security_snooze", "PUT", f"{SEC}/alerts/{{alert_id}}/snooze", auth="admin"),
    Route(
        "security_authentication_posture",
        "GET",
        f"{SEC}/authentication-posture",
        cache_ttl=600,
        query=("verdict", *PAGE),
    ),
    Route("security_trend", "GET", f"{SEC}/trend", cache_ttl=600, query=("days",)),
    Route("security_login_timeline", "GET", f"{SEC}/logins/{{event_id}}/timeline", cache_ttl=300),
    Route("security_incidents", "GET", f"{SEC}/incidents", cache_ttl=180, query=("status", *PAGE)),
    Route("security_incident", "GET", f"{SEC}/incidents/{{incident_id}}"),
    Route("security_incident_acknowledge", "PUT", f"{SEC}/incidents/{{incident_id}}/acknowledge", auth="admin"),
    Route("security_incident_resolve", "PUT", f"{SEC}/incidents/{{incident_id}}/resolve", auth="admin"),
)

BY_NAME: dict[str, Route] = {r.name: r for r in ROUTES}
BY_KEY: dict[tuple[str, str], Route] = {(r.method, r.path): r for r in ROUTES}


def path_of(name: str) -> str:
    """The resolver path of a named route (routers register through this, never a literal)."""
    return BY_NAME[name].resolver_path


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route and path parameters that serve a concrete request path (used by the local server)."""
    for route in ROUTES:
        if route.method != method:
            continue
        pattern = "^" + re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", route.path) + "$"
        found = re.match(pattern, path)
        if found:
            return route, found.groupdict()
    return None
