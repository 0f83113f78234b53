"""How a function logs in to Postgres in AWS: its family's role with an IAM token, TLS with the RDS CA
bundle when it reaches the instance directly; and the migration function's patient connect."""

from __future__ import annotations

import datetime
import http.server
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from snowwatch.db import connection, migrate
from snowwatch.settings import CommonSettings

AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


def test_iam_login_uses_the_family_role_and_a_signed_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given DB_IAM_AUTH with DB_USER=snowwatch_api (no secret, no URL)
    When the connection parameters are built
    Then the user is the role and the password an rds-db connect token for that user and host,
    signed locally (no call to AWS)."""
    for key, value in AWS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ENDPOINT_URL", "DATABASE_URL", "DB_SECRET_ARN"):  # a local stack may have set them
        monkeypatch.delenv(key, raising=False)
    settings = CommonSettings(
        DB_IAM_AUTH=True, DB_USER="snowwatch_api", DB_HOST="db.example.internal", DB_PORT=5432, DB_NAME="snowwatch"
    )
    params = connection.connection_params(settings)
    assert params["user"] == "snowwatch_api" and params["host"] == "db.example.internal"
    assert params["database"] == "snowwatch" and params["port"] == 5432
    host, _, query = params["password"].partition("/?")
    assert host == "db.example.internal:5432"
    fields = parse_qs(query)
    assert fields["Action"] == ["connect"] and fields["DBUser"] == ["snowwatch_api"]
    assert fields["X-Amz-Credential"][0].endswith("/us-east-1/rds-db/aws4_request")


def test_iam_login_needs_a_user_and_a_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given DB_IAM_AUTH without DB_USER
    When the settings are validated
    Then they are refused at cold start, not at the first query."""
    monkeypatch.delenv("DB_USER", raising=False)
    with pytest.raises(ValueError, match="DB_USER"):
        CommonSettings(DB_IAM_AUTH=True, DB_HOST="db.example.internal")


@pytest.fixture
def ca_bundle() -> Iterator[tuple[str, str]]:
    """A CA certificate served over HTTP on a free port (as truststore.pki.rds.amazonaws.com serves
    Amazon's RDS CA bundle)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test RDS CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pem = cert.public_bytes(serialization.Encoding.PEM)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(pem)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/global-bundle.pem", "Test RDS CA"
    finally:
        server.shutdown()
        server.server_close()


def test_the_rds_ca_bundle_joins_the_trust_store(ca_bundle: tuple[str, str]) -> None:
    """Given DB_CA_BUNDLE_URL (lean: functions reach the instance, whose certificate the RDS CA signs)
    When the TLS context is built
    Then it trusts that bundle on top of the default store, and is built once per cold start."""
    url, common_name = ca_bundle
    context = connection._tls_context(url)
    subjects = [dict(x[0] for x in cert["subject"]).get("commonName") for cert in context.get_ca_certs()]
    assert common_name in subjects
    assert connection._tls_context(url) is context


def test_migrate_retries_its_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a database that does not answer yet (today: one connect, 30 s, no retry)
    When the migrations are applied with 3 attempts 0.2 s apart
    Then it tries three times before giving up."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    settings = CommonSettings(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/nothing")
    started = time.perf_counter()
    with pytest.raises(Exception, match=r"(?i)connect|refused"):
        migrate.apply(settings, attempts=3, pause_seconds=0.2)
    assert time.perf_counter() - started >= 0.4
