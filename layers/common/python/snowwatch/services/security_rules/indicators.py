"""Attack indicators: the published UNC5537 tooling and the temporary-stage exfiltration chain."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from snowwatch.repositories import security_events as events
from snowwatch.repositories.security_events import ExfilRow, ToolingRow
from snowwatch.services.security_rules.base import EVENT_LOOKBACK, Draft, Rule, disable_sql

EXFIL_CHAIN_HOURS = 24


def judge_tooling(rows: Sequence[ToolingRow], now: datetime) -> Iterator[Draft]:
    by_user: dict[str, list[ToolingRow]] = {}
    for r in rows:
        by_user.setdefault(r["user_name"] or "(unidentified)", []).append(r)
    for user, sessions in by_user.items():
        tools = ", ".join(sorted({f"{x['application']} on {x['os']}" for x in sessions}))
        yield Draft(
            user,
            f"{len(sessions)} session(s) of {user} used {tools}.",
            sessions,
            disable_sql(user, "then rotate its credentials and review its queries"),
            max(x["created_on"] for x in sessions),
        )


def judge_exfiltration(rows: Sequence[ExfilRow], now: datetime) -> Iterator[Draft]:
    by_user: dict[str, list[ExfilRow]] = {}
    for r in rows:
        by_user.setdefault(r["subject"] or "(unidentified)", []).append(r)
    for user, chains in by_user.items():
        last = max(x["get_at"] for x in chains)
        yield Draft(
            user,
            f"{user} created a temporary stage, unloaded data into it and downloaded files "
            f"{len(chains)} time(s); last download at {last.isoformat()}.",
            chains,
            disable_sql(user, "then review what was unloaded"),
            last,
        )


RULES = [
    Rule(
        id="attack_tooling",
        severity="critical",
        title="Known attack tooling",
        fires="`SESSIONS.CLIENT_ENVIRONMENT` APPLICATION `rapeflake`, or `DBeaver_DBeaverUltimate` on OS "
        "`Windows Server 2022`",
        rationale="UNC5537 indicators published in 2024: CLIENT_ENVIRONMENT APPLICATION 'rapeflake', or "
        "'DBeaver_DBeaverUltimate' running on 'Windows Server 2022'.",
        fetch=lambda conn, c, now: events.attack_tooling_sessions(conn, c, now - EVENT_LOOKBACK),
        judge=judge_tooling,
        incident="user",
    ),
    Rule(
        id="exfiltration_chain",
        severity="critical",
        title="Data exfiltration chain",
        fires=f"By one user: CREATE TEMP[ORARY] STAGE, then an `UNLOAD` (COPY INTO @stage) after it, then a "
        f"`GET_FILES` (GET) after that, all within {EXFIL_CHAIN_HOURS} h of the stage creation",
        rationale=f"CREATE TEMPORARY STAGE, COPY INTO that stage (UNLOAD) and GET (GET_FILES) by one user within "
        f"{EXFIL_CHAIN_HOURS} hours: how data left the 2024 victims' accounts.",
        fetch=lambda conn, c, now: events.exfiltration_chains(conn, c, now - EVENT_LOOKBACK, hours=EXFIL_CHAIN_HOURS),
        judge=judge_exfiltration,
        incident="user",
    ),
]
