"""ACCESS_HISTORY rules (Enterprise edition): reads far beyond the user's own baseline, first access to
policy-protected objects, many tables right after a login from a new IP."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from snowwatch.repositories import security_access as access
from snowwatch.repositories.security_access import NewIpReadRow, PolicyAccessRow, VolumeRow
from snowwatch.services.security_rules.base import EVENT_LOOKBACK, Draft, Rule, disable_sql, literal

RECENT = timedelta(hours=24)
BASELINE_DAYS = 28
MIN_BASELINE_DAYS = 7
OBJECTS_FACTOR = 5
MIN_OBJECTS = 20
BYTES_FACTOR = 10
MIN_BYTES = 1024**3
NEW_IP_MINUTES = 60
NEW_IP_MIN_TABLES = 10


def _review(user: str, since: datetime) -> str:
    return (
        "-- review what the user read (snowwatch never changes your account):\n"
        "SELECT * FROM SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY\n"
        f"WHERE USER_NAME = {literal(user)} AND QUERY_START_TIME >= {literal(since.isoformat())};"
    )


def beyond_baseline(r: VolumeRow) -> list[str]:
    """Which measures of the last 24 h are far beyond the user's daily average (empty: none)."""
    out = []
    objects, avg = r["objects_24h"] or 0, r["objects_daily_avg"] or 0.0
    if r["object_days"] >= MIN_BASELINE_DAYS and objects >= MIN_OBJECTS and objects >= OBJECTS_FACTOR * avg:
        out.append(f"{objects} distinct objects read in 24 h against {avg:.1f} a day")
    size, bavg = r["bytes_24h"] or 0, r["bytes_daily_avg"] or 0.0
    if r["byte_days"] >= MIN_BASELINE_DAYS and size >= MIN_BYTES and size >= BYTES_FACTOR * bavg:
        out.append(f"{size / 1024**3:.1f} GiB scanned in 24 h against {bavg / 1024**3:.2f} GiB a day")
    return out


def judge_volume(rows: Sequence[VolumeRow], now: datetime) -> Iterator[Draft]:
    for r in rows:
        why = beyond_baseline(r)
        if why:
            yield Draft(
                r["subject"],
                f"{r['subject']} read far beyond their own {BASELINE_DAYS}-day baseline: {'; '.join(why)}.",
                [r],
                _review(r["subject"], now - RECENT),
                r["last_at"],
            )


def judge_policy_access(rows: Sequence[PolicyAccessRow], now: datetime) -> Iterator[Draft]:
    by_user: dict[str, list[PolicyAccessRow]] = {}
    for r in rows:
        by_user.setdefault(r["subject"], []).append(r)
    for user, firsts in by_user.items():
        names = ", ".join(f"{x['object_name']} ({', '.join(x['policies'])})" for x in firsts)
        yield Draft(
            user,
            f"{user} accessed for the first time in {BASELINE_DAYS} days: {names}.",
            firsts,
            _review(user, min(x["first_access"] for x in firsts)),
            max(x["first_access"] for x in firsts),
        )


def judge_new_ip(rows: Sequence[NewIpReadRow], now: datetime) -> Iterator[Draft]:
    by_user: dict[str, list[NewIpReadRow]] = {}
    for r in rows:
        by_user.setdefault(r["subject"], []).append(r)
    for user, hits in by_user.items():
        last = max(hits, key=lambda x: x["login_at"])
        yield Draft(
            user,
            f"{user} signed in from {last['client_ip']}, an IP never seen for them, at "
            f"{last['login_at'].isoformat()} and read {last['tables']} tables within {NEW_IP_MINUTES} minutes.",
            hits,
            disable_sql(user, "until the owner confirms the new location; then review the reads"),
            last["last_read"],
        )


RULES = [
    Rule(
        id="access_beyond_baseline",
        severity="medium",
        title="Reads far beyond the user's baseline",
        fires=f"In the last 24 h a user read ≥ {MIN_OBJECTS} distinct objects and ≥ {OBJECTS_FACTOR} times their "
        f"daily average of the {BASELINE_DAYS} days before, or scanned ≥ 1 GiB and ≥ {BYTES_FACTOR} times their daily "
        f"average; only users with ≥ {MIN_BASELINE_DAYS} active baseline days",
        rationale="A stolen credential used for collection reads far more than its owner ever does; comparing a "
        "user with their own history catches it without a global threshold that fits nobody.",
        fetch=lambda conn, c, now: access.volume(conn, c, now - RECENT, now - RECENT - timedelta(days=BASELINE_DAYS)),
        judge=judge_volume,
        incident="user",
    ),
    Rule(
        id="masked_object_first_access",
        severity="medium",
        title="First access to a policy-protected object",
        fires=f"A user's first read (7 days) of an object under a masking or row-access policy "
        f"(`POLICIES_REFERENCED`), with no read of it by that user in the {BASELINE_DAYS} days before",
        rationale="Objects behind masking or row-access policies hold the sensitive data; a user reaching one for "
        "the first time is worth a look, especially right before an unload.",
        fetch=lambda conn, c, now: access.first_policy_access(conn, c, now - EVENT_LOOKBACK, BASELINE_DAYS),
        judge=judge_policy_access,
        incident="user",
    ),
    Rule(
        id="new_ip_bulk_read",
        severity="high",
        title="Many tables read right after a login from a new IP",
        fires=f"A successful login (7 days) from an IP that user never signed in from before, followed within "
        f"{NEW_IP_MINUTES} minutes by reads of ≥ {NEW_IP_MIN_TABLES} distinct tables or views",
        rationale="The 2024 intrusions signed in with stolen credentials from new infrastructure and enumerated "
        "and read tables at once; a familiar IP or a handful of tables is ordinary.",
        fetch=lambda conn, c, now: access.reads_after_new_ip_login(
            conn, c, now - EVENT_LOOKBACK, minutes=NEW_IP_MINUTES, min_tables=NEW_IP_MIN_TABLES
        ),
        judge=judge_new_ip,
        incident="user",
    ),
]
