"""Helpers for the budgets and notification tests: isolated connectors, spend rows, a Slack stub, an SQS pump."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

from snowwatch.db import Connection, query_one
from snowwatch.repositories import budgets as budgets_repo
from snowwatch.services.attribution import tag_key


def demo_org_id(conn: Connection) -> UUID:
    row = query_one(conn, "SELECT id FROM enterprise.organizations WHERE external_id = 'demo'")
    assert row is not None
    return UUID(str(row["id"]))


def make_connector(
    conn: Connection, org_id: UUID, name: str | None = None, timezone: str = "UTC", credit_price: str = "3"
) -> UUID:
    """A connector of our own (no Snowflake behind it): budgets tests never touch other domains' rows."""
    cid = uuid.uuid4()
    conn.run(
        """INSERT INTO enterprise.connectors (id, org_id, name, account_identifier, username, warehouse, secret_ref,
               credit_price, timezone)
           VALUES (:id, :org, :name, 'budgets-test', 'SNOWWATCH', 'WH', 'arn:test', :price, :tz)""",
        id=cid,
        org=org_id,
        name=name or f"budgets-{cid.hex[:10]}",
        price=Decimal(credit_price),
        tz=timezone,
    )
    return cid


def insert_budget(conn: Connection, connector_id: UUID, **overrides: Any) -> UUID:
    """A budget row straight through the repository: account scope, monthly, 800 credits, no thresholds."""
    values = {
        "connector_id": connector_id,
        "name": overrides.pop("name", "b"),
        "scope_type": "account",
        "period": "monthly",
        "amount": Decimal(800),
        "amount_unit": "credits",
        "thresholds": [],
        "alert_emails": ["finops@example.com"],
        **overrides,
    }
    return budgets_repo.insert(conn, values)


def add_warehouse_metering(
    conn: Connection, connector_id: UUID, warehouse: str, start: datetime, hours: int, credits_per_hour: float
) -> None:
    wid = abs(hash(warehouse)) % 1_000_000
    conn.run(
        """INSERT INTO enterprise.snowflake_warehouse_metering
               (connector_id, warehouse_id, warehouse_name, start_time, end_time, credits_used, credits_used_compute)
           SELECT :cid, :wid, :wh, t, t + interval '1 hour', :c, :c
           FROM generate_series(CAST(:start AS timestamptz), CAST(:start AS timestamptz)
                                + (:hours - 1) * interval '1 hour', interval '1 hour') t
           ON CONFLICT DO NOTHING""",
        cid=connector_id,
        wid=wid,
        wh=warehouse,
        start=start,
        hours=hours,
        c=Decimal(str(credits_per_hour)),
    )


def add_metering(
    conn: Connection,
    connector_id: UUID,
    start: datetime,
    hours: int,
    credits_per_hour: float,
    service_type: str = "WAREHOUSE_METERING",
) -> None:
    conn.run(
        """INSERT INTO enterprise.snowflake_metering_history
               (connector_id, service_type, entity_id, start_time, end_time, credits_used, credits_used_compute)
           SELECT :cid, :st, 0, t, t + interval '1 hour', :c, :c
           FROM generate_series(CAST(:start AS timestamptz), CAST(:start AS timestamptz)
                                + (:hours - 1) * interval '1 hour', interval '1 hour') t
           ON CONFLICT DO NOTHING""",
        cid=connector_id,
        st=service_type,
        start=start,
        hours=hours,
        c=Decimal(str(credits_per_hour)),
    )


def add_tagged_queries(
    conn: Connection, connector_id: UUID, tag: str, start: datetime, n: int, credits_each: float
) -> None:
    conn.run(
        """INSERT INTO enterprise.snowflake_query_history
               (connector_id, query_id, query_tag, tag_key, warehouse_name, start_time, credits_attributed_compute)
           SELECT :cid, :prefix || i, :tag, :key, 'WH', CAST(:start AS timestamptz) + i * interval '1 minute', :c
           FROM generate_series(0, :n - 1) i""",
        cid=connector_id,
        prefix=f"q-{uuid.uuid4().hex[:8]}-",
        tag=tag,
        key=tag_key(tag),  # as the sync loads it (services/attribution.py)
        start=start,
        n=n,
        c=Decimal(str(credits_each)),
    )


def job_ctx(conn: Connection, connector_id: UUID | None, settings: Any) -> Any:
    """A JobContext scoped to one connector (the run is not recorded in job_runs)."""
    from snowwatch.services import connectors
    from snowwatch.services.jobs import JobContext

    connector = connectors.load(conn, connector_id) if connector_id else None
    return JobContext(
        run_id=uuid.uuid4(),
        job="budget_check",
        trigger="manual",
        mode=None,
        connector=connector,
        org_id=connector.org_id if connector else None,
        settings=settings,
    )


# ---------------------------------------------------------------------------------------------- Slack stub


@dataclass
class SlackStub:
    """A tiny Slack on 127.0.0.1: POST /api/chat.postMessage (bot token) and POST /hooks/<id> (webhooks).

    ``fault(n)`` decides what the n-th request gets: None (ok), an HTTP status (429/500/...) or
    "slow" (answers after ``slow_seconds``, past the client's timeout). Only answered-ok posts are
    recorded in ``messages`` - what Slack would show.
    """

    fault: Callable[[int], int | str | None] = lambda n: None
    slow_seconds: float = 2.5
    messages: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def exempt_host(self) -> str:
        """The stub's host:port, for EGRESS_EXEMPT_HOSTS (plain http on loopback, tests only)."""
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    def webhook_url(self, name: str = "T000/B000/XXXX") -> str:
        return f"{self.url}/hooks/{name}"

    def start(self) -> SlackStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                with stub._lock:
                    stub.requests += 1
                    n = stub.requests
                decision = stub.fault(n)
                if decision == "slow":
                    time.sleep(stub.slow_seconds)
                    self._answer(500, "timeout")
                    return
                if isinstance(decision, int):
                    headers = {"Retry-After": "0"} if decision == 429 else {}
                    self._answer(decision, "rate_limited" if decision == 429 else "server_error", headers)
                    return
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.loads(raw or "{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw).items()}
                if self.path.startswith("/api/chat.postMessage"):
                    auth = self.headers.get("Authorization", "")
                    if not auth.startswith("Bearer xoxb-"):
                        self._json({"ok": False, "error": "invalid_auth"})
                        return
                    with stub._lock:
                        stub.messages.append({"kind": "bot", "channel": body.get("channel"), **body})
                    self._json({"ok": True, "channel": body.get("channel"), "ts": f"{time.time():.6f}"})
                elif self.path.startswith("/hooks/"):
                    if "gone" in self.path:
                        self._answer(404, "no_active_hooks")
                        return
                    with stub._lock:
                        stub.messages.append({"kind": "webhook", "hook": self.path, **body})
                    self._answer(200, "ok")
                else:
                    self._answer(404, "not_found")

            def _json(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _answer(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
                data = text.encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up (timeout)
                    self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


# ---------------------------------------------------------------------------------------------- SQS pump
# The event source mapping itself is snowwatch_local.sqs.pump_once (the demo uses it too).


def drain(queue_url: str) -> None:
    import boto3

    boto3.client("sqs", region_name="us-east-1").purge_queue(QueueUrl=queue_url)


def day(now: datetime, days: int = 0, hours: int = 0) -> datetime:
    return now + timedelta(days=days, hours=hours)
