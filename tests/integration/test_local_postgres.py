"""Postgres on embedded defaults: DATABASE_URL, else 127.0.0.1:5432, else a throwaway cluster under .local/."""

from __future__ import annotations

import pg8000.native
import pytest

from snowwatch_local import services

pytestmark = pytest.mark.integration


def test_falls_back_to_a_bundled_cluster_when_nothing_answers(monkeypatch, tmp_path) -> None:
    """Given no DATABASE_URL and nothing on 5432, when a server URL is asked for, then pgserver starts one."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(services, "_answers", lambda host, port: False)
    monkeypatch.setattr(services, "STATE_DIR", tmp_path)
    monkeypatch.setattr(services, "_pgserver", None)
    url = services.postgres_server_url()
    try:
        from snowwatch.db.connection import _params_from_url

        params = _params_from_url(url)
        assert "unix_sock" in params  # not the machine's server on 127.0.0.1:5432
        conn = pg8000.native.Connection(**params)
        assert str(tmp_path) in conn.run("SHOW data_directory")[0][0]
        conn.close()
        database_url = services.ensure_database("fallback_db")
        conn = pg8000.native.Connection(**_params_from_url(database_url))
        assert conn.run("SELECT current_database()") == [["fallback_db"]]
        conn.close()
    finally:
        if services._pgserver is not None:
            services._pgserver.cleanup()
        monkeypatch.setattr(services, "_pgserver", None)


def test_database_url_wins(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.example:6543/x")
    assert services.postgres_server_url() == "postgresql://someone@db.example:6543/x"
