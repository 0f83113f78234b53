"""Postgres access: one pg8000 connection per execution environment, transactions, bulk loading."""

from snowwatch.db.connection import Connection, connect, get_connection, query, query_one, transaction

__all__ = ["Connection", "connect", "get_connection", "query", "query_one", "transaction"]
