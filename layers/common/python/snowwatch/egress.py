"""The outbound-call policy: every URL snowwatch calls on a tenant's behalf goes through here.

A tenant can hand snowwatch a URL (a Slack incoming webhook today). Without a policy that is a
server-side request forgery with read-back: the notifier would POST to 169.254.169.254, 10.x or
127.0.0.1 and keep the reply. The policy, in order:

1. **On input** (:func:`check_url`): https only, no user-info, port 443, and the host exactly one of the
   allowed hosts (a setting; look-alikes such as ``hooks.slack.com.evil.example`` fail).
2. **On connect** (:func:`opener`): the host is resolved once, every address must be public
   (``ipaddress.is_global``), and the socket connects to that checked address (TLS still verifies the
   certificate for the host name), so DNS cannot rebind between the check and the connection.
3. **No redirects** are followed, and no proxy from the environment is used.
4. Callers keep only the status code and a fixed reason of a failed call, never the reply body.

``EGRESS_EXEMPT_HOSTS`` lists ``host:port`` pairs that may be plain http and private: the local Slack
stub in tests. It is empty in AWS.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import ssl
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from snowwatch.errors import ValidationFailedError
from snowwatch.settings import EgressSettings

MAX_URL_LENGTH = 2048


class EgressRefusedError(ValidationFailedError):
    """An outbound URL or address the policy does not allow (its message never repeats the URL)."""

    code = "egress_refused"


@dataclass(frozen=True)
class Policy:
    allowed_hosts: frozenset[str]
    exempt: frozenset[str]  # "host:port"

    @classmethod
    def for_slack(cls, settings: EgressSettings) -> Policy:
        return cls(frozenset(settings.slack_allowed_hosts), frozenset(settings.egress_exempt_hosts))

    def is_exempt(self, host: str, port: int) -> bool:
        return f"{host.lower()}:{port}" in self.exempt


def check_url(url: str, policy: Policy) -> None:
    """Refuse a URL that is not https on an allowed host (or an exempt local host:port)."""
    if len(url) > MAX_URL_LENGTH or any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise EgressRefusedError("the URL is too long or contains control characters or spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EgressRefusedError("the URL cannot be parsed") from exc
    host = (parts.hostname or "").lower()
    if parts.username is not None or parts.password is not None:
        raise EgressRefusedError("the URL must not carry user information")
    if parts.scheme == "http" and port is not None and policy.is_exempt(host, port):
        return
    if parts.scheme != "https":
        raise EgressRefusedError("the URL must use https")
    if port not in (None, 443):
        raise EgressRefusedError("the URL must use the default https port")
    if host not in policy.allowed_hosts:
        raise EgressRefusedError(f"the URL's host must be one of: {', '.join(sorted(policy.allowed_hosts))}")


def public_address(host: str, port: int, policy: Policy) -> str:
    """The one address to connect to: every address the host resolves to must be public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise EgressRefusedError("the host does not resolve") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise EgressRefusedError("the host does not resolve")
    if not policy.is_exempt(host, port):
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if not ip.is_global or ip.is_multicast:
                raise EgressRefusedError("the host resolves to a private or reserved address")
    return addresses[0]


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, *, policy: Policy, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._policy = policy

    def connect(self) -> None:
        address = public_address(self.host, self.port, self._policy)
        sock = socket.create_connection((address, self.port), self.timeout, getattr(self, "source_address", None))
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _CheckedHTTPConnection(http.client.HTTPConnection):
    """Plain http: only for exempt host:port pairs (the local stub)."""

    def __init__(self, host: str, *, policy: Policy, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._policy = policy

    def connect(self) -> None:
        if not self._policy.is_exempt(self.host, self.port):
            raise EgressRefusedError("plain http is not allowed")
        address = public_address(self.host, self.port, self._policy)
        self.sock = socket.create_connection((address, self.port), self.timeout, getattr(self, "source_address", None))


@functools.cache
def default_context() -> ssl.SSLContext:
    """The system's default TLS context (certificates required, host names checked), built once per process: building
    one loads the CA bundle (~40 ms), which every Slack send paid; a context is safe to share between threads."""
    return ssl.create_default_context()


class _CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, policy: Policy, context: ssl.SSLContext | None) -> None:
        super().__init__(context=context or default_context())
        self._policy = policy

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(_CheckedHTTPSConnection, policy=self._policy)
        return self.do_open(connection, req, context=self._context)  # type: ignore[attr-defined]


class _CheckedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, policy: Policy) -> None:
        super().__init__()
        self._policy = policy

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_CheckedHTTPConnection, policy=self._policy), req)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


def opener(policy: Policy, context: ssl.SSLContext | None = None) -> urllib.request.OpenerDirector:
    """A urllib opener that applies the policy on connect, follows no redirect and ignores proxies."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        _NoRedirects(),
        _CheckedHTTPSHandler(policy, context),
        _CheckedHTTPHandler(policy),
    )
