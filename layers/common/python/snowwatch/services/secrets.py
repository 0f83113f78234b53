"""Credentials in Secrets Manager: connector key pairs and budgets' Slack targets, bound to one org.

Every secret snowwatch creates is named under the stack's namespace and the org, and tagged with both
the org and the object it serves:

    <SECRET_NAMESPACE>/<org id>/connectors/<connector id>    tags snowwatch:org, snowwatch:connector
    <SECRET_NAMESPACE>/<org id>/slack/<budget id>            tags snowwatch:org, snowwatch:budget

A secret a customer brings (``secret_arn`` on a connector) is accepted only when it carries the caller's
``snowwatch:org`` tag, and every read checks that tag again against the org of the row that refers to the
secret, so a reference planted in the database cannot borrow another org's credentials. Deleting removes
only the object's own secret, by its exact name; a brought secret stays its owner's. In AWS the job roles
can read only ``<stack>/*`` (the deploy construct), so another stack's secrets are out of reach too.

Nothing here returns or logs a secret's value to a caller.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from snowwatch import aws
from snowwatch.errors import SnowwatchError, ValidationFailedError
from snowwatch.models.connectors import Connector
from snowwatch.observability import logger
from snowwatch.settings import SecretsSettings

TAG_ORG = "snowwatch:org"
TAG_CONNECTOR = "snowwatch:connector"
TAG_BUDGET = "snowwatch:budget"
RECOVERY_DAYS = 7

# One message whether the secret is missing, unreadable or another org's: nothing to learn from it.
NOT_YOURS = "secret_arn must name a Secrets Manager secret tagged snowwatch:org with your organization's id"


class SecretNotOwnedError(SnowwatchError):
    """A stored reference names a secret that does not belong to the referring row's org."""

    code = "secret_not_owned"


def connector_secret_name(settings: SecretsSettings, org_id: UUID, connector_id: UUID) -> str:
    return f"{settings.secret_namespace}/{org_id}/connectors/{connector_id}"


def slack_secret_name(settings: SecretsSettings, org_id: UUID, budget_id: UUID) -> str:
    return f"{settings.secret_namespace}/{org_id}/slack/{budget_id}"


def _client(settings: SecretsSettings) -> Any:
    return aws.client("secretsmanager", settings.aws_region)


def _org_tag(described: dict[str, Any]) -> str | None:
    return next((t.get("Value") for t in described.get("Tags") or [] if t.get("Key") == TAG_ORG), None)


def put_owned(settings: SecretsSettings, name: str, payload: dict[str, Any], tags: dict[str, str]) -> str:
    """Create or replace snowwatch's own secret ``name`` with ``tags``; return its ARN (all we store).

    A secret of that name pending deletion (a Slack target removed and added again within the recovery
    window) is restored and replaced. An existing secret whose org tag differs is never overwritten."""
    client = _client(settings)
    body = json.dumps(payload)
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    try:
        return str(client.create_secret(Name=name, SecretString=body, Tags=tag_list)["ARN"])
    except client.exceptions.ResourceExistsException:
        pass
    except client.exceptions.InvalidRequestException:  # scheduled for deletion
        client.restore_secret(SecretId=name)
    described = client.describe_secret(SecretId=name)
    if described.get("DeletedDate"):
        client.restore_secret(SecretId=name)
    if _org_tag(described) not in (None, tags[TAG_ORG]):
        raise SecretNotOwnedError("a secret of that name belongs to another organization")
    client.tag_resource(SecretId=name, Tags=tag_list)
    return str(client.put_secret_value(SecretId=name, SecretString=body)["ARN"])


def require_org_secret(settings: SecretsSettings, ref: str, org_id: UUID) -> str:
    """The ARN of a customer-brought secret, only when it carries the caller's org tag (else 422)."""
    try:
        described = _client(settings).describe_secret(SecretId=ref)
    except Exception as exc:  # missing, malformed or not ours to describe: the same answer
        raise ValidationFailedError(NOT_YOURS, details=[{"loc": ["body", "secret_arn"], "type": "secret"}]) from exc
    if _org_tag(described) != str(org_id) or described.get("DeletedDate"):
        raise ValidationFailedError(NOT_YOURS, details=[{"loc": ["body", "secret_arn"], "type": "secret"}])
    return str(described["ARN"])


def read_owned(settings: SecretsSettings, ref: str, org_id: UUID) -> dict[str, Any]:
    """A secret's value, after checking that it carries ``org_id``'s tag. Job functions only; never logged."""
    described = _client(settings).describe_secret(SecretId=ref)
    if _org_tag(described) != str(org_id):
        raise SecretNotOwnedError("the referenced secret does not belong to this organization")
    return dict(json.loads(aws.secret(ref, settings.aws_region)))


def delete_owned(settings: SecretsSettings, name: str) -> None:
    """Delete snowwatch's own secret ``name`` (exact name, recoverable for 7 days). A missing one is fine;
    any other failure only logs: a leftover secret is harmless, a failed delete must not fail the request."""
    client = _client(settings)
    try:
        client.delete_secret(SecretId=name, RecoveryWindowInDays=RECOVERY_DAYS)
    except client.exceptions.ResourceNotFoundException:
        return
    except Exception:
        logger.warning("could not delete a secret", extra={"secret": name})


def read_connector_secret(settings: SecretsSettings, connector: Connector) -> dict[str, Any]:
    """The connector's Snowflake credential, if its secret belongs to the connector's org."""
    return read_owned(settings, connector.secret_ref, connector.org_id)
