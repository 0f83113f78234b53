"""Issue 11 item 3: a connection that failed inside the driver is never used again."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from snowwatch.db import get_connection
from snowwatch.settings import DatabaseSettings, get_settings

pytestmark = pytest.mark.integration

YEAR_ONE_AT_PLUS_14 = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))


def test_a_client_side_failure_mid_statement_discards_the_connection(stack) -> None:
    """Given the shared connection, when pg8000 raises OverflowError while encoding a parameter (it has
    already sent part of the statement), then that connection is closed, the next get_connection() is a new
    one, and every later statement reads its own rows — not the previous statement's."""
    settings = get_settings(DatabaseSettings)
    first = get_connection(settings)
    with pytest.raises(OverflowError):
        first.run("SELECT CAST(:t AS timestamptz) AS x", t=YEAR_ONE_AT_PLUS_14)
    second = get_connection(settings)
    assert second is not first
    assert [second.run(f"SELECT {n} AS n")[0][0] for n in (2, 3, 4)] == [2, 3, 4]


def test_a_server_error_keeps_the_connection(stack) -> None:
    """Given a statement the server refuses (a clean ErrorResponse), then the same connection stays usable."""
    from pg8000.exceptions import DatabaseError

    settings = get_settings(DatabaseSettings)
    conn = get_connection(settings)
    with pytest.raises(DatabaseError):
        conn.run("SELECT 1/0")
    assert get_connection(settings) is conn
    assert conn.run("SELECT 5")[0][0] == 5
