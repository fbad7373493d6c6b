"""Tables of the credential vault: its key bookkeeping and the broker connections it protects.

No key material in the clear is ever stored here: in keyring mode the data keys live in the OS
keyring and ``vault_keys`` only holds a check token per key; in passphrase mode ``vault_keys``
holds each data key wrapped (Fernet-encrypted) under the key derived from the passphrase.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.storage.schema import Base, UtcDateTime

VAULT_META_ID = 1


class VaultMetaRow(Base):
    """The single row saying how the vault is keyed and whether a rotation is under way.

    ``rotation_state``: ``idle``; ``reencrypting`` (``pending_key_id`` is being written to every
    connection, both keys decrypt); ``retiring`` (every row verified under the active key, the
    old ``retiring_key_id`` is being removed).
    """

    __tablename__ = "vault_meta"
    __table_args__ = (
        CheckConstraint("id = 1", name="ck_vault_meta_single_row"),
        CheckConstraint("mode IN ('keyring', 'passphrase')", name="ck_vault_meta_mode"),
        CheckConstraint("rotation_state IN ('idle', 'reencrypting', 'retiring')", name="ck_vault_meta_rotation_state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(12))
    active_key_id: Mapped[str] = mapped_column(String(32))
    pending_key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    retiring_key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rotation_state: Mapped[str] = mapped_column(String(12), default="idle")
    kdf_name: Mapped[str | None] = mapped_column(String(16), nullable=True)
    kdf_salt: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    kdf_n: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kdf_r: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kdf_p: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class VaultKeyRow(Base):
    """One data key the vault knows: a check token proving a key is the right one, and in
    passphrase mode the key itself wrapped under the passphrase key."""

    __tablename__ = "vault_keys"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    check_token: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConnectionRow(Base):
    """A saved broker connection. Only ``credentials`` is secret, and it is a Fernet token."""

    __tablename__ = "connections"
    __table_args__ = (CheckConstraint("environment IN ('paper', 'live')", name="ck_connections_environment"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    broker: Mapped[str] = mapped_column(String(20), index=True)
    environment: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(100))
    account_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    account_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    base_url_override: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Names of the fields saved in the blob, so a form can say "saved" without decrypting.
    credential_fields: Mapped[str] = mapped_column(Text, default="")
    credentials_key_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
