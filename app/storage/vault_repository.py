"""The vault's bookkeeping rows: how it is keyed, which keys exist, and where a rotation stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.storage.vault_schema import VAULT_META_ID, VaultKeyRow, VaultMetaRow

MODES = ("keyring", "passphrase")


@dataclass(frozen=True, slots=True)
class KdfRecord:
    name: str
    salt: bytes
    n: int
    r: int
    p: int


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key_id: str
    check_token: bytes
    wrapped_key: bytes | None


@dataclass(frozen=True, slots=True)
class VaultMeta:
    mode: str
    active_key_id: str
    pending_key_id: str | None
    retiring_key_id: str | None
    rotation_state: str
    kdf: KdfRecord | None
    keys: dict[str, KeyRecord]
    rotated_at: datetime | None

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key rows may be sealed under right now, newest first."""
        ids = [self.pending_key_id, self.active_key_id, self.retiring_key_id]
        return tuple(key_id for key_id in ids if key_id)


def _meta_row(session: Session) -> VaultMetaRow | None:
    return session.get(VaultMetaRow, VAULT_META_ID)


def read_meta(session: Session) -> VaultMeta | None:
    row = _meta_row(session)
    if row is None:
        return None
    kdf = None
    if row.kdf_name is not None:
        assert row.kdf_salt is not None and row.kdf_n and row.kdf_r and row.kdf_p
        kdf = KdfRecord(row.kdf_name, row.kdf_salt, row.kdf_n, row.kdf_r, row.kdf_p)
    keys = {
        key.key_id: KeyRecord(key.key_id, key.check_token, key.wrapped_key)
        for key in session.scalars(select(VaultKeyRow))
    }
    return VaultMeta(
        mode=row.mode,
        active_key_id=row.active_key_id,
        pending_key_id=row.pending_key_id,
        retiring_key_id=row.retiring_key_id,
        rotation_state=row.rotation_state,
        kdf=kdf,
        keys=keys,
        rotated_at=row.rotated_at,
    )


def create_meta(
    session: Session, *, mode: str, key: KeyRecord, kdf: KdfRecord | None, now: datetime
) -> None:
    """The vault's first key. Refuses when the vault already exists."""
    if mode not in MODES:
        raise ValueError(f"vault mode must be one of {MODES}")
    if _meta_row(session) is not None:
        raise RuntimeError("the vault is already set up")
    session.add(
        VaultMetaRow(
            id=VAULT_META_ID,
            mode=mode,
            active_key_id=key.key_id,
            rotation_state="idle",
            kdf_name=kdf.name if kdf else None,
            kdf_salt=kdf.salt if kdf else None,
            kdf_n=kdf.n if kdf else None,
            kdf_r=kdf.r if kdf else None,
            kdf_p=kdf.p if kdf else None,
            created_at=now,
            updated_at=now,
        )
    )
    session.add(VaultKeyRow(key_id=key.key_id, check_token=key.check_token, wrapped_key=key.wrapped_key, created_at=now))


def drop_meta(session: Session) -> None:
    """Forget the vault's keys entirely (only once no row is sealed under any of them)."""
    session.execute(delete(VaultKeyRow))
    session.execute(delete(VaultMetaRow))


def replace_lost_key(session: Session, key: KeyRecord, now: datetime) -> None:
    """A new active key in keyring mode after the old one was lost; old key rows stay, in case it comes back."""
    row = _meta_row(session)
    if row is None:
        create_meta(session, mode="keyring", key=key, kdf=None, now=now)
        return
    if row.mode != "keyring":
        raise RuntimeError("only a keyring-mode vault replaces a lost key")
    session.add(VaultKeyRow(key_id=key.key_id, check_token=key.check_token, wrapped_key=key.wrapped_key, created_at=now))
    row.active_key_id = key.key_id
    row.pending_key_id = None
    row.retiring_key_id = None
    row.rotation_state = "idle"
    row.updated_at = now


def rewrap_keys(session: Session, kdf: KdfRecord, wrapped: dict[str, bytes], now: datetime) -> None:
    """A new passphrase: the new scrypt salt and parameters and every re-wrapped key, in one transaction."""
    row = _meta_row(session)
    if row is None or row.mode != "passphrase":
        raise RuntimeError("only a passphrase-mode vault has a passphrase to change")
    for key in session.scalars(select(VaultKeyRow)):
        if key.key_id in wrapped:
            key.wrapped_key = wrapped[key.key_id]
        else:
            # A key the old passphrase could not unwrap would be lost for good under the new one.
            raise RuntimeError("every key must be re-wrapped")
    row.kdf_name, row.kdf_salt, row.kdf_n, row.kdf_r, row.kdf_p = kdf.name, kdf.salt, kdf.n, kdf.r, kdf.p
    row.updated_at = now


def begin_rotation(session: Session, key: KeyRecord, now: datetime) -> None:
    row = _meta_row(session)
    if row is None or row.rotation_state != "idle":
        raise RuntimeError("a rotation can only begin on an idle vault")
    session.add(VaultKeyRow(key_id=key.key_id, check_token=key.check_token, wrapped_key=key.wrapped_key, created_at=now))
    row.pending_key_id = key.key_id
    row.rotation_state = "reencrypting"
    row.updated_at = now


def abandon_rotation(session: Session, now: datetime) -> str | None:
    """Undo a rotation whose new key never reached its store; returns the abandoned key id."""
    row = _meta_row(session)
    if row is None or row.pending_key_id is None:
        return None
    abandoned = row.pending_key_id
    session.execute(delete(VaultKeyRow).where(VaultKeyRow.key_id == abandoned))
    row.pending_key_id = None
    row.rotation_state = "idle"
    row.updated_at = now
    return abandoned


def switch_to_pending(session: Session, now: datetime) -> None:
    """Every row is verified under the pending key: it becomes the active one."""
    row = _meta_row(session)
    if row is None or row.pending_key_id is None:
        raise RuntimeError("no rotation is pending")
    row.retiring_key_id = row.active_key_id
    row.active_key_id = row.pending_key_id
    row.pending_key_id = None
    row.rotation_state = "retiring"
    row.rotated_at = now
    row.updated_at = now


def finish_retirement(session: Session, now: datetime) -> None:
    row = _meta_row(session)
    if row is None or row.retiring_key_id is None:
        return
    session.execute(delete(VaultKeyRow).where(VaultKeyRow.key_id == row.retiring_key_id))
    row.retiring_key_id = None
    row.rotation_state = "idle"
    row.updated_at = now
