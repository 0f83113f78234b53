"""Login rules over LOGIN_HISTORY (7 days): failure bursts, spraying, failures then a success, and
Snowflake's malicious-IP classification. Failure rules ignore the noise codes 390156 and 394304."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from uuid import UUID

from snowwatch.db import Connection
from snowwatch.repositories import security_events as events
from snowwatch.repositories.security_events import BurstRow, FailuresThenSuccessRow, MaliciousLoginRow, SprayRow
from snowwatch.services.security_rules.base import EVENT_LOOKBACK, Draft, Rule, block_ip_sql, disable_sql, ident

BURST_THRESHOLD = 5
BURST_WINDOW_MINUTES = 60
SPRAY_MIN_USERS = 5
SPRAY_WINDOW_MINUTES = 60
FAILURES_BEFORE_SUCCESS = 3
FAILURES_BEFORE_SUCCESS_WINDOW_MINUTES = 60
NOISE = "Noise codes 390156 and 394304 are ignored."


def bursts(conn: Connection, connector_id: UUID, now: datetime, by: str) -> list[BurstRow]:
    return events.failed_login_bursts(
        conn, connector_id, now - EVENT_LOOKBACK, by=by, threshold=BURST_THRESHOLD, window_minutes=BURST_WINDOW_MINUTES
    )


def judge_burst_user(rows: Sequence[BurstRow], now: datetime) -> Iterator[Draft]:
    for r in rows:
        yield Draft(
            r["subject"],
            f"{r['max_in_window']} failed logins for {r['subject']} within {BURST_WINDOW_MINUTES} minutes "
            f"({r['failures']} in the last {EVENT_LOOKBACK.days} days) from {len(r['ips'])} IP(s).",
            [r],
            f"ALTER USER {ident(r['subject'])} SET MUST_CHANGE_PASSWORD = TRUE;  -- and review the source IPs",
            r["last_failure"],
        )


def judge_burst_ip(rows: Sequence[BurstRow], now: datetime) -> Iterator[Draft]:
    for r in rows:
        yield Draft(
            r["subject"],
            f"{r['max_in_window']} failed logins from {r['subject']} within {BURST_WINDOW_MINUTES} minutes "
            f"against {len(r['users'])} user name(s).",
            [r],
            block_ip_sql(r["subject"]),
            r["last_failure"],
        )


def judge_spraying(rows: Sequence[SprayRow], now: datetime) -> Iterator[Draft]:
    for r in rows:
        yield Draft(
            r["subject"],
            f"{r['subject']} failed against {r['max_users_in_window']} distinct users within "
            f"{SPRAY_WINDOW_MINUTES} minutes.",
            [r],
            block_ip_sql(r["subject"]),
            r["last_failure"],
        )


def judge_failures_then_success(rows: Sequence[FailuresThenSuccessRow], now: datetime) -> Iterator[Draft]:
    for r in rows:
        yield Draft(
            r["subject"],
            f"{r['subject']} signed in from {r['success_ip']} at {r['success_at'].isoformat()} after "
            f"{r['failures_before']} failures.",
            [r],
            disable_sql(r["subject"], "until the owner confirms; then rotate"),
            r["success_at"],
        )


def judge_malicious_ip(rows: Sequence[MaliciousLoginRow], now: datetime) -> Iterator[Draft]:
    by_ip: dict[str, list[MaliciousLoginRow]] = {}
    for r in rows:
        by_ip.setdefault(r["client_ip"] or "(unknown)", []).append(r)
    for ip, logins in by_ip.items():
        succeeded = [x for x in logins if x["is_success"]]
        users = sorted({x["user_name"] or "(unidentified)" for x in logins})
        categories = sorted({c for x in logins for c in (x["info"] or {}).get("categories", [])})
        sql = block_ip_sql(ip)
        if succeeded:
            sql += "\n" + "\n".join(
                disable_sql(u, "until reviewed") for u in sorted({x["user_name"] for x in succeeded if x["user_name"]})
            )
        yield Draft(
            ip,
            f"{len(logins)} login(s) from {ip} flagged by malicious-IP protection ({', '.join(categories)}); "
            f"{len(succeeded)} succeeded; users: {', '.join(users)}.",
            logins,
            sql,
            max(x["event_timestamp"] for x in logins),
            severity="critical" if succeeded else None,
        )


RULES = [
    Rule(
        id="failed_login_burst_user",
        severity="medium",
        title="Failed-login burst on a user",
        fires=f"≥ {BURST_THRESHOLD} failures for one user inside any sliding {BURST_WINDOW_MINUTES}-minute window",
        rationale=f"{BURST_THRESHOLD} or more failed logins for one user within {BURST_WINDOW_MINUTES} minutes: "
        f"password guessing or a broken integration. {NOISE}",
        fetch=lambda conn, c, now: events.failed_login_bursts(
            conn,
            c,
            now - EVENT_LOOKBACK,
            by="user_name",
            threshold=BURST_THRESHOLD,
            window_minutes=BURST_WINDOW_MINUTES,
        ),
        judge=judge_burst_user,
        incident="user",
    ),
    Rule(
        id="failed_login_burst_ip",
        severity="medium",
        title="Failed-login burst from an IP",
        fires=f"≥ {BURST_THRESHOLD} failures from one IP inside any {BURST_WINDOW_MINUTES}-minute window",
        rationale=f"{BURST_THRESHOLD} or more failed logins from one IP within {BURST_WINDOW_MINUTES} minutes: "
        f"brute force from one source. {NOISE}",
        fetch=lambda conn, c, now: events.failed_login_bursts(
            conn,
            c,
            now - EVENT_LOOKBACK,
            by="client_ip",
            threshold=BURST_THRESHOLD,
            window_minutes=BURST_WINDOW_MINUTES,
        ),
        judge=judge_burst_ip,
        incident="ip",
    ),
    Rule(
        id="password_spraying",
        severity="high",
        title="Password spraying",
        fires=f"One IP failing against ≥ {SPRAY_MIN_USERS} distinct identified users within "
        f"{SPRAY_WINDOW_MINUTES} minutes",
        rationale=f"One IP failing against {SPRAY_MIN_USERS} or more distinct users within "
        f"{SPRAY_WINDOW_MINUTES} minutes is the signature of credential stuffing with leaked password lists.",
        fetch=lambda conn, c, now: events.password_spraying(
            conn, c, now - EVENT_LOOKBACK, min_users=SPRAY_MIN_USERS, window_minutes=SPRAY_WINDOW_MINUTES
        ),
        judge=judge_spraying,
        incident="ip",
    ),
    Rule(
        id="failures_then_success",
        severity="high",
        title="Failed logins followed by a success",
        fires=f"≥ {FAILURES_BEFORE_SUCCESS} failures of a user and then a success of that user within "
        f"{FAILURES_BEFORE_SUCCESS_WINDOW_MINUTES} minutes",
        rationale=f"{FAILURES_BEFORE_SUCCESS} or more failures and then a successful login of the same user "
        f"within {FAILURES_BEFORE_SUCCESS_WINDOW_MINUTES} minutes: a guessed password, until the owner confirms.",
        fetch=lambda conn, c, now: events.failures_then_success(
            conn,
            c,
            now - EVENT_LOOKBACK,
            min_failures=FAILURES_BEFORE_SUCCESS,
            window_minutes=FAILURES_BEFORE_SUCCESS_WINDOW_MINUTES,
        ),
        judge=judge_failures_then_success,
        incident="user",
    ),
    Rule(
        id="malicious_ip_login",
        severity="high",
        title="Login from a malicious IP",
        fires="`LOGIN_DETAILS.malicious_ip_protection_info` with categories, and the login succeeded or "
        "`riskClassification` is MEDIUM/HIGH (one alert per IP; **critical if a login succeeded**)",
        rationale="Snowflake's malicious-IP protection classifies source IPs (anonymous VPNs, TOR exits, known "
        "bad actors) in LOGIN_DETAILS; a success from such an IP is critical.",
        fetch=lambda conn, c, now: events.malicious_ip_logins(conn, c, now - EVENT_LOOKBACK),
        judge=judge_malicious_ip,
        incident="ip",
    ),
]
