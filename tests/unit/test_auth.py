"""Bearer JWT verification and the TOKEN authorizer: HS256 locally, RS256 through a JWKS URL."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from snowwatch.errors import UnauthorizedError
from snowwatch.models.users import Claims
from snowwatch.services.auth import bearer_token, claims_from_context, issue_dev_token, verify
from snowwatch.settings import AuthSettings

SECRET = "unit-test-secret-that-is-long-enough"
CLAIMS = Claims(subject="u-1", email="ana@acme.io", org="acme", role="admin")


def hs256() -> AuthSettings:
    return AuthSettings(JWT_ALGORITHM="HS256", JWT_SECRET=SECRET)


def test_a_dev_token_verifies_to_its_claims() -> None:
    token = issue_dev_token(hs256(), CLAIMS, ttl_seconds=600)
    verified = verify(token, hs256())
    assert verified.model_copy(update={"exp": None}) == CLAIMS
    assert verified.exp is not None and abs(verified.exp - (time.time() + 600)) < 5


@pytest.mark.parametrize(
    ("payload", "key", "message"),
    [
        ({"exp": int(time.time()) - 3600}, SECRET, "token expired"),
        ({"exp": int(time.time()) + 600}, "some-other-secret-of-enough-length", "invalid token"),
        ({}, SECRET, "invalid token"),  # no exp at all
        ({"exp": int(time.time()) + 600, "role": "owner"}, SECRET, "token lacks"),
        ({"exp": int(time.time()) + 600, "email": "not-an-email"}, SECRET, "token lacks"),
    ],
)
def test_bad_tokens_are_unauthorized(payload: dict, key: str, message: str) -> None:
    """Given an expired, wrongly signed, exp-less or claim-poor token, when verified, then 401 with a reason."""
    body = {"sub": "u-1", "email": "ana@acme.io", "org": "acme", "role": "admin", **payload}
    with pytest.raises(UnauthorizedError, match=message):
        verify(jwt.encode(body, key, algorithm="HS256"), hs256())


def test_the_none_algorithm_is_refused() -> None:
    token = jwt.encode({"sub": "u", "exp": int(time.time()) + 60}, None, algorithm="none")
    with pytest.raises(UnauthorizedError):
        verify(token, hs256())


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer   "])
def test_malformed_authorization_headers(header: str | None) -> None:
    with pytest.raises(UnauthorizedError):
        bearer_token(header)


def test_settings_demand_a_key_source(monkeypatch) -> None:
    for name in ("JWT_SECRET", "JWKS_URL", "JWT_ALGORITHM"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="JWT_SECRET"):
        AuthSettings(JWT_ALGORITHM="HS256")
    with pytest.raises(ValueError, match="JWKS_URL"):
        AuthSettings(JWT_ALGORITHM="RS256")


def test_rs256_through_a_jwks_url() -> None:
    """Given an IdP publishing its key as JWKS, when its RS256 token is verified, then the claims come through;
    a token signed by another key is refused."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    document = json.dumps({"keys": [jwk]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: object) -> None:
            return

    httpd = HTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        settings = AuthSettings(
            JWT_ALGORITHM="RS256",
            JWKS_URL=f"http://127.0.0.1:{httpd.server_address[1]}/.well-known/jwks.json",
            JWT_AUDIENCE="snowwatch",
            JWT_ISSUER="https://idp.example",
        )
        body = {
            "sub": "u-2",
            "email": "bo@acme.io",
            "org": "acme",
            "role": "member",
            "aud": "snowwatch",
            "iss": "https://idp.example",
            "exp": int(time.time()) + 600,
        }
        token = jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})
        assert verify(token, settings).role == "member"
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with pytest.raises(UnauthorizedError):
            verify(jwt.encode(body, other, algorithm="RS256", headers={"kid": "k1"}), settings)
        with pytest.raises(UnauthorizedError):
            verify(jwt.encode({**body, "aud": "someone-else"}, key, algorithm="RS256", headers={"kid": "k1"}), settings)
    finally:
        httpd.shutdown()


def test_authorizer_allows_the_stage_and_passes_the_claims(monkeypatch) -> None:
    """Given a valid token, when the TOKEN authorizer runs, then it allows every method of the stage
    (its answer is cached per token) and hands org, user and role to the API."""
    from snowwatch.settings import get_settings
    from snowwatch_local.handlers import load
    from snowwatch_local.stack import FakeLambdaContext

    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("JWT_ALGORITHM", "HS256")
    get_settings.cache_clear()
    authorizer = load("api", "authorizer")
    arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/api/jobs"
    answer = authorizer.lambda_handler(
        {"type": "TOKEN", "authorizationToken": f"Bearer {issue_dev_token(hs256(), CLAIMS)}", "methodArn": arn},
        FakeLambdaContext("authorizer"),
    )
    assert (
        answer["policyDocument"]["Statement"][0]["Resource"]
        == "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*"
    )
    passed = claims_from_context(answer["context"])
    assert passed.model_copy(update={"exp": None}) == CLAIMS and passed.exp is not None  # the API checks exp
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer.lambda_handler(
            {"type": "TOKEN", "authorizationToken": "Bearer x", "methodArn": arn}, FakeLambdaContext("authorizer")
        )
    get_settings.cache_clear()
