"""The job schedules, in-process: what EventBridge Scheduler does in AWS, from the same table."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from snowwatch.observability import logger
from snowwatch.schedules import DEFAULT_TIMEZONE, SCHEDULES
from snowwatch.services.dispatch import dispatch
from snowwatch.settings import JobSettings, get_settings


class Scheduler:
    def __init__(self, timezone: str = DEFAULT_TIMEZONE, tick_seconds: float = 15.0) -> None:
        self.timezone = timezone
        self.tick_seconds = tick_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        now = datetime.now(UTC)
        self.next_runs = {s.id: s.next_run(now, timezone) for s in SCHEDULES}

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def due(self, now: datetime) -> list[str]:
        """Fire every schedule whose time has come; return their ids (exposed for tests)."""
        fired = []
        for schedule in SCHEDULES:
            if self.next_runs[schedule.id] <= now:
                try:
                    dispatch(get_settings(JobSettings), schedule.job, {"trigger": "schedule", **schedule.payload})
                    fired.append(schedule.id)
                except Exception:
                    logger.exception("scheduled dispatch failed", extra={"schedule": schedule.id})
                self.next_runs[schedule.id] = schedule.next_run(now, self.timezone)
        return fired

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            self.due(datetime.now(UTC))
