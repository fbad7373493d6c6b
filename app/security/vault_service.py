"""The vault as the controller uses it: async, off the loop's thread, with typed outcomes.

Keyring calls run on the keyring gateway's daemon thread (with a timeout), the passphrase key
derivation on a worker thread, and every database and Fernet step on the database worker, so the
calling loop (the Qt thread) only ever awaits. ``start``/``retry``/``unlock``/``setup_passphrase``
return a ``VaultStatus`` whose ``state`` says what the trader has to do next.

Key rotation lives in ``rotation``: each step is durable before the next, so a crash anywhere leaves
every row readable; opening the vault again resumes an interrupted rotation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.security.credentials import Credentials, account_last4
from app.security.keystore import (
    KeyringKeyStore,
    KeyringTimeout,
    KeyringUnavailable,
    KeyStoreError,
    derive_passphrase_key,
    new_kdf,
    passphrase_problem,
)
from app.security.redaction import register_secret
from app.security.rotation import KeyRotation, Progress
from app.security.vault import (
    CredentialsUnreadable,
    DataKeys,
    VaultError,
    check_token,
    key_matches,
    new_data_key,
    new_key_id,
    readable,
    seal,
    unreadable_ids,
    unseal,
    unwrap_keys,
    wrap_key,
)
from app.security.vault_status import (
    ConnectionStatus,
    CredentialState,
    NoCredentials,
    RotationStep,
    VaultLocked,
    VaultMode,
    VaultState,
    VaultStatus,
    WeakPassphrase,
    WrongPassphrase,
)
from app.storage import backups
from app.storage import connections_repository as connection_rows
from app.storage import vault_repository as meta_rows
from app.storage.connections_repository import ConnectionDraft, ConnectionRecord
from app.storage.settings_repository import get_setting, put_setting
from app.storage.vault_repository import KdfRecord, KeyRecord, VaultMeta
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

#: The façade's whole public vocabulary, importable from here.
__all__ = [
    "ConnectionStatus",
    "CredentialState",
    "NoCredentials",
    "Progress",
    "RotationStep",
    "VaultLocked",
    "VaultMode",
    "VaultService",
    "VaultState",
    "VaultStatus",
    "WeakPassphrase",
    "WrongPassphrase",
]


_KEY_LOST_MESSAGE = (
    "The encryption key of your saved credentials is missing from the system keyring or was replaced, "
    "so they can't be read. Re-enter a connection's credentials (edit it, or add it again): once they are "
    "verified they are saved under a new key. The others stay listed as needing re-entering until you "
    "re-enter or forget them. Nothing else was lost."
)


class VaultService:
    def __init__(
        self,
        worker: DatabaseWorker,
        keyring_store: KeyringKeyStore | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        kdf_factory: Callable[[], KdfRecord] = new_kdf,
    ) -> None:
        self._worker = worker
        self._keyring = keyring_store or KeyringKeyStore()
        self._clock = clock
        self._rotation = KeyRotation(worker, self._keyring, clock)
        self._kdf_factory = kdf_factory
        self._lock = asyncio.Lock()
        self._keys: DataKeys | None = None
        self._wrapping_key: bytes | None = None
        self._status = VaultStatus(VaultState.LOCKED, None, "The vault has not been opened yet.")

    @property
    def status(self) -> VaultStatus:
        return self._status

    def close(self) -> None:
        """At shutdown: end the keyring thread. The keys stay usable until the process ends."""
        self._keyring.close()

    def _set(self, status: VaultStatus) -> VaultStatus:
        self._status = status
        log.info("Vault: %s (%s)", status.state.value, status.mode.value if status.mode else "no mode")
        return status

    async def _read(self) -> tuple[VaultMeta | None, int]:
        return await self._worker.run(lambda s: (meta_rows.read_meta(s), connection_rows.count_sealed(s)))

    # -- opening -----------------------------------------------------------------------------

    async def start(self) -> VaultStatus:
        """Open the vault: keyring mode reads its keys; passphrase mode reports LOCKED."""
        async with self._lock:
            return self._set(await self._open())

    async def retry(self) -> VaultStatus:
        return await self.start()

    async def _open(self) -> VaultStatus:
        meta, sealed = await self._read()
        if meta is None:
            return await self._open_fresh(sealed)
        rotating = meta.rotation_state != "idle"
        if meta.mode == VaultMode.PASSPHRASE.value:
            if self._keys is not None and self._wrapping_key is not None:
                return await self._ready(VaultMode.PASSPHRASE, sealed)
            return VaultStatus(
                VaultState.LOCKED,
                VaultMode.PASSPHRASE,
                "Enter your passphrase to unlock your saved broker credentials.",
                has_credentials=sealed > 0,
                rotating=rotating,
            )
        return await self._open_keyring(meta, sealed)

    async def _open_fresh(self, sealed: int) -> VaultStatus:
        self._keys = self._wrapping_key = None
        if sealed:
            return VaultStatus(VaultState.KEY_LOST, None, _KEY_LOST_MESSAGE, has_credentials=True)
        try:
            assessment = await self._keyring.assess()
        except KeyringTimeout as exc:
            return VaultStatus(VaultState.KEYRING_TIMEOUT, None, str(exc))
        except KeyringUnavailable as exc:
            assessment_reason = str(exc)
        else:
            if assessment.usable:
                return VaultStatus(
                    VaultState.READY,
                    VaultMode.KEYRING,
                    "Broker credentials are encrypted; the key is kept in your system keyring.",
                )
            assessment_reason = assessment.reason
        return VaultStatus(
            VaultState.SETUP_REQUIRED,
            None,
            f"{assessment_reason} Set a master passphrase to save broker credentials; "
            "nothing is saved until you do.",
        )

    async def _open_keyring(self, meta: VaultMeta, sealed: int) -> VaultStatus:
        found: dict[str, bytes] = {}
        # Keys replaced after a loss are still tried: if one comes back, what it sealed reads again.
        earlier = tuple(key_id for key_id in meta.keys if key_id not in meta.key_ids)
        try:
            for key_id in meta.key_ids + earlier:
                key = await self._keyring.get(key_id)
                record = meta.keys.get(key_id)
                if key is not None and record is not None and key_matches(key, record.check_token):
                    found[key_id] = key
        except KeyringTimeout as exc:
            return VaultStatus(VaultState.KEYRING_TIMEOUT, VaultMode.KEYRING, str(exc), has_credentials=sealed > 0)
        except KeyringUnavailable as exc:
            return VaultStatus(
                VaultState.KEYRING_UNAVAILABLE,
                VaultMode.KEYRING,
                f"{exc} Saved credentials can't be read until it is back: retry, or reconnect your brokers.",
                has_credentials=sealed > 0,
            )
        if meta.active_key_id not in found:
            if not sealed:
                log.warning("The vault key is missing from the keyring; nothing was sealed under it, starting over")
                await self._worker.run(meta_rows.drop_meta)
                return await self._open_fresh(0)
            log.warning("The vault key is missing from the keyring or does not match; credentials are unreadable")
            self._keys = self._keys_from(meta, found)
            return VaultStatus(VaultState.KEY_LOST, VaultMode.KEYRING, _KEY_LOST_MESSAGE, has_credentials=True)
        self._keys = self._keys_from(meta, found)
        return await self._ready(VaultMode.KEYRING, sealed)

    @staticmethod
    def _keys_from(meta: VaultMeta, found: Mapping[str, bytes]) -> DataKeys | None:
        for candidate in meta.key_ids:  # pending first: new seals go under the newest key
            if candidate in found and candidate != meta.retiring_key_id:
                return DataKeys(candidate, dict(found))
        return None

    async def _ready(self, mode: VaultMode, sealed: int) -> VaultStatus:
        status = VaultStatus(
            VaultState.READY,
            mode,
            "Broker credentials are encrypted; the key is kept in your system keyring."
            if mode is VaultMode.KEYRING
            else "Broker credentials are encrypted under your master passphrase.",
            has_credentials=sealed > 0,
        )
        self._status = status
        try:
            await self._finish_rotation(None)
        except (VaultError, KeyStoreError) as exc:
            log.warning("An interrupted key rotation could not be finished yet: %s", exc)
            return VaultStatus(status.state, mode, f"{status.message} {exc}", sealed > 0, rotating=True)
        return status

    # -- passphrase mode -----------------------------------------------------------------

    async def setup_passphrase(self, passphrase: str) -> VaultStatus:
        """Create a passphrase-keyed vault. Only when no vault exists yet; nothing is stored before."""
        problem = passphrase_problem(passphrase)
        if problem:
            raise WeakPassphrase(problem)
        register_secret(passphrase)
        async with self._lock:
            meta, sealed = await self._read()
            if meta is not None or sealed:
                raise VaultError("Saved credentials already exist; the vault is already set up.")
            kdf = self._kdf_factory()
            wrapping_key = await asyncio.to_thread(lambda: derive_passphrase_key(passphrase, kdf))
            key_id, key = new_key_id(), new_data_key()
            record = KeyRecord(key_id, check_token(key), wrap_key(wrapping_key, key))
            now = self._clock()
            await self._worker.run(
                lambda s: meta_rows.create_meta(s, mode=VaultMode.PASSPHRASE.value, key=record, kdf=kdf, now=now)
            )
            self._keys, self._wrapping_key = DataKeys(key_id, {key_id: key}), wrapping_key
            log.info("Vault set up in passphrase mode")
            return self._set(await self._ready(VaultMode.PASSPHRASE, 0))

    async def unlock(self, passphrase: str) -> VaultStatus:
        register_secret(passphrase)
        async with self._lock:
            meta, sealed = await self._read()
            if meta is None or meta.mode != VaultMode.PASSPHRASE.value or meta.kdf is None:
                raise VaultError("The vault is not in passphrase mode.")
            kdf = meta.kdf
            wrapping_key = await asyncio.to_thread(lambda: derive_passphrase_key(passphrase, kdf))
            found = unwrap_keys((meta.keys[i] for i in meta.key_ids if i in meta.keys), wrapping_key)
            if meta.active_key_id not in found:
                log.info("Vault unlock refused: wrong passphrase")
                raise WrongPassphrase("That passphrase does not unlock your saved credentials.")
            self._keys, self._wrapping_key = self._keys_from(meta, found), wrapping_key
            return self._set(await self._ready(VaultMode.PASSPHRASE, sealed))

    async def change_passphrase(self, current: str, new: str) -> VaultStatus:
        """Re-wrap the data keys under a new passphrase (new salt too), all in one transaction.

        A crash before the commit leaves the old passphrase working, after it the new one; there is
        no moment where neither does. The credentials themselves are not re-encrypted.
        """
        register_secret(current)
        register_secret(new)
        problem = passphrase_problem(new)
        if problem:
            raise WeakPassphrase(problem)
        async with self._lock:
            meta, sealed = await self._read()
            if meta is None or meta.mode != VaultMode.PASSPHRASE.value or meta.kdf is None:
                raise VaultError("The vault is not in passphrase mode.")
            kdf = meta.kdf
            old_wrapping = await asyncio.to_thread(lambda: derive_passphrase_key(current, kdf))
            keys = unwrap_keys(meta.keys.values(), old_wrapping)
            if set(keys) != set(meta.keys):
                log.info("Passphrase change refused: wrong current passphrase")
                raise WrongPassphrase("That is not your current passphrase; nothing was changed.")
            new_kdf_record = self._kdf_factory()
            new_wrapping = await asyncio.to_thread(lambda: derive_passphrase_key(new, new_kdf_record))
            wrapped = {key_id: wrap_key(new_wrapping, key) for key_id, key in keys.items()}
            now = self._clock()
            await self._worker.run(lambda s: meta_rows.rewrap_keys(s, new_kdf_record, wrapped, now))
            self._keys, self._wrapping_key = self._keys_from(meta, keys), new_wrapping
            log.info("Vault passphrase changed")
            ready = await self._ready(VaultMode.PASSPHRASE, sealed)
            return self._set(VaultStatus(ready.state, ready.mode, "Your passphrase was changed.", sealed > 0))

    # -- credentials ---------------------------------------------------------------------

    def _require_ready(self) -> None:
        state = self._status.state
        if state is VaultState.READY or state is VaultState.KEY_LOST:
            return
        if state is VaultState.SETUP_REQUIRED:
            raise VaultLocked("There is no secure system keyring: set a master passphrase first.")
        if state is VaultState.LOCKED:
            raise VaultLocked("Unlock your saved credentials with your passphrase first.")
        raise VaultLocked(self._status.message)

    async def _sealing_keys(self) -> DataKeys:
        """The keys to seal with; in keyring mode the first key is minted here, on first use."""
        if self._status.state is VaultState.KEY_LOST:
            await self._replace_lost_key()
        if self._keys is not None:
            return self._keys
        if self._status.mode is not VaultMode.KEYRING:
            raise VaultLocked(self._status.message)
        meta, sealed = await self._read()
        if meta is not None or sealed:
            # Never mint a new key over rows sealed under another one.
            raise VaultError("The vault changed underneath; restart TradeBridge.")
        key_id, key = new_key_id(), new_data_key()
        await self._keyring.put(key_id, key)
        record = KeyRecord(key_id, check_token(key), None)
        now = self._clock()
        await self._worker.run(
            lambda s: meta_rows.create_meta(s, mode=VaultMode.KEYRING.value, key=record, kdf=None, now=now)
        )
        log.info("Vault key created in the system keyring")
        self._keys = DataKeys(key_id, {key_id: key})
        return self._keys

    async def _replace_lost_key(self) -> None:
        """A new key for what is saved from now on; nothing sealed under the lost key is dropped.

        What the keys still at hand can read moves under the new key in the same transaction; the
        rest stays as it is, listed as needing re-entering, until the trader re-enters or forgets it.
        """
        meta, _ = await self._read()
        if meta is not None and meta.mode != VaultMode.KEYRING.value:
            raise VaultLocked(self._status.message)
        if meta is None:
            assessment = await self._keyring.assess()
            if not assessment.usable:
                raise VaultLocked(f"{assessment.reason} Saved credentials can't get a new key without a secure keyring.")
        key_id, key = new_key_id(), new_data_key()
        await self._keyring.put(key_id, key)
        keys = DataKeys(key_id, {**(self._keys.keys if self._keys else {}), key_id: key})
        record = KeyRecord(key_id, check_token(key), None)
        now = self._clock()

        def work(session: Session) -> int:
            meta_rows.replace_lost_key(session, record, now)
            waiting = 0
            for sealed in connection_rows.all_sealed(session):
                if sealed.key_id == key_id:
                    continue
                if readable(keys, sealed):
                    token = keys.cipher().rotate(sealed.token)
                    connection_rows.replace_sealed(session, sealed.connection_id, key_id=key_id, token=token)
                else:
                    waiting += 1
            return waiting

        waiting = await self._worker.run(work)
        self._keys = keys
        log.warning("A new vault key replaced the lost one; %d connection(s) need their credentials re-entered", waiting)
        for old_id, old in (meta.keys.items() if meta else ()):
            # A different value under our old key's name is not ours (a reset keyring): remove it.
            try:
                value = await self._keyring.get(old_id)
                if value is not None and not key_matches(value, old.check_token):
                    await self._keyring.delete(old_id)
            except KeyStoreError:
                log.info("An old vault key entry could not be checked in the keyring")
        self._status = VaultStatus(
            VaultState.READY,
            VaultMode.KEYRING,
            "Broker credentials are encrypted; the key is kept in your system keyring.",
            has_credentials=True,
        )

    async def ready_to_save(self) -> None:
        """Raises, before anything is sent to a broker, when verified credentials could not be saved now."""
        state = self._status.state
        if state in (VaultState.KEYRING_TIMEOUT, VaultState.KEYRING_UNAVAILABLE):
            raise VaultLocked(f"{self._status.message} Credentials can't be saved until it answers.")
        self._require_ready()
        if self._status.mode is VaultMode.PASSPHRASE and self._keys is not None:
            return
        if self._keys is not None and state is VaultState.READY:
            return
        # A new key will be stored in the keyring: make sure it answers before the broker is asked.
        assessment = await self._keyring.assess()
        if not assessment.usable:
            raise VaultLocked(f"{assessment.reason} Credentials can't be saved in it.")

    async def reentry_target(self, broker: str, environment: str, account_last4: str) -> str | None:
        """The saved connection a re-added account belongs to: same broker, environment and account,
        its credentials unreadable or forgotten. Saving into it avoids a dead duplicate row."""
        keys = self._keys

        def work(session: Session) -> str | None:
            for record in connection_rows.list_connections(session):
                if (record.broker, record.environment, record.account_last4) != (broker, environment, account_last4):
                    continue
                sealed = connection_rows.sealed_credentials(session, record.id)
                if sealed is None or not readable(keys, sealed):
                    return record.id
            return None

        return await self._worker.run(work)

    async def readable_credentials(self, connection_id: str) -> Credentials | None:
        """The saved credentials, or ``None`` when none are saved or they can't be read (to be re-entered)."""
        try:
            return await self.credentials(connection_id)
        except (NoCredentials, CredentialsUnreadable):
            return None

    async def save_connection(self, draft: ConnectionDraft, credentials: Mapping[str, str]) -> ConnectionRecord:
        """Save a connection; an empty field keeps the value already saved for it."""
        fresh = credentials if isinstance(credentials, Credentials) else Credentials(credentials)
        async with self._lock:
            self._require_ready()
            keys = await self._sealing_keys()
            now = self._clock()

            def work(session: Session) -> ConnectionRecord:
                merged = fresh
                if draft.id is not None:
                    previous = connection_rows.sealed_credentials(session, draft.id)
                    if previous is not None and readable(keys, previous):
                        merged = unseal(keys, previous).merged_with(fresh)
                key_id, token = seal(keys, merged.without_empty())
                return connection_rows.save_connection(
                    session, draft, fields=[k for k, v in merged.items() if v], key_id=key_id, token=token, now=now
                )

            record = await self._worker.run(work)
            self._status = VaultStatus(self._status.state, self._status.mode, self._status.message, True)
            return record

    async def credentials(self, connection_id: str) -> Credentials:
        """The decrypted credentials of one connection, for its connector. Never for display."""
        if self._keys is None and self._status.state not in (VaultState.READY, VaultState.KEY_LOST):
            self._require_ready()
        keys = self._keys

        def work(session: Session) -> Credentials:
            sealed = connection_rows.sealed_credentials(session, connection_id)
            if sealed is None:
                raise NoCredentials("No credentials are saved for this connection \u2014 reconnect.")
            return unseal(keys, sealed)

        return await self._worker.run(work)

    async def connections(self) -> list[ConnectionStatus]:
        keys, state = self._keys, self._status.state

        def work(session: Session) -> list[ConnectionStatus]:
            result = []
            for record in connection_rows.list_connections(session):
                if not record.has_credentials:
                    credential_state = CredentialState.NONE
                elif keys is None and state not in (VaultState.READY, VaultState.KEY_LOST):
                    credential_state = CredentialState.LOCKED
                else:
                    sealed = connection_rows.sealed_credentials(session, record.id)
                    ok = sealed is not None and readable(keys, sealed)
                    credential_state = CredentialState.SAVED if ok else CredentialState.UNREADABLE
                result.append(ConnectionStatus(record, credential_state))
            return result

        return await self._worker.run(work)

    async def mark_verified(self, connection_id: str, account_number: str, account_type: str) -> ConnectionRecord:
        now, last4 = self._clock(), account_last4(account_number)
        return await self._worker.run(
            lambda s: connection_rows.mark_verified(s, connection_id, account_last4=last4, account_type=account_type, now=now)
        )

    async def delete_connection(self, connection_id: str) -> None:
        async with self._lock:
            await self._worker.run(lambda s: connection_rows.delete_connection(s, connection_id))

    # -- recovery ------------------------------------------------------------------------

    async def forget_unreadable_credentials(self) -> VaultStatus:
        """Give up on credentials no available key can read (lost key, forgotten passphrase).

        The connections stay listed, so the trader can reconnect them; readable ones are kept.
        """
        async with self._lock:
            if self._status.state is VaultState.KEYRING_TIMEOUT:
                # A slow keyring is no reason to give anything up: retry first.
                raise VaultLocked(self._status.message)
            await self._forget_unreadable()
            return self._status

    async def _forget_unreadable(self) -> None:
        keys, now = self._keys, self._clock()

        def work(session: Session) -> tuple[int, tuple[str, ...]]:
            lost = unreadable_ids(session, keys)
            connection_rows.forget_credentials(session, lost, now)
            meta = meta_rows.read_meta(session)
            dropped: tuple[str, ...] = ()
            if connection_rows.count_sealed(session) == 0:
                meta_rows.drop_meta(session)
                if meta is not None and meta.mode == VaultMode.KEYRING.value:
                    dropped = meta.key_ids
            elif (
                meta is not None
                and keys is not None
                and meta.active_key_id not in keys.keys
                and meta.pending_key_id in keys.keys
            ):
                # Mid-rotation with the old key gone: what is left is sealed under the new one.
                meta_rows.switch_to_pending(session, now)
            return len(lost), dropped

        forgotten, dropped = await self._worker.run(work)
        log.warning("Forgot the unreadable credentials of %d connection(s)", forgotten)
        for key_id in dropped:
            # A stale or foreign key left under our name would only confuse the next start.
            try:
                await self._keyring.delete(key_id)
            except KeyStoreError:
                log.info("A stale vault key could not be removed from the keyring")
        if self._keys is None:
            self._wrapping_key = None
        self._set(await self._open())

    # -- backups -------------------------------------------------------------------------

    async def backups_to_keep(self) -> int:
        """How many database backups are kept (each holds the wrapped keys of its day)."""
        stored = await self._worker.run(lambda s: get_setting(s, backups.KEEP_SETTING, backups.DEFAULT_KEEP))
        try:
            return min(max(int(stored), backups.MIN_KEEP), backups.MAX_KEEP)
        except (TypeError, ValueError):
            return backups.DEFAULT_KEEP

    async def keep_backups(self, count: int) -> int:
        """Keep the newest ``count`` backups from the next start on; out of range changes nothing."""
        if not backups.MIN_KEEP <= count <= backups.MAX_KEEP:
            raise VaultError(f"Keep between {backups.MIN_KEEP} and {backups.MAX_KEEP} backups.")
        await self._worker.run(lambda s: put_setting(s, backups.KEEP_SETTING, count))
        return count

    # -- rotation ------------------------------------------------------------------------

    async def rotate_key(self, progress: Progress | None = None) -> VaultStatus:
        """Re-seal every connection under a new data key, then remove the old key."""
        async with self._lock:
            if self._status.state is not VaultState.READY or self._keys is None:
                self._require_ready()
                raise VaultLocked("There are no saved credentials to re-encrypt yet.")
            meta, _ = await self._read()
            if meta is not None and meta.rotation_state == "idle":
                self._keys = await self._rotation.begin(meta, self._keys, self._wrapping_key, progress)
            await self._finish_rotation(progress)
            _, sealed = await self._read()
            status = self._status
            return self._set(VaultStatus(status.state, status.mode, "The encryption key was rotated.", sealed > 0))

    async def finish_rotation(self, progress: Progress | None = None) -> VaultStatus:
        """Complete an interrupted rotation; a no-op when none is under way."""
        async with self._lock:
            self._require_ready()
            await self._finish_rotation(progress)
            return self._status

    async def _finish_rotation(self, progress: Progress | None) -> None:
        if self._keys is not None:
            self._keys = await self._rotation.finish(self._keys, self._wrapping_key, progress)
