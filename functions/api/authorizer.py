"""The TOKEN authorizer: verify the Bearer JWT and pass org, user and role to the API.

API Gateway caches the policy per token, so the policy allows every method of the stage (the
API itself enforces roles from the route table). Any failure answers 401 ("Unauthorized").
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from snowwatch.errors import UnauthorizedError
from snowwatch.observability import logger
from snowwatch.services.auth import authorizer_context, bearer_token, verify
from snowwatch.settings import AuthSettings, get_settings


def _stage_wildcard(method_arn: str) -> str:
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> .../stage/*/*
    parts = method_arn.split("/")
    return "/".join(parts[:2]) + "/*/*" if len(parts) >= 2 else method_arn


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        claims = verify(bearer_token(event.get("authorizationToken")), get_settings(AuthSettings))
    except UnauthorizedError as exc:
        logger.info("rejected token", extra={"reason": exc.message})
        raise Exception("Unauthorized") from None
    return {
        "principalId": claims.subject,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": _stage_wildcard(event.get("methodArn", "")),
                }
            ],
        },
        "context": authorizer_context(claims),
    }
