"""Key rotation, one durable step at a time, so a crash anywhere leaves every row readable.

Order: record the new key as *pending* (database) -> store it (keyring mode) -> re-seal rows, one
transaction each -> verify every row under the new key alone -> make it active, the old one
*retiring* -> delete the old key from its store -> forget it. Until the switch both keys are held,
so each row reads under whichever key sealed it. ``finish`` resumes from whatever step the
database records and does nothing when no rotation is under way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from app.security.keystore import KeyringKeyStore, KeyStoreError
from app.security.vault import (
    DataKeys,
    RotationBlocked,
    check_token,
    new_data_key,
    new_key_id,
    reseal_next,
    unreadable_ids,
    unverified_under,
    wrap_key,
)
from app.security.vault_status import RotationStep, VaultLocked
from app.storage import connections_repository as connection_rows
from app.storage import vault_repository as meta_rows
from app.storage.vault_repository import KeyRecord, VaultMeta
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

Progress = Callable[[RotationStep], None]


def _report(progress: Progress | None, step: RotationStep) -> None:
    if progress is not None:
        progress(step)


class KeyRotation:
    """The rotation steps, over the database worker and (in keyring mode) the keyring."""

    def __init__(self, worker: DatabaseWorker, keyring: KeyringKeyStore, clock: Callable[[], datetime]) -> None:
        self._worker = worker
        self._keyring = keyring
        self._clock = clock

    async def begin(
        self, meta: VaultMeta, keys: DataKeys, wrapping_key: bytes | None, progress: Progress | None
    ) -> DataKeys:
        """Draw a new key and make it durable; returns the keys with the new one as primary."""
        unreadable = await self._worker.run(lambda s: unreadable_ids(s, keys))
        if unreadable:
            raise RotationBlocked(
                f"{len(unreadable)} connection(s) have credentials that can't be read. Reconnect or delete "
                "them, then rotate again."
            )
        keyring_mode = meta.mode == "keyring"
        if not keyring_mode and wrapping_key is None:
            raise VaultLocked("Unlock your saved credentials with your passphrase first.")
        key_id, key = new_key_id(), new_data_key()
        wrapped = None if wrapping_key is None or keyring_mode else wrap_key(wrapping_key, key)
        record, now = KeyRecord(key_id, check_token(key), wrapped), self._clock()
        await self._worker.run(lambda s: meta_rows.begin_rotation(s, record, now))
        _report(progress, RotationStep("recorded"))
        if keyring_mode:
            try:
                await self._keyring.put(key_id, key)
            except KeyStoreError:
                await self._worker.run(lambda s: meta_rows.abandon_rotation(s, self._clock()))
                raise
            _report(progress, RotationStep("key_stored"))
        log.info("Key rotation started")
        return keys.with_key(key_id, key, primary=True)

    async def finish(self, keys: DataKeys, wrapping_key: bytes | None, progress: Progress | None) -> DataKeys:
        """Carry a rotation through from the step the database records; returns the keys to hold."""
        meta = await self._worker.run(meta_rows.read_meta)
        if meta is None or meta.rotation_state == "idle":
            return keys
        if meta.rotation_state == "reencrypting" and meta.pending_key_id is not None:
            keys = await self._reseal_all(meta, keys, wrapping_key, progress)
            meta = await self._worker.run(meta_rows.read_meta)
            assert meta is not None
        if meta.rotation_state == "retiring" and meta.retiring_key_id is not None:
            retiring = meta.retiring_key_id
            if meta.mode == "keyring":
                await self._keyring.delete(retiring)
            await self._worker.run(lambda s: meta_rows.finish_retirement(s, self._clock()))
            if meta.active_key_id in keys.keys:
                keys = keys.only(meta.active_key_id)
            _report(progress, RotationStep("retired"))
            log.info("Key rotation finished")
        return keys

    async def _reseal_all(
        self, meta: VaultMeta, keys: DataKeys, wrapping_key: bytes | None, progress: Progress | None
    ) -> DataKeys:
        pending = meta.pending_key_id
        assert pending is not None
        if pending not in keys.keys:
            if await self._worker.run(lambda s: connection_rows.count_sealed(s, under=pending)):
                raise RotationBlocked("The new encryption key is missing from the system keyring.")
            # The new key never reached its store, so nothing was sealed under it: draw another.
            await self._worker.run(lambda s: meta_rows.abandon_rotation(s, self._clock()))
            log.warning("An interrupted key rotation lost its new key before any row moved; starting it again")
            idle = await self._worker.run(meta_rows.read_meta)
            assert idle is not None
            keys = await self.begin(idle, keys, wrapping_key, progress)
            pending = keys.primary_id
        keys = keys.with_key(pending, keys.keys[pending], primary=True)
        total = await self._worker.run(lambda s: connection_rows.count_sealed(s, not_under=pending))
        done = 0
        while await self._worker.run(lambda s: reseal_next(s, keys, pending)) is not None:
            done += 1
            _report(progress, RotationStep("row", done, total))
        key = keys.keys[pending]
        if await self._worker.run(lambda s: unverified_under(s, pending, key)):
            raise RotationBlocked("Some credentials did not verify under the new key; the old key was kept.")
        await self._worker.run(lambda s: meta_rows.switch_to_pending(s, self._clock()))
        _report(progress, RotationStep("switched"))
        return keys
