"""The read-only Snowflake client: one session per run, every statement through the guard.

Usage (sync, security)::

    with SnowflakeSession.open(settings, connector, secret) as sf:
        rows = sf.fetch(queries.warehouse_metering.SELECT, {"since": since})
        for batch in sf.fetch_batches(queries.query_history.SELECT, {"since": since}):
            ...
        warehouses = sf.show("WAREHOUSES")
        sf.statements  # statements issued in this session (the guard's count)

- Authentication: key pair (the PEM private key from the connector's Secrets Manager secret,
  optional passphrase). Password authentication only when the connector explicitly says
  ``auth_method == "password"`` (a documented fallback for accounts that cannot use key pairs).
- Timeouts: login, network and socket timeouts on connect; transient errors (network,
  Snowflake 5xx, throttling) are retried with exponential backoff and jitter.
- Session settings only at connect (session_parameters): ``QUERY_TAG`` (every statement carries it),
  ``TIMEZONE`` = UTC and ``MULTI_STATEMENT_COUNT`` = 1 (Snowflake itself refuses a second statement in
  one call, whatever the account or user default). No statement ever changes the session: the guard
  refuses USE, ALTER SESSION and SET.
- ``show(kind)`` runs ``SHOW <kind>`` behind a seam: :func:`register_show_feed` lets a test or the
  local stack answer it instead (fakesnow returns one canned row for SHOW WAREHOUSES).
- Rows come back as dicts with upper-case keys, normalised: datetimes are timezone-aware UTC,
  numbers stay Decimal/int (server and patch modes of fakesnow differ; the real service too).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import snowflake.connector
from cryptography.hazmat.primitives import serialization
from snowflake.connector import DictCursor
from snowflake.connector import errors as sf_errors

from snowwatch.errors import UpstreamError
from snowwatch.models.connectors import Connector
from snowwatch.observability import logger
from snowwatch.settings import JobSettings
from snowwatch.snowflake.guard import StatementGuard

if TYPE_CHECKING:  # pyarrow is optional (the sync falls back to dict rows without it; decisions §26, §28)
    import pyarrow as pa

LOGIN_TIMEOUT_S = 30
NETWORK_TIMEOUT_S = 120
SOCKET_TIMEOUT_S = 60
MAX_ATTEMPTS = 4
BACKOFF_BASE_S = 0.5
BATCH_ROWS = 50_000

ShowFeed = Callable[["SnowflakeSession"], list[dict[str, Any]]]
_SHOW_FEEDS: dict[str, ShowFeed] = {}


def register_show_feed(kind: str, feed: ShowFeed | None) -> None:
    """Answer ``SHOW <kind>`` with ``feed(session)`` instead of the server (None removes the feed)."""
    key = " ".join(kind.upper().split())
    if feed is None:
        _SHOW_FEEDS.pop(key, None)
    else:
        _SHOW_FEEDS[key] = feed


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, sf_errors.OperationalError | sf_errors.InterfaceError):
        return True
    if isinstance(exc, sf_errors.DatabaseError):
        # 5xx / throttling / service unavailable surface with these SQL states or errno ranges.
        state = str(getattr(exc, "sqlstate", "") or "")
        errno = int(getattr(exc, "errno", 0) or 0)
        return state.startswith("08") or errno in (250001, 250003, 251005, 251006, 390114)
    return False


def retry(fn: Callable[[], Any], what: str, attempts: int = MAX_ATTEMPTS) -> Any:
    """Call ``fn``; retry transient failures with exponential backoff and jitter."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts or not _is_transient(exc):
                raise
            delay = BACKOFF_BASE_S * 2 ** (attempt - 1) * (0.5 + random.random())  # noqa: S311
            logger.warning(
                "transient Snowflake error; retrying",
                extra={"what": what, "attempt": attempt, "delay_s": round(delay, 2), "error": type(exc).__name__},
            )
            time.sleep(delay)
    raise AssertionError("unreachable")


def _private_key_der(pem: str, passphrase: str | None) -> bytes:
    key = serialization.load_pem_private_key(pem.encode(), password=passphrase.encode() if passphrase else None)
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def connect_args(settings: JobSettings, connector: Connector, secret: Mapping[str, str]) -> dict[str, Any]:
    """The snowflake.connector.connect keyword arguments (credentials included: never log this)."""
    args: dict[str, Any] = {
        "account": connector.account_identifier,
        "user": connector.username,
        "role": connector.role_name,
        "warehouse": connector.warehouse,
        "login_timeout": LOGIN_TIMEOUT_S,
        "network_timeout": NETWORK_TIMEOUT_S,
        "socket_timeout": SOCKET_TIMEOUT_S,
        "application": "snowwatch",
        "client_session_keep_alive": False,
        # result chunks downloaded ahead of the one being read (the connector's default, 4, holds up to 4 chunks)
        "client_prefetch_threads": settings.snowflake_prefetch_threads,
        "session_parameters": {
            "QUERY_TAG": settings.snowflake_query_tag,
            "TIMEZONE": "UTC",
            "MULTI_STATEMENT_COUNT": 1,
        },
    }
    if connector.auth_method == "password":
        if "password" not in secret:
            raise UpstreamError("connector uses password authentication but its secret holds no password")
        args["password"] = secret["password"]
    else:
        if "private_key" not in secret:
            raise UpstreamError("connector uses key-pair authentication but its secret holds no private_key")
        args["private_key"] = _private_key_der(secret["private_key"], secret.get("private_key_passphrase"))
    if settings.snowflake_host:
        args["host"] = settings.snowflake_host
        args["protocol"] = settings.snowflake_protocol
        if settings.snowflake_port:
            args["port"] = settings.snowflake_port
    return args


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


class SnowflakeSession:
    """One guarded, tagged Snowflake session."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self.guard = StatementGuard()
        self._readable: dict[str, bool] = {}  # exists(), asked once per view and session

    # ------------------------------------------------------------ lifecycle
    @classmethod
    @contextlib.contextmanager
    def open(
        cls,
        settings: JobSettings,
        connector: Connector,
        secret: Mapping[str, str],
        *,
        connect: Callable[..., Any] | None = None,
    ) -> Iterator[SnowflakeSession]:
        """Log in (with retries), yield the session, always close it."""
        if connect is None:
            connect = snowflake.connector.connect
        args = connect_args(settings, connector, secret)
        try:
            connection = retry(lambda: connect(**args), "connect")
        except Exception as exc:
            raise UpstreamError(f"could not log in to Snowflake: {type(exc).__name__}") from exc
        session = cls(connection)
        try:
            yield session
        finally:
            with contextlib.suppress(Exception):
                connection.close()

    @property
    def statements(self) -> int:
        """Statements issued to Snowflake in this session (each passed the guard)."""
        return self.guard.statements

    # ------------------------------------------------------------ reads
    def _execute(self, sql: str, params: Mapping[str, Any] | None, dicts: bool = True) -> Any:
        self.guard.check(sql)  # raises ReadOnlyViolationError before the connector sees the text

        def run() -> Any:
            cursor = self._connection.cursor(DictCursor) if dicts else self._connection.cursor()
            cursor.execute(sql, dict(params) if params else None)
            return cursor

        return retry(run, "execute")

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """All rows of one read-only statement, as dicts with upper-case keys."""
        cursor = self._execute(sql, params)
        try:
            return [{k.upper(): _normalise(v) for k, v in row.items()} for row in cursor.fetchall()]
        finally:
            cursor.close()

    def fetch_batches(
        self, sql: str, params: Mapping[str, Any] | None = None, size: int = BATCH_ROWS
    ) -> Iterator[list[dict[str, Any]]]:
        """Rows of one statement in batches of ``size`` (one statement, streamed)."""
        cursor = self._execute(sql, params)
        try:
            while True:
                rows = cursor.fetchmany(size)
                if not rows:
                    return
                yield [{k.upper(): _normalise(v) for k, v in row.items()} for row in rows]
        finally:
            cursor.close()

    def fetch_arrow_batches(self, sql: str, params: Mapping[str, Any] | None = None) -> Iterator[pa.Table]:
        """Rows of one statement as the connector's Arrow result batches (one statement, streamed; no Python object
        per row). Column names as Snowflake gives them (upper case); types as the connector maps them."""
        cursor = self._execute(sql, params, dicts=False)
        try:
            for table in cursor.fetch_arrow_batches(force_microsecond_precision=True):
                if table.num_rows:
                    yield table
        finally:
            cursor.close()

    def show(self, kind: str) -> list[dict[str, Any]]:
        """``SHOW <kind>`` rows (keys upper-cased), or the registered feed's rows."""
        key = " ".join(kind.upper().split())
        feed = _SHOW_FEEDS.get(key)
        if feed is not None:
            return [{k.upper(): v for k, v in row.items()} for row in feed(self)]
        return self.fetch(f"SHOW {key}")

    def exists(self, qualified_view: str) -> bool:
        """Whether ``DB.SCHEMA.VIEW`` can be read by this role (a missing view is not an error); one statement per
        view and session (a view read with another, as a companion, and on its own is asked once)."""
        if qualified_view not in self._readable:
            try:
                self.fetch(f"SELECT 1 AS ok FROM {qualified_view} LIMIT 1")
                self._readable[qualified_view] = True
            except sf_errors.ProgrammingError:
                self._readable[qualified_view] = False
        return self._readable[qualified_view]
