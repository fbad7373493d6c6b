"""Encryption of connection credentials with Fernet under ``MultiFernet``, and the steps of a key rotation.

Everything here is synchronous and meant to run on the database worker thread, inside one
transaction per step, so a crash between two steps leaves a consistent database:

* a connection's blob is replaced only by a token that was verified to decrypt under the new key;
* while a rotation is under way both keys are held, so every row reads whichever key sealed it;
* the old key is dropped only after every row verified under the new one (see ``vault_service``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.orm import Session

from app.security.credentials import Credentials, CredentialsFormatError
from app.storage.connections_repository import (
    SealedCredentials,
    all_sealed,
    next_sealed_not_under,
    replace_sealed,
)
from app.storage.vault_repository import KeyRecord

log = logging.getLogger(__name__)

_CHECK_PLAINTEXT = b"TradeBridge vault key check v1"
UNREADABLE_MESSAGE = (
    "Needs re-entering: the saved credentials can't be read (their key was lost). "
    "Edit the connection and enter them again, or forget it."
)


class VaultError(Exception):
    """Base of the vault's errors; ``str()`` is a message for the trader and never holds a secret."""


class CredentialsUnreadable(VaultError):
    """The saved credentials of a connection don't decrypt under any key the vault holds."""

    def __init__(self, connection_id: str) -> None:
        super().__init__(UNREADABLE_MESSAGE)
        self.connection_id = connection_id


class RotationBlocked(VaultError):
    """A row can't be moved to the new key; the rotation stops and the old key is kept."""


def new_key_id() -> str:
    return secrets.token_hex(8)


def new_data_key() -> bytes:
    return Fernet.generate_key()


def check_token(key: bytes) -> bytes:
    """A token that proves, later, that a key found in a store is the one the vault was built with."""
    return Fernet(key).encrypt(_CHECK_PLAINTEXT)


def key_matches(key: bytes, token: bytes) -> bool:
    try:
        return Fernet(key).decrypt(token) == _CHECK_PLAINTEXT
    except (InvalidToken, ValueError, TypeError):
        return False


def wrap_key(wrapping_key: bytes, key: bytes) -> bytes:
    return Fernet(wrapping_key).encrypt(key)


def unwrap_key(wrapping_key: bytes, wrapped: bytes) -> bytes:
    """Raises ``InvalidToken`` when ``wrapping_key`` is not the one that wrapped it (wrong passphrase)."""
    return Fernet(wrapping_key).decrypt(wrapped)


def unwrap_keys(records: Iterable[KeyRecord], wrapping_key: bytes) -> dict[str, bytes]:
    """The data keys ``wrapping_key`` unwraps that also match their check token, by key id."""
    found: dict[str, bytes] = {}
    for record in records:
        if record.wrapped_key is None:
            continue
        try:
            key = unwrap_key(wrapping_key, record.wrapped_key)
        except InvalidToken:
            continue
        if key_matches(key, record.check_token):
            found[record.key_id] = key
    return found


@dataclass(frozen=True, slots=True)
class DataKeys:
    """The data keys the vault holds in memory; ``primary_id`` seals, every key unseals."""

    primary_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.primary_id not in self.keys:
            raise ValueError("the primary key must be one of the keys")

    def __repr__(self) -> str:
        return f"DataKeys(primary={self.primary_id}, ids={sorted(self.keys)})"

    def cipher(self) -> MultiFernet:
        ordered = [self.keys[self.primary_id]] + [k for i, k in self.keys.items() if i != self.primary_id]
        return MultiFernet([Fernet(key) for key in ordered])

    def with_key(self, key_id: str, key: bytes, *, primary: bool) -> DataKeys:
        keys = dict(self.keys)
        keys[key_id] = key
        return DataKeys(key_id if primary else self.primary_id, keys)

    def only(self, key_id: str) -> DataKeys:
        return DataKeys(key_id, {key_id: self.keys[key_id]})


def seal(keys: DataKeys, credentials: Credentials) -> tuple[str, bytes]:
    """(key id, Fernet token) of ``credentials`` under the primary key."""
    return keys.primary_id, keys.cipher().encrypt(credentials.to_bytes())


def unseal(keys: DataKeys | None, sealed: SealedCredentials) -> Credentials:
    if keys is None:
        raise CredentialsUnreadable(sealed.connection_id)
    try:
        plaintext = keys.cipher().decrypt(sealed.token)
        return Credentials.from_bytes(plaintext)
    except (InvalidToken, CredentialsFormatError):
        # Neither the token nor the key is worth logging: the id says which connection to fix.
        log.warning("The saved credentials of connection %s can't be decrypted", sealed.connection_id)
    raise CredentialsUnreadable(sealed.connection_id)


def readable(keys: DataKeys | None, sealed: SealedCredentials) -> bool:
    if keys is None:
        return False
    try:
        keys.cipher().decrypt(sealed.token)
    except InvalidToken:
        return False
    return True


def unreadable_ids(session: Session, keys: DataKeys | None) -> list[str]:
    return [sealed.connection_id for sealed in all_sealed(session) if not readable(keys, sealed)]


def reseal_next(session: Session, keys: DataKeys, new_key_id: str) -> str | None:
    """Move one more connection to ``new_key_id``; returns its id, or ``None`` when none is left.

    The re-sealed token is checked against the new key *alone* before it replaces the old one.
    """
    if keys.primary_id != new_key_id:
        raise ValueError("re-sealing needs the new key as primary")
    sealed = next_sealed_not_under(session, new_key_id)
    if sealed is None:
        return None
    try:
        token = keys.cipher().rotate(sealed.token)
        Fernet(keys.keys[new_key_id]).decrypt(token)
    except InvalidToken:
        raise RotationBlocked(
            "The saved credentials of one connection can't be read, so the key can't be changed. "
            "Reconnect or delete that connection, then rotate again."
        ) from None
    replace_sealed(session, sealed.connection_id, key_id=new_key_id, token=token)
    return sealed.connection_id


def unverified_under(session: Session, key_id: str, key: bytes) -> list[str]:
    """Connections whose blob is not sealed under ``key_id`` or doesn't decrypt under that key alone."""
    single = Fernet(key)
    failures = []
    for sealed in all_sealed(session):
        try:
            if sealed.key_id != key_id:
                raise InvalidToken
            single.decrypt(sealed.token)
        except InvalidToken:
            failures.append(sealed.connection_id)
    return failures
