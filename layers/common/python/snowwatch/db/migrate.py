"""Migrations: plain SQL files in ``db/migrations`` applied in order by yoyo-migrations.

yoyo ships a psycopg backend; we drive it with pg8000 (the driver the functions already carry)
through a small backend subclass. Applying is idempotent: applied files are recorded in yoyo's
own tables and skipped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pg8000.dbapi
import pg8000.exceptions

from snowwatch.db.connection import connection_params, query_one
from snowwatch.observability import logger
from snowwatch.settings import CommonSettings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _backend(settings: CommonSettings) -> Any:
    # yoyo is imported here, not at module level: the API imports this module for /health
    # (current_version) and should not load the migration tool on its cold start.
    from yoyo.backends.core.postgresql import PostgresqlBackend
    from yoyo.connections import parse_uri

    class Pg8000Backend(PostgresqlBackend):
        driver_module = "pg8000.dbapi"

        def connect(self, dburi: Any) -> Any:
            conn = pg8000.dbapi.connect(**connection_params(settings), application_name="snowwatch-migrate")
            conn.autocommit = True
            return conn

        def begin(self) -> Any:
            return super(PostgresqlBackend, self).begin()

    backend = Pg8000Backend(parse_uri("postgresql://migrate@localhost/snowwatch"), "_yoyo_migration")
    backend.init_database()
    return backend


def _connected_backend(settings: CommonSettings, attempts: int, pause_seconds: float) -> Any:
    """The backend, connecting up to ``attempts`` times: on deploy the instance may still be finishing
    its first boot (or its proxy registering it) when the migration trigger runs."""
    for attempt in range(1, attempts + 1):
        try:
            return _backend(settings)
        except (pg8000.exceptions.InterfaceError, OSError) as exc:
            if attempt == attempts:
                raise
            logger.warning("database not reachable yet", extra={"attempt": attempt, "error": type(exc).__name__})
            time.sleep(pause_seconds)
    raise AssertionError("unreachable")  # pragma: no cover


def apply(settings: CommonSettings, attempts: int = 1, pause_seconds: float = 0) -> list[str]:
    """Apply pending migrations; return the ids applied now (empty when up to date)."""
    from yoyo import read_migrations  # lazy, as in _backend

    backend = _connected_backend(settings, max(1, attempts), pause_seconds)
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


def current_version(conn: Any) -> str | None:
    """The newest applied migration id (for /health), read with the functions' own connection."""
    try:
        row = query_one(
            conn,
            "SELECT migration_id FROM public._yoyo_migration ORDER BY applied_at_utc DESC, migration_id DESC LIMIT 1",
        )
    except Exception:
        return None
    return row["migration_id"] if row else None
