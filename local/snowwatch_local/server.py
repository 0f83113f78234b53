"""The local HTTP server: API Gateway's job on http://localhost:3001 (authorizer, stage cache with
X-Cache, Lambda proxy to the real API handler) plus the dashboard's static build at `/`."""

from __future__ import annotations

import mimetypes
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from snowwatch_local.gateway import Gateway

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
MAX_BODY = 1_000_000


class _PooledHTTPServer(HTTPServer):
    """A fixed pool of request threads: each keeps its own database connection, like a warm Lambda."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], workers: int = 8) -> None:
        super().__init__(address, handler)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="http")

    def process_request(self, request: Any, client_address: Any) -> None:
        self.pool.submit(self._work, request, client_address)

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=True, cancel_futures=True)


def make_handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "snowwatch-local"
        timeout = 5  # an idle keep-alive connection gives its worker back (browsers hold several)

        def log_message(self, format: str, *args: Any) -> None:  # quiet; the API logs itself
            return

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in ("content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _api(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(
                    413,
                    {"Content-Type": "application/json"},
                    b'{"error":{"code":"too_large","message":"request body over 1 MB","details":null}}',
                )
                return
            body = self.rfile.read(length).decode("utf-8", "replace") if length else None
            answer = gateway.handle(
                self.command,
                parts.path,
                dict(self.headers.items()),
                parse_qs(parts.query, keep_blank_values=True),
                body,
            )
            self._send(answer.status, answer.headers, answer.body.encode())

        def _static(self) -> None:
            path = urlsplit(self.path).path
            target = (WEB_DIST / path.lstrip("/")).resolve()
            if not str(target).startswith(str(WEB_DIST.resolve())) or not target.is_file():
                target = WEB_DIST / "index.html"  # single-page app: the client routes
            if not target.is_file():
                self._send(404, {"Content-Type": "text/plain"}, b"dashboard not built: run `make web`\n")
                return
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            self._send(200, {"Content-Type": ctype, "Cache-Control": "no-cache"}, target.read_bytes())

        def _route(self) -> None:
            path = urlsplit(self.path).path
            if path == "/health" or path.startswith("/api/") or path == "/api":
                self._api()
            elif self.command in ("GET", "HEAD"):
                self._static()
            else:
                self._api()

        def do_OPTIONS(self) -> None:  # CORS preflight, as the API's CORS configuration answers it
            self._send(
                204,
                {
                    "Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,OPTIONS",
                    "Access-Control-Allow-Headers": "Authorization,Content-Type",
                    "Access-Control-Max-Age": "600",
                },
                b"",
            )

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _route

    return Handler


class LocalServer:
    """Serve a Gateway over HTTP in a background thread."""

    def __init__(self, gateway: Gateway | None = None, host: str = "127.0.0.1", port: int = 3001) -> None:
        self.gateway = gateway or Gateway()
        self.httpd = _PooledHTTPServer((host, port), make_handler(self.gateway))
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="http-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve(port: int = 3001, host: str = "127.0.0.1") -> LocalServer:
    """Start serving in the background; returns the server (call .stop())."""
    return LocalServer(host=host, port=port).start()
