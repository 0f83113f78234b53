"""Connector use cases. Another org's connector is indistinguishable from a missing one (404)."""

from __future__ import annotations

from uuid import UUID, uuid4

from snowwatch.db import Connection, transaction
from snowwatch.errors import NotFoundError
from snowwatch.models.common import Caller, Page
from snowwatch.models.connectors import Connector, ConnectorCreate, ConnectorOut, ConnectorUpdate
from snowwatch.repositories import connectors as repo
from snowwatch.services import secrets
from snowwatch.settings import SecretsSettings


def require(conn: Connection, caller: Caller, connector_id: UUID | str) -> Connector:
    """The caller's connector, or 404 (also for malformed ids and other orgs' connectors)."""
    try:
        cid = connector_id if isinstance(connector_id, UUID) else UUID(str(connector_id))
    except ValueError as exc:
        raise NotFoundError("connector not found") from exc
    row = repo.get_for_org(conn, caller.org_id, cid)
    if row is None:
        raise NotFoundError("connector not found")
    return Connector.model_validate(row)


def load(conn: Connection, connector_id: UUID) -> Connector:
    """For job functions acting for the system."""
    row = repo.get(conn, connector_id)
    if row is None:
        raise NotFoundError(f"connector {connector_id} not found")
    return Connector.model_validate(row)


def _out(row: dict) -> ConnectorOut:
    return ConnectorOut.model_validate(row)


def list_(conn: Connection, caller: Caller, limit: int, offset: int) -> Page[ConnectorOut]:
    rows, total = repo.list_for_org(conn, caller.org_id, limit, offset)
    return Page[ConnectorOut](items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)


def _secret_payload(body: ConnectorCreate | ConnectorUpdate) -> dict[str, str] | None:
    if body.private_key is not None:
        payload = {"private_key": body.private_key.get_secret_value()}
        if body.private_key_passphrase is not None:
            payload["private_key_passphrase"] = body.private_key_passphrase.get_secret_value()
        return payload
    if body.password is not None:
        return {"password": body.password.get_secret_value()}
    return None


def put_secret(settings: SecretsSettings, org_id: UUID, connector_id: UUID, payload: dict[str, str]) -> str:
    """Write a connector's credential to its own secret (named and tagged for the org); return the ARN."""
    name = secrets.connector_secret_name(settings, org_id, connector_id)
    tags = {secrets.TAG_ORG: str(org_id), secrets.TAG_CONNECTOR: str(connector_id)}
    return secrets.put_owned(settings, name, payload, tags)


def create(conn: Connection, caller: Caller, body: ConnectorCreate, settings: SecretsSettings) -> ConnectorOut:
    """A brought ``secret_arn`` must carry the caller's org tag; otherwise snowwatch writes the credential
    to a secret of its own, named under the org and tagged with the org and the connector."""
    connector_id = uuid4()
    payload = _secret_payload(body)
    if payload:
        secret_ref = put_secret(settings, caller.org_id, connector_id, payload)
    else:
        secret_ref = secrets.require_org_secret(settings, body.secret_arn or "", caller.org_id)
    values = body.model_dump(exclude={"private_key", "private_key_passphrase", "password", "secret_arn"})
    values.update(id=connector_id, secret_ref=secret_ref)
    try:
        with transaction(conn):
            row = repo.insert(conn, caller.org_id, values)
    except BaseException:
        if payload:
            secrets.delete_owned(settings, secrets.connector_secret_name(settings, caller.org_id, connector_id))
        raise
    return _out(row)


def update(conn: Connection, current: Connector, body: ConnectorUpdate, settings: SecretsSettings) -> ConnectorOut:
    values = body.model_dump(exclude_unset=True, exclude={"private_key", "private_key_passphrase", "password"})
    payload = _secret_payload(body)
    if payload:
        values["secret_ref"] = put_secret(settings, current.org_id, current.id, payload)
    row = repo.update(conn, current.org_id, current.id, values)
    if row is None:
        raise NotFoundError("connector not found")
    return _out(row)


def delete(conn: Connection, current: Connector, settings: SecretsSettings) -> None:
    """Delete the connector (its history cascades) and only its own secret, by exact name."""
    if repo.delete(conn, current.org_id, current.id) is None:
        raise NotFoundError("connector not found")
    secrets.delete_owned(settings, secrets.connector_secret_name(settings, current.org_id, current.id))
