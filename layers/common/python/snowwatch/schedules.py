"""The one schedule table: which job runs when, in which timezone, with which payload.

The CDK turns each entry into an EventBridge Scheduler schedule (cron with a timezone); the
local stack runs the same entries in-process. Cron is the five-field form (minute hour day
month weekday); the CDK converts it to EventBridge's six-field form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

JobName = Literal["sync", "budget_check", "notify", "snapshot", "security"]
JOBS: tuple[JobName, ...] = ("sync", "budget_check", "notify", "snapshot", "security")

# Jobs that do their work per connector (a scheduled run fans out one unit per active connector).
PER_CONNECTOR_JOBS: frozenset[str] = frozenset({"sync", "security"})

JOB_DESCRIPTIONS: dict[str, str] = {
    "sync": "Read Snowflake ACCOUNT_USAGE cost views into Postgres (full daily, metering hourly)",
    "budget_check": "Evaluate every active budget, record crossed thresholds and queue alerts",
    "notify": "Relay: re-publish notifications still pending, mark those past the attempt limit failed",
    "snapshot": "Write one spend snapshot per budget per day",
    "security": "Extract login, user, grant and policy history and evaluate the security rules",
}


@dataclass(frozen=True)
class Schedule:
    id: str
    job: JobName
    cron: str  # minute hour day month weekday
    payload: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def eventbridge_expression(self) -> str:
        minute, hour, day, month, weekday = self.cron.split()
        # EventBridge wants '?' in one of day-of-month / day-of-week, a year field, and counts
        # weekdays 1-7 from Sunday where cron counts 0-6.
        if weekday == "*":
            weekday = "?"
        else:
            weekday = ",".join(str(int(d) + 1) if d.isdigit() else d for d in weekday.split(","))
            if day == "*":
                day = "?"
        return f"cron({minute} {hour} {day} {month} {weekday} *)"

    def next_run(self, after: datetime, timezone: str) -> datetime:
        """The first time strictly after ``after`` that the cron matches, in ``timezone``."""
        tz = ZoneInfo(timezone)
        t = after.astimezone(tz).replace(second=0, microsecond=0) + timedelta(minutes=1)
        fields = self.cron.split()
        for _ in range(60 * 24 * 366):
            if all(
                _matches(f, v)
                for f, v in zip(fields, (t.minute, t.hour, t.day, t.month, t.isoweekday() % 7), strict=True)
            ):
                return t
            t += timedelta(minutes=1)
        raise ValueError(f"cron {self.cron!r} never matches")


def _matches(spec: str, value: int) -> bool:
    for part in spec.split(","):
        if part == "*":
            return True
        if part.startswith("*/"):
            if value % int(part[2:]) == 0:
                return True
        elif "-" in part:
            lo, hi = part.split("-")
            if int(lo) <= value <= int(hi):
                return True
        elif int(part) == value:
            return True
    return False


SCHEDULES: tuple[Schedule, ...] = (
    Schedule("sync-full", "sync", "0 2 * * *", {"mode": "full"}, "Full cost sync, daily at 02:00"),
    # The light metering run finishes before the hourly budget check at :20.
    Schedule("sync-metering", "sync", "5 * * * *", {"mode": "metering"}, "Metering views, hourly"),
    Schedule("budget-check", "budget_check", "20 * * * *", {}, "Budget thresholds, hourly"),
    Schedule("notify-relay", "notify", "*/5 * * * *", {"mode": "relay"}, "Outbox relay, every 5 minutes"),
    Schedule("snapshot", "snapshot", "0 0 * * *", {}, "Budget snapshots, daily at 00:00"),
    Schedule("security", "security", "35 * * * *", {}, "Security extraction and rules, hourly"),
)

DEFAULT_TIMEZONE = "UTC"
