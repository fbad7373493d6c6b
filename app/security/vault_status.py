"""What the vault tells its callers: its state and mode, each connection's credential state, errors."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.security.vault import UNREADABLE_MESSAGE, VaultError
from app.storage.connections_repository import ConnectionRecord


class VaultState(enum.Enum):
    READY = "ready"
    LOCKED = "locked"
    SETUP_REQUIRED = "setup_required"
    KEYRING_TIMEOUT = "keyring_timeout"
    KEYRING_UNAVAILABLE = "keyring_unavailable"
    KEY_LOST = "key_lost"


class VaultMode(enum.Enum):
    KEYRING = "keyring"
    PASSPHRASE = "passphrase"


@dataclass(frozen=True, slots=True)
class VaultStatus:
    state: VaultState
    mode: VaultMode | None
    message: str
    has_credentials: bool = False
    rotating: bool = False

    @property
    def can_retry(self) -> bool:
        return self.state in (VaultState.KEYRING_TIMEOUT, VaultState.KEYRING_UNAVAILABLE, VaultState.KEY_LOST)


class CredentialState(enum.Enum):
    NONE = "none"
    SAVED = "saved"
    UNREADABLE = "unreadable"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    record: ConnectionRecord
    credentials: CredentialState

    @property
    def message(self) -> str:
        return {
            CredentialState.NONE: "No credentials saved.",
            CredentialState.SAVED: "Credentials saved.",
            CredentialState.UNREADABLE: UNREADABLE_MESSAGE,
            CredentialState.LOCKED: "Credentials saved; the vault is locked.",
        }[self.credentials]


@dataclass(frozen=True, slots=True)
class RotationStep:
    """Progress of a rotation: ``recorded``, ``key_stored``, ``row`` (done of total), ``switched``, ``retired``."""

    name: str
    done: int = 0
    total: int = 0


class VaultLocked(VaultError):
    """The vault needs the passphrase (or a working keyring) before credentials can be used."""


class WrongPassphrase(VaultError):
    pass


class WeakPassphrase(VaultError):
    pass


class NoCredentials(VaultError):
    pass
