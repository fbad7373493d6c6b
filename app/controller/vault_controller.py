"""The vault's controller: opens it at start, asks for the passphrase, retries a slow keyring, rotates keys.

Thin async slots over ``VaultService``: every outcome becomes a signal with a message for the
trader, and no signal ever carries a secret (a passphrase goes *in* through a slot, never out).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import qasync
from PySide6.QtCore import QObject, Signal

from app.security.keystore import KeyStoreError
from app.security.vault import VaultError
from app.security.vault_service import RotationStep, VaultService, VaultState, VaultStatus, WrongPassphrase

log = logging.getLogger(__name__)


class VaultController(QObject):
    #: A ``VaultState`` value: ready, locked, setup_required, keyring_timeout, keyring_unavailable, key_lost.
    state_changed = Signal(str)
    #: What the security panel should say about the vault right now.
    status_message = Signal(str)
    #: "keyring", "passphrase" or "" while no vault exists.
    mode_changed = Signal(str)
    #: Saved credentials exist and need the passphrase: show the unlock dialog.
    passphrase_required = Signal()
    #: No secure keyring; the reason. Show the passphrase set-up dialog.
    passphrase_setup_offered = Signal(str)
    #: The keyring did not answer in time; the message. Show it with a Retry button.
    keyring_timed_out = Signal(str)
    #: The unlock dialog's own error line (wrong passphrase); the dialog stays open.
    unlock_failed = Signal(str)
    #: The set-up dialog's own error line (passphrase too weak); the dialog stays open.
    setup_failed = Signal(str)
    #: The change-passphrase dialog's own error line (wrong current one, weak new one); it stays open.
    change_failed = Signal(str)
    #: The passphrase was changed; the message for the trader.
    passphrase_changed = Signal(str)
    #: How many database backups are kept.
    backups_keep_changed = Signal(int)
    rotation_progress = Signal(int, int)
    rotation_finished = Signal(str)
    busy_changed = Signal(bool)
    error = Signal(str)

    def __init__(self, service: VaultService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._busy = False

    @property
    def service(self) -> VaultService:
        """For the controllers that save connections and build connectors from them."""
        return self._service

    @property
    def status(self) -> VaultStatus:
        return self._service.status

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    def _publish(self, status: VaultStatus) -> None:
        self.mode_changed.emit(status.mode.value if status.mode else "")
        self.status_message.emit(status.message)
        self.state_changed.emit(status.state.value)
        if status.state is VaultState.LOCKED and status.has_credentials:
            self.passphrase_required.emit()
        elif status.state is VaultState.SETUP_REQUIRED:
            self.passphrase_setup_offered.emit(status.message)
        elif status.state is VaultState.KEYRING_TIMEOUT:
            self.keyring_timed_out.emit(status.message)

    async def _call(
        self,
        work: Awaitable[VaultStatus],
        *,
        on_error: Callable[[Exception], None] | None = None,
        expected: tuple[type[Exception], ...] = (VaultError, KeyStoreError),
    ) -> VaultStatus | None:
        """Run one vault operation while busy; an expected failure becomes a message, success is published."""
        self._set_busy(True)
        try:
            status = await work
        except expected as exc:
            (on_error or (lambda e: self.error.emit(str(e))))(exc)
            return None
        finally:
            self._set_busy(False)
        self._publish(status)
        return status

    @qasync.asyncSlot()
    async def start(self) -> None:
        await self._call(self._service.start())
        await self.publish_backups_to_keep()

    async def publish_backups_to_keep(self) -> None:
        try:
            self.backups_keep_changed.emit(await self._service.backups_to_keep())
        except (VaultError, KeyStoreError) as exc:
            self.error.emit(str(exc))

    @qasync.asyncSlot(int)
    async def keep_backups(self, count: int) -> None:
        try:
            kept = await self._service.keep_backups(count)
        except VaultError as exc:
            self.error.emit(str(exc))
            await self.publish_backups_to_keep()
            return
        self.backups_keep_changed.emit(kept)

    @qasync.asyncSlot()
    async def retry(self) -> None:
        await self._call(self._service.start())

    @qasync.asyncSlot(str)
    async def setup_passphrase(self, passphrase: str) -> None:
        await self._call(
            self._service.setup_passphrase(passphrase),
            on_error=lambda e: self.setup_failed.emit(str(e)),
            expected=(VaultError,),
        )

    @qasync.asyncSlot(str)
    async def unlock(self, passphrase: str) -> None:
        def failed(exc: Exception) -> None:
            (self.unlock_failed if isinstance(exc, WrongPassphrase) else self.error).emit(str(exc))

        await self._call(self._service.unlock(passphrase), on_error=failed)

    @qasync.asyncSlot(str, str)
    async def change_passphrase(self, current: str, new: str) -> None:
        status = await self._call(
            self._service.change_passphrase(current, new),
            on_error=lambda e: self.change_failed.emit(str(e)),
        )
        if status is not None:
            self.passphrase_changed.emit(status.message)

    @qasync.asyncSlot()
    async def rotate_key(self) -> None:
        def progress(step: RotationStep) -> None:
            if step.name == "row":
                self.rotation_progress.emit(step.done, step.total)

        def failed(exc: Exception) -> None:
            self.error.emit(f"The key was not rotated: {exc}")
            self._publish(self._service.status)

        if await self._call(self._service.rotate_key(progress), on_error=failed) is not None:
            self.rotation_finished.emit(
                "Every saved credential is now encrypted under a new key; the old key was removed."
            )

    @qasync.asyncSlot()
    async def forget_unreadable_credentials(self) -> None:
        """The trader's "start over": drop what no key can read; the connections stay listed."""
        await self._call(self._service.forget_unreadable_credentials())
