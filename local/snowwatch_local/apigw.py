"""API Gateway emulation: request -> REST proxy event (with the authorizer's context) and the stage cache."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from snowwatch import routes as route_table


def rest_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, list[str]] | None = None,
    body: str | None = None,
    authorizer: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The Lambda proxy event API Gateway would send for this request."""
    matched = route_table.match(method, path)
    resource, params = (matched[0].path, matched[1]) if matched else (path, {})
    query = query or {}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers or {},
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/local{path}",
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": authorizer,
        },
        "body": body,
        "isBase64Encoded": False,
    }


@dataclass
class _Entry:
    expires: float
    response: dict[str, Any]
    path: str = ""


class StageCache:
    """API Gateway's stage cache, per the route table: per GET route with a TTL, keyed on the
    Authorization header, the path parameters, the route's declared query strings and the freshness key."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(route: route_table.Route, path: str, headers: dict[str, str], query: dict[str, list[str]]) -> str:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        declared = {k: query.get(k, []) for k in route.cache_key_query}
        raw = json.dumps([route.name, path, auth, declared], sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry and entry.expires > time.monotonic():
                return entry.response
            self._entries.pop(key, None)
            return None

    def put(self, key: str, ttl: int, response: dict[str, Any], path: str = "") -> None:
        with self._lock:
            self._entries[key] = _Entry(time.monotonic() + ttl, response, path)

    def purge(self, path_prefix: str) -> int:
        """Drop every entry under a path (a deleted connector's answers); return how many."""
        with self._lock:
            gone = [k for k, e in self._entries.items() if (e.path + "/").startswith(path_prefix + "/")]
            for key in gone:
                del self._entries[key]
            return len(gone)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
