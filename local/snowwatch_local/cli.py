"""`snowwatch`: the local command line.

snowwatch demo [--port 3001] [--no-schedule] [--size demo]   the whole system on embedded defaults
snowwatch jobs run NAME [--connector ID] [--mode full|metering] run one job by hand (against `demo`)
snowwatch token [--role admin|member]                         a dev token for the running demo
snowwatch migrate                                             apply migrations to DATABASE_URL
snowwatch openapi --write PATH | --check PATH                 generate / verify the OpenAPI file
snowwatch security-docs --write PATH | --check PATH           generate / verify the rules table of a doc
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from snowwatch_local.services import STATE_DIR

STATE_FILE = STATE_DIR / "stack.json"


def _print(msg: str = "") -> None:
    print(msg, flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    started = time.monotonic()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # per command: the CLI sets the environment first and loads only what the command runs
    from snowwatch_local.handlers import load
    from snowwatch_local.scheduler import Scheduler
    from snowwatch_local.server import LocalServer
    from snowwatch_local.sqs import SqsPoller
    from snowwatch_local.stack import ADMIN, MEMBER, STOP_GRACE_SECONDS, FakeLambdaContext, LocalStack

    stack = LocalStack(database=args.database, fresh_database=not os.environ.get("DATABASE_URL"), size=args.size)
    _print("snowwatch: starting Postgres, moto (SQS, SES, Secrets Manager) and fakesnow ...")
    stack.start()
    stack.write_state()
    _print(f"  database   {stack.database_url}")
    _print(f"  moto       {stack.moto.url if stack.moto else ''}")
    _print(f"  fakesnow   127.0.0.1:{stack.fakesnow.port if stack.fakesnow else ''}  {stack.seed_counts}")
    server = LocalServer(port=args.port, host=args.host).start()
    _print(
        f"snowwatch: serving http://localhost:{server.port}  (first healthy answer after "
        f"{time.monotonic() - started:.1f}s)"
    )
    if not args.no_initial_jobs:
        _print("snowwatch: running every job once through the real handlers ...")
        cid = str(stack.connector_id)
        for job, payload in (
            ("sync", {"connector_id": cid, "mode": "full"}),
            ("security", {"connector_id": cid}),
            ("budget_check", {}),
            ("snapshot", {}),
            ("notify", {"mode": "relay"}),
        ):
            t = time.monotonic()
            if job == "budget_check":
                _print(f"  budgets       seeded     {stack.seed_demo_budgets() or 'already there'}")
            try:
                result = stack.run_job(job, **payload)
                _print(
                    f"  {job:<13} {result.get('status', 'done'):<10} {time.monotonic() - t:5.1f}s "
                    f"{json.dumps(result.get('rows', {}), default=str)[:160]}"
                )
            except Exception as exc:
                _print(f"  {job:<13} FAILED     {type(exc).__name__}: {str(exc)[:200]}")
    # The notify queue's event source mapping: always on (it is part of the system, not a schedule).
    notify_handler = load("notify").lambda_handler
    poller = SqsPoller(
        stack.moto.notify_queue_url if stack.moto else "",
        lambda event: notify_handler(event, FakeLambdaContext("notify")),
    ).start()
    scheduler = None if args.no_schedule else Scheduler().start()
    admin, member = stack.token(ADMIN), stack.token(MEMBER)
    base = f"http://localhost:{server.port}"
    c = f"{base}/api/connectors/{stack.connector_id}"
    _print(f"""
Ready in {time.monotonic() - started:.1f}s. Dashboard: {base}/  (paste the admin token to log in)

  export TOKEN={admin}
  # member token (read-only): {member}

  curl -s {base}/health
  curl -s -H "Authorization: Bearer $TOKEN" {base}/api/me
  curl -s -H "Authorization: Bearer $TOKEN" {base}/api/jobs
  curl -s -H "Authorization: Bearer $TOKEN" {c}/cost/overview
  curl -s -H "Authorization: Bearer $TOKEN" {c}/security/snowflake/summary
  curl -s -H "Authorization: Bearer $TOKEN" {c}/budgets
  curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
       -d '{{"connector_id": "{stack.connector_id}"}}' {base}/api/jobs/sync/run

The notify queue is consumed in-process (as the SQS event source mapping does in AWS); schedules
{"run in-process from the schedule table (--no-schedule turns them off)" if scheduler else "are off"}. Ctrl-C stops.
""")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    grace = float(os.environ.get("SNOWWATCH_STOP_GRACE_SECONDS", STOP_GRACE_SECONDS))
    _print(f"snowwatch: stopping: letting running jobs finish (up to {grace:g} s) ...")
    if scheduler:
        scheduler.stop()
    poller.stop()
    server.stop()
    interrupted = stack.stop_jobs(grace)
    if interrupted:
        _print(f"snowwatch: marked {interrupted} unfinished run(s) interrupted")
    stack.stop(grace_seconds=0)
    STATE_FILE.unlink(missing_ok=True)
    _print("snowwatch: stopped.")
    return 0


def _load_state() -> dict[str, Any]:
    if not STATE_FILE.exists():
        raise SystemExit("no running local stack: start one with `make demo` (or `snowwatch demo`)")
    state: dict[str, Any] = json.loads(STATE_FILE.read_text())
    os.environ.update(state["env"])
    return state


def cmd_jobs_run(args: argparse.Namespace) -> int:
    state = _load_state()
    # per command: the CLI sets the environment first and loads only what the command runs
    from snowwatch_local.stack import LocalStack

    stack = LocalStack()
    stack.register_local_handlers()
    payload: dict[str, Any] = {"trigger": "manual"}
    connector = args.connector or (state["connector_id"] if args.name in ("sync", "security") else None)
    if connector:
        payload["connector_id"] = connector
    if args.mode:
        payload["mode"] = args.mode
    result = stack.run_job(args.name, **payload)
    _print(json.dumps(result, indent=2, default=str))
    return 0 if result.get("status") in ("succeeded", "skipped", None) else 1


def cmd_token(args: argparse.Namespace) -> int:
    _load_state()
    # per command: the CLI sets the environment first and loads only what the command runs
    from snowwatch_local.stack import ADMIN, MEMBER, LocalStack

    _print(LocalStack(jwt_secret=os.environ["JWT_SECRET"]).token(ADMIN if args.role == "admin" else MEMBER))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    # per command: the CLI sets the environment first and loads only what the command runs
    from snowwatch.db import migrate
    from snowwatch.settings import CommonSettings
    from snowwatch_local.services import ensure_database

    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = ensure_database("snowwatch")
    applied = migrate.apply(CommonSettings())
    _print(f"applied: {applied}" if applied else "up to date")
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    # per command: the CLI sets the environment first and loads only what the command runs
    from snowwatch_local.handlers import load

    api = load("api")
    openapi = load("api", "openapi")
    text = openapi.render(api.app)
    path = Path(args.write or args.check)
    if args.write:
        path.write_text(text)
        _print(f"wrote {path}")
        return 0
    if not path.exists() or path.read_text() != text:
        _print(f"{path} differs from the code: run `make openapi`")
        return 1
    _print(f"{path} is current")
    return 0


def cmd_security_docs(args: argparse.Namespace) -> int:
    # per command: the CLI sets the environment first and loads only what the command runs
    from snowwatch.services.security_rules import with_rules_table

    path = Path(args.write or args.check)
    current = path.read_text()
    text = with_rules_table(current)
    if args.write:
        path.write_text(text)
        _print(f"wrote {path}")
        return 0
    if current != text:
        _print(f"{path} differs from the rule registry: run `make security-docs`")
        return 1
    _print(f"{path} is current")
    return 0


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", message="No application metrics")  # metrics are off locally
    parser = argparse.ArgumentParser(
        prog="snowwatch", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the whole system locally")
    demo.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3001")))
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--size", choices=["tiny", "demo", "bench"], default="demo")
    demo.add_argument("--database", default="snowwatch_demo", help="database created fresh on the local server")
    demo.add_argument("--no-schedule", action="store_true", help="do not run the job schedules in-process")
    demo.add_argument("--no-initial-jobs", action="store_true", help="skip the first run of every job")
    demo.set_defaults(func=cmd_demo)
    jobs = sub.add_parser("jobs", help="jobs").add_subparsers(dest="jobs_command", required=True)
    run = jobs.add_parser("run", help="run one job now, through its real handler")
    run.add_argument("name", choices=["sync", "budget_check", "notify", "snapshot", "security"])
    run.add_argument("--connector")
    run.add_argument("--mode", choices=["full", "metering", "relay"])
    run.set_defaults(func=cmd_jobs_run)
    token = sub.add_parser("token", help="print a dev token for the running demo")
    token.add_argument("--role", choices=["admin", "member"], default="admin")
    token.set_defaults(func=cmd_token)
    sub.add_parser("migrate", help="apply migrations").set_defaults(func=cmd_migrate)
    openapi = sub.add_parser("openapi", help="generate or check docs/openapi.json")
    group = openapi.add_mutually_exclusive_group(required=True)
    group.add_argument("--write")
    group.add_argument("--check")
    openapi.set_defaults(func=cmd_openapi)
    rules_doc = sub.add_parser("security-docs", help="generate or check the rules table of docs/security-rules.md")
    group = rules_doc.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="PATH")
    group.add_argument("--check", metavar="PATH")
    rules_doc.set_defaults(func=cmd_security_docs)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
