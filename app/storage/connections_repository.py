"""Saved broker connections: records without secrets for listing, and the encrypted blob for the vault.

Nothing here encrypts or decrypts: the vault hands in an opaque Fernet token and reads it back.
``ConnectionRecord`` carries no credential value at all, so it is safe to pass to any layer.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.storage.vault_schema import ConnectionRow

ENVIRONMENTS = ("paper", "live")


class ConnectionNotFound(LookupError):
    """No saved connection has that id."""


@dataclass(frozen=True, slots=True)
class ConnectionDraft:
    """What the Settings form submits, minus the credentials (those go through the vault)."""

    broker: str
    environment: str
    label: str
    base_url_override: str | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ValueError(f"environment must be one of {ENVIRONMENTS}")
        if not self.label.strip():
            raise ValueError("a connection needs a label")


@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    """A saved connection as every layer may see it: no secret, account number as last 4 only."""

    id: str
    broker: str
    environment: str
    label: str
    account_last4: str | None
    account_type: str | None
    base_url_override: str | None
    saved_fields: tuple[str, ...]
    has_credentials: bool
    created_at: datetime
    updated_at: datetime
    verified_at: datetime | None


@dataclass(frozen=True, slots=True)
class SealedCredentials:
    """The encrypted blob of one connection and the id of the key that sealed it."""

    connection_id: str
    key_id: str | None
    token: bytes


def _record(row: ConnectionRow) -> ConnectionRecord:
    return ConnectionRecord(
        id=row.id,
        broker=row.broker,
        environment=row.environment,
        label=row.label,
        account_last4=row.account_last4,
        account_type=row.account_type,
        base_url_override=row.base_url_override,
        saved_fields=tuple(name for name in row.credential_fields.split(",") if name),
        has_credentials=row.credentials is not None,
        created_at=row.created_at,
        updated_at=row.updated_at,
        verified_at=row.verified_at,
    )


def _row(session: Session, connection_id: str) -> ConnectionRow:
    row = session.get(ConnectionRow, connection_id)
    if row is None:
        raise ConnectionNotFound(f"No saved connection with id {connection_id}.")
    return row


def save_connection(
    session: Session,
    draft: ConnectionDraft,
    *,
    fields: Sequence[str],
    key_id: str,
    token: bytes,
    now: datetime,
) -> ConnectionRecord:
    """Insert or update a connection together with its freshly sealed credentials."""
    if draft.id is None:
        row = ConnectionRow(id=uuid.uuid4().hex, created_at=now)
        session.add(row)
    else:
        row = _row(session, draft.id)
        if (row.broker, row.environment) != (draft.broker, draft.environment):
            # Different broker or environment means different credentials: the verification
            # and account of the old ones no longer say anything.
            row.verified_at = None
            row.account_last4 = None
            row.account_type = None
    row.broker = draft.broker
    row.environment = draft.environment
    row.label = draft.label.strip()
    row.base_url_override = draft.base_url_override or None
    row.credential_fields = ",".join(sorted(fields))
    row.credentials_key_id = key_id
    row.credentials = token
    row.updated_at = now
    session.flush()
    return _record(row)


def mark_verified(
    session: Session, connection_id: str, *, account_last4: str, account_type: str, now: datetime
) -> ConnectionRecord:
    """Record a successful ``verify()``: when, and which account (last 4 characters only)."""
    row = _row(session, connection_id)
    row.account_last4 = account_last4.strip()[-4:] or None
    row.account_type = account_type or None
    row.verified_at = now
    row.updated_at = now
    session.flush()
    return _record(row)


def get_connection(session: Session, connection_id: str) -> ConnectionRecord:
    return _record(_row(session, connection_id))


def list_connections(session: Session) -> list[ConnectionRecord]:
    rows = session.scalars(select(ConnectionRow).order_by(ConnectionRow.created_at, ConnectionRow.id))
    return [_record(row) for row in rows]


def delete_connection(session: Session, connection_id: str) -> None:
    session.delete(_row(session, connection_id))


def sealed_credentials(session: Session, connection_id: str) -> SealedCredentials | None:
    row = _row(session, connection_id)
    if row.credentials is None:
        return None
    return SealedCredentials(row.id, row.credentials_key_id, row.credentials)


def all_sealed(session: Session) -> list[SealedCredentials]:
    rows = session.scalars(
        select(ConnectionRow).where(ConnectionRow.credentials.is_not(None)).order_by(ConnectionRow.id)
    )
    return [SealedCredentials(row.id, row.credentials_key_id, row.credentials) for row in rows]  # type: ignore[arg-type]


def next_sealed_not_under(session: Session, key_id: str) -> SealedCredentials | None:
    """One connection whose credentials are not yet sealed under ``key_id`` (rotation's next row)."""
    row = session.scalars(
        select(ConnectionRow)
        .where(ConnectionRow.credentials.is_not(None))
        .where((ConnectionRow.credentials_key_id != key_id) | ConnectionRow.credentials_key_id.is_(None))
        .order_by(ConnectionRow.id)
        .limit(1)
    ).first()
    if row is None or row.credentials is None:
        return None
    return SealedCredentials(row.id, row.credentials_key_id, row.credentials)


def count_sealed(session: Session, *, under: str | None = None, not_under: str | None = None) -> int:
    """Connections with saved credentials, optionally only those sealed (or not) under one key."""
    query = select(func.count()).select_from(ConnectionRow).where(ConnectionRow.credentials.is_not(None))
    if under is not None:
        query = query.where(ConnectionRow.credentials_key_id == under)
    if not_under is not None:
        query = query.where(
            (ConnectionRow.credentials_key_id != not_under) | ConnectionRow.credentials_key_id.is_(None)
        )
    return int(session.scalar(query) or 0)


def replace_sealed(session: Session, connection_id: str, *, key_id: str, token: bytes) -> None:
    """Swap in credentials re-sealed under another key (rotation); nothing else changes."""
    row = _row(session, connection_id)
    row.credentials_key_id = key_id
    row.credentials = token


def forget_credentials(session: Session, connection_ids: Sequence[str], now: datetime) -> None:
    """Drop unreadable credentials; the connection stays listed so the trader can reconnect it."""
    for connection_id in connection_ids:
        row = _row(session, connection_id)
        row.credentials = None
        row.credentials_key_id = None
        row.credential_fields = ""
        row.verified_at = None
        row.updated_at = now
