"""The pg8000 connection, reused across warm invocations.

Locally it comes from ``DATABASE_URL``; in AWS from the RDS secret and the RDS Proxy host.
The connection runs in autocommit mode (pg8000 native): reads never leave it idle in a
transaction; writes that must be atomic go through :func:`transaction`.

A connection that raised anything but a clean server error (a ``DatabaseError``, after which the
protocol is back at ReadyForQuery) is closed and never used again: an exception inside the driver
mid-statement (an ``OverflowError`` while encoding a parameter, a timeout, a lost socket) can leave it
one result behind, and the next statement, from any tenant, would read the previous one's rows.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pg8000.exceptions
import pg8000.native
from pg8000.native import Connection

from snowwatch import aws
from snowwatch.observability import logger
from snowwatch.settings import CommonSettings

# One connection per thread: in Lambda that is one per execution environment; locally, the
# server's request thread and each in-process job thread get their own.
_local = threading.local()


def _params_from_url(url: str) -> dict[str, Any]:
    """pg8000 arguments from a postgresql:// URL (a `?host=/dir` query means a Unix socket in that dir)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise ValueError("DATABASE_URL must be a postgresql:// URL")
    params: dict[str, Any] = {
        "user": unquote(parsed.username or "postgres"),
        "password": unquote(parsed.password) if parsed.password else None,
        "database": (parsed.path or "/postgres").lstrip("/") or "postgres",
    }
    socket_dir = parse_qs(parsed.query).get("host", [""])[0]
    if socket_dir.startswith("/"):
        params["unix_sock"] = f"{socket_dir}/.s.PGSQL.{parsed.port or 5432}"
    else:
        params["host"] = parsed.hostname or "127.0.0.1"
        params["port"] = parsed.port or 5432
    return params


def _params_from_secret(settings: CommonSettings, force_fetch: bool = False) -> dict[str, Any]:
    secret = json.loads(aws.secret(settings.db_secret_arn or "", settings.aws_region, force_fetch=force_fetch))
    return {
        "user": secret["username"],
        "password": secret["password"],
        "host": settings.db_host or secret["host"],
        "port": int(secret.get("port", 5432)),
        "database": secret.get("dbname", "snowwatch"),
    }


def _params_from_iam(settings: CommonSettings) -> dict[str, Any]:
    """The function family's role with an IAM authentication token (valid 15 minutes, signed
    locally: no network call), against the RDS Proxy or the instance."""
    host, user = settings.db_host or "", settings.db_user or ""
    token = aws.client("rds", settings.aws_region).generate_db_auth_token(
        DBHostname=host, Port=settings.db_port, DBUsername=user, Region=settings.aws_region
    )
    return {"user": user, "password": token, "host": host, "port": settings.db_port, "database": settings.db_name}


@cache
def _tls_context(ca_bundle_url: str | None) -> ssl.SSLContext:
    """The default trust store, plus Amazon's RDS CA bundle when the instance is reached directly."""
    context = ssl.create_default_context()
    if ca_bundle_url:
        with urllib.request.urlopen(ca_bundle_url, timeout=10) as answer:  # noqa: S310 - an https URL from settings
            context.load_verify_locations(cadata=answer.read().decode())
    return context


def connection_params(settings: CommonSettings) -> dict[str, Any]:
    """user, password, host, port, database: from DATABASE_URL locally; in AWS the family's role with
    an IAM token, or (migrate) the RDS master secret."""
    if settings.database_url:
        return _params_from_url(settings.database_url)
    return _params_from_iam(settings) if settings.db_iam_auth else _params_from_secret(settings)


INVALID_PASSWORD_SQLSTATE = "28P01"  # noqa: S105 - a SQLSTATE, not a password


# A connection idle for longer than this is pinged before reuse (a frozen Lambda's socket may be gone).
PING_AFTER_IDLE_S = 30.0


class SafeConnection(pg8000.native.Connection):
    """A pg8000 connection that discards itself after any exception that is not a server error."""

    broken = False
    last_used = 0.0

    def run(self, sql: str, stream: Any = None, types: Any = None, **params: Any) -> Any:
        if self.broken:
            raise pg8000.exceptions.InterfaceError("connection discarded after a client-side failure")
        self.last_used = time.monotonic()
        try:
            return super().run(sql, stream=stream, types=types, **params)
        except pg8000.exceptions.DatabaseError:
            raise
        except BaseException:
            self.broken = True
            with contextlib.suppress(Exception):  # the socket may be dead already
                self.close()
            raise


def connect(settings: CommonSettings) -> Connection:
    """A new connection (callers normally want :func:`get_connection`).

    In AWS the secret is cached for 5 minutes; when the password was rotated meanwhile the
    login fails with 28P01, and the secret is fetched afresh once before giving up.
    """
    ssl_context = _tls_context(settings.db_ca_bundle_url) if settings.db_ssl else None
    extra = {
        "ssl_context": ssl_context,
        "timeout": settings.socket_timeout_seconds,
        "application_name": settings.service_name,
    }
    try:
        return _no_delay(SafeConnection(**connection_params(settings), **extra))
    except pg8000.exceptions.DatabaseError as exc:
        rotated = bool(exc.args) and isinstance(exc.args[0], dict) and exc.args[0].get("C") == INVALID_PASSWORD_SQLSTATE
        if not rotated or settings.database_url or settings.db_iam_auth:
            raise
        logger.warning("database login refused; re-reading the rotated secret")
        return _no_delay(SafeConnection(**_params_from_secret(settings, force_fetch=True), **extra))


def _no_delay(conn: SafeConnection) -> SafeConnection:
    """pg8000 writes a large parse message in two sends; with Nagle's algorithm and delayed ACKs the
    second waits ~40 ms (measured: 4 ms for a statement under 8 KB, 48 ms just over). TCP_NODELAY
    sends at once. pg8000 offers no option for it, so it is set on its socket."""
    sock = getattr(conn, "_usock", None)
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def get_connection(settings: CommonSettings) -> Connection:
    """This execution environment's connection: reused while alive, replaced when it is not."""
    conn: Connection | None = getattr(_local, "connection", None)
    if conn is not None and getattr(conn, "broken", False):
        close_connection()
        conn = None
    if conn is not None and time.monotonic() - getattr(conn, "last_used", 0.0) < PING_AFTER_IDLE_S:
        return conn
    if conn is not None:
        try:
            conn.run("SELECT 1")
            return conn
        except Exception:  # a broken connection is replaced, never reused
            logger.warning("database connection lost; reconnecting")
            close_connection()
    conn = connect(settings)
    _local.connection = conn
    return conn


def close_connection() -> None:
    conn: Connection | None = getattr(_local, "connection", None)
    if conn is not None:
        with contextlib.suppress(Exception):  # closing a dead socket may fail; nothing to do
            conn.close()
    _local.connection = None


def query(conn: Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows as dicts (column name -> value)."""
    rows = conn.run(sql, **params)
    if not conn.columns:
        return []
    names = [c["name"] for c in conn.columns]
    return [dict(zip(names, row, strict=True)) for row in rows or []]


def query_one(conn: Connection, sql: str, **params: Any) -> dict[str, Any] | None:
    rows = query(conn, sql, **params)
    return rows[0] if rows else None


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """All statements inside commit together or not at all."""
    conn.run("START TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.run("ROLLBACK")
        raise
    else:
        conn.run("COMMIT")
