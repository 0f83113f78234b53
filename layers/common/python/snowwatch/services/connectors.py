"""Connector use cases. Another org's connector is indistinguishable from a missing one (404)."""

from __future__ import annotations

from uuid import UUID, uuid4

from pg8000.exceptions import DatabaseError

from snowwatch.db import Connection, transaction
from snowwatch.errors import ConflictError, NotFoundError
from snowwatch.models.common import Caller, Page
from snowwatch.models.connectors import Connector, ConnectorCreate, ConnectorOut, ConnectorUpdate
from snowwatch.repositories import connectors as repo
from snowwatch.services import secrets
from snowwatch.settings import JobSettings


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


def create(conn: Connection, caller: Caller, body: ConnectorCreate, settings: JobSettings) -> ConnectorOut:
    connector_id = uuid4()
    payload = _secret_payload(body)
    secret_ref = secrets.put_connector_secret(settings, connector_id, payload) if payload else body.secret_arn
    values = body.model_dump(exclude={"private_key", "private_key_passphrase", "password", "secret_arn"})
    values.update(id=connector_id, secret_ref=secret_ref)
    try:
        with transaction(conn):
            row = repo.insert(conn, caller.org_id, values)
    except DatabaseError as exc:
        if "connectors_org_id_name_key" in str(exc):
            raise ConflictError(f"a connector named {body.name!r} exists already") from None
        raise
    return _out(row)


def update(
    conn: Connection, caller: Caller, connector_id: UUID, body: ConnectorUpdate, settings: JobSettings
) -> ConnectorOut:
    current = require(conn, caller, connector_id)
    values = body.model_dump(exclude_unset=True, exclude={"private_key", "private_key_passphrase", "password"})
    payload = _secret_payload(body)
    if payload:
        values["secret_ref"] = secrets.put_connector_secret(settings, current.id, payload)
    try:
        row = repo.update(conn, caller.org_id, current.id, values)
    except DatabaseError as exc:
        if "connectors_org_id_name_key" in str(exc):
            raise ConflictError(f"a connector named {body.name!r} exists already") from None
        raise
    if row is None:
        raise NotFoundError("connector not found")
    return _out(row)


def delete(conn: Connection, caller: Caller, connector_id: UUID, settings: JobSettings) -> None:
    current = require(conn, caller, connector_id)
    row = repo.delete(conn, caller.org_id, current.id)
    if row is None:
        raise NotFoundError("connector not found")
    secrets.delete_connector_secret(settings, row["secret_ref"])
