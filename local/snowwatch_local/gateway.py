"""API Gateway, locally: the TOKEN authorizer, the Lambda proxy integration and the stage cache,
driven by the same route table as the CDK. The HTTP server and the tests both go through it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from snowwatch import routes as route_table
from snowwatch.errors import error_body
from snowwatch_local.apigw import StageCache, rest_event
from snowwatch_local.handlers import load
from snowwatch_local.stack import FakeLambdaContext

# The TOKEN authorizer's result TTL (the CDK sets the same): an expired token is refused by the API itself
# (it checks `exp`), so this only bounds how long a revoked signing key keeps working.
AUTHORIZER_TTL = 60


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Gateway:
    cache: StageCache = field(default_factory=StageCache)
    authorizer_cache: dict[str, dict[str, Any]] = field(default_factory=dict)
    # One request at a time through the API function, as one Lambda execution environment serves
    # them (the resolver keeps per-request state on a module-level app).
    _lambda: threading.Lock = field(default_factory=threading.Lock)

    def handle(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        query: dict[str, list[str]] | None = None,
        body: str | None = None,
    ) -> Answer:
        headers = headers or {}
        query = query or {}
        matched = route_table.match(method, path)
        if matched is None:  # as API Gateway: an unknown resource (a trailing slash too) never reaches the function
            body = json.dumps(error_body("not_found", "no such route"))
            return Answer(404, {"Content-Type": "application/json"}, body)
        authorizer = None
        if matched[0].auth != "public":
            authorizer = self._authorize(headers)
            if authorizer is None:
                return Answer(
                    401,
                    {"Content-Type": "application/json"},
                    json.dumps(error_body("unauthorized", "missing, invalid or expired bearer token")),
                )
        route = matched[0]
        key = None
        if route is not None and route.cached:
            key = StageCache.key(route, path, headers, query)
            hit = self.cache.get(key)
            if hit is not None:
                return Answer(hit["status"], {**hit["headers"], "X-Cache": "HIT"}, hit["body"])
        event = rest_event(method, path, headers=headers, query=query, body=body, authorizer=authorizer)
        with self._lambda:
            result = load("api").lambda_handler(event, FakeLambdaContext("api"))
        out_headers = {k: v[-1] for k, v in (result.get("multiValueHeaders") or {}).items()}
        out_headers.update(result.get("headers") or {})
        answer = Answer(int(result["statusCode"]), out_headers, result.get("body") or "")
        if key is not None and route is not None:
            answer.headers["X-Cache"] = "MISS"
            if answer.status == 200:
                entry = {"status": 200, "headers": out_headers, "body": answer.body}
                self.cache.put(key, route.cache_ttl, entry, path)
        if route is not None and route.name == "connectors_delete" and answer.status == 204:
            self.cache.purge(path)  # a deleted connector's cached answers go with it (see docs/decisions.md)
        return answer

    def _authorize(self, headers: dict[str, str]) -> dict[str, Any] | None:
        token = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if not token:
            return None
        cached = self.authorizer_cache.get(token)
        if cached is not None and cached["expires"] > time.monotonic():
            return dict(cached["context"])
        try:
            result = load("api", "authorizer").lambda_handler(
                {
                    "type": "TOKEN",
                    "authorizationToken": token,
                    "methodArn": "arn:aws:execute-api:us-east-1:000000000000:local/local/GET/",
                },
                FakeLambdaContext("authorizer"),
            )
        except Exception:
            return None
        context: dict[str, Any] = result["context"]
        # API Gateway caches the authorizer's answer per token (the TTL the CDK sets).
        self.authorizer_cache[token] = {"expires": time.monotonic() + AUTHORIZER_TTL, "context": context}
        return context
