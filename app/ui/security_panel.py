"""The Security group of the Settings pane: how credentials are protected, and key rotation."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.ui.confirm import ask_confirmation
from app.ui.vault_dialogs import FORGET_WARNING, VaultControls, VaultDialogs

MODE_TEXT = {
    "keyring": "Encryption key: kept in your system keyring.",
    "passphrase": "Encryption key: derived from your master passphrase (asked at every start).",
    "": "Encryption key: not set up yet.",
}
STATE_TEXT = {
    "ready": "Unlocked",
    "locked": "Locked",
    "setup_required": "Needs a master passphrase",
    "keyring_timeout": "Waiting for the system keyring",
    "keyring_unavailable": "System keyring unavailable",
    "key_lost": "Saved credentials can't be read",
}


class SecurityPanel(QGroupBox):
    rotate_requested = Signal()
    unlock_requested = Signal()
    setup_requested = Signal()
    retry_requested = Signal()
    forget_requested = Signal()
    change_passphrase_requested = Signal()
    backups_keep_submitted = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Security", parent, objectName="security.panel")
        #: Replaced in tests; asks the trader before anything irreversible.
        self.confirm: Callable[[str, str], bool] = lambda title, text: ask_confirmation(self, title, text)
        self._state = ""
        self._mode = ""
        self._busy = False
        self.state = QLabel(objectName="security.state")
        self.status = QLabel(objectName="security.status")
        self.status.setWordWrap(True)
        self.mode = QLabel(MODE_TEXT[""], objectName="security.mode")
        self.mode.setWordWrap(True)
        self.rotate = QPushButton("Rotate encryption key", objectName="security.rotate_key")
        self.rotate.setToolTip("Re-encrypt every saved credential under a new key, then delete the old key.")
        self.unlock = QPushButton("Unlock\u2026", objectName="security.unlock")
        self.setup = QPushButton("Set a master passphrase\u2026", objectName="security.setup_passphrase")
        self.retry = QPushButton("Retry", objectName="security.retry")
        self.forget = QPushButton("Forget unreadable credentials\u2026", objectName="security.forget_credentials")
        self.change_passphrase = QPushButton("Change passphrase\u2026", objectName="security.change_passphrase")
        self.progress = QProgressBar(objectName="security.rotation_progress")
        self.progress.setVisible(False)
        self.message = QLabel(objectName="security.message")
        self.message.setWordWrap(True)
        self.backups_keep = QSpinBox(objectName="security.backups_keep")
        self.backups_keep.setRange(1, 100)
        self.backups_keep.setValue(5)
        self.backups_keep.setToolTip(
            "A backup is taken before each database update. Older ones are deleted at the next start, "
            "so old copies of your encrypted credentials don't live forever."
        )

        buttons = QHBoxLayout()
        for button in (self.rotate, self.change_passphrase, self.unlock, self.setup, self.retry, self.forget):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        for widget in (self.state, self.status, self.mode):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        keep = QHBoxLayout()
        keep.addWidget(QLabel("Database backups to keep"))
        keep.addWidget(self.backups_keep)
        keep.addStretch(1)
        layout.addLayout(keep)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)

        self.rotate.clicked.connect(self._rotate)
        self.unlock.clicked.connect(self.unlock_requested)
        self.setup.clicked.connect(self.setup_requested)
        self.retry.clicked.connect(self.retry_requested)
        self.forget.clicked.connect(self._forget)
        self.change_passphrase.clicked.connect(self.change_passphrase_requested)
        self.backups_keep.editingFinished.connect(lambda: self.backups_keep_submitted.emit(self.backups_keep.value()))
        self.show_state("")

    def _rotate(self) -> None:
        self.message.clear()
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.rotate_requested.emit()

    def _forget(self) -> None:
        if self.confirm("Forget saved credentials", FORGET_WARNING):
            self.forget_requested.emit()

    def _refresh(self) -> None:
        state = self._state
        self.rotate.setVisible(state == "ready")
        self.rotate.setEnabled(state == "ready" and not self._busy)
        self.unlock.setVisible(state == "locked")
        self.setup.setVisible(state == "setup_required")
        self.retry.setVisible(state in ("keyring_timeout", "keyring_unavailable", "key_lost"))
        self.forget.setVisible(state in ("keyring_unavailable", "key_lost"))
        self.change_passphrase.setVisible(state == "ready" and self._mode == "passphrase")
        for button in (self.unlock, self.setup, self.retry, self.forget, self.change_passphrase):
            button.setEnabled(not self._busy)

    @Slot(str)
    def show_state(self, state: str) -> None:
        self._state = state
        self.state.setText(f"Credential vault: {STATE_TEXT.get(state, 'Opening')}")
        self._refresh()

    @Slot(str)
    def show_status(self, text: str) -> None:
        self.status.setText(text)

    @Slot(str)
    def show_mode(self, mode: str) -> None:
        self._mode = mode
        self.mode.setText(MODE_TEXT.get(mode, MODE_TEXT[""]))
        self._refresh()

    @Slot(bool)
    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        if not busy:
            self.progress.setVisible(False)
        self._refresh()

    @Slot(int, int)
    def show_rotation_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"Re-encrypting {done} of {total}")

    @Slot(int)
    def show_backups_to_keep(self, count: int) -> None:
        self.backups_keep.blockSignals(True)
        self.backups_keep.setValue(count)
        self.backups_keep.blockSignals(False)

    @Slot(str)
    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def bind(self, controller: VaultControls, dialogs: VaultDialogs | None = None) -> None:
        controller.state_changed.connect(self.show_state)
        controller.status_message.connect(self.show_status)
        controller.mode_changed.connect(self.show_mode)
        controller.busy_changed.connect(self.set_busy)
        controller.rotation_progress.connect(self.show_rotation_progress)
        controller.rotation_finished.connect(self.show_message)
        controller.passphrase_changed.connect(self.show_message)
        controller.backups_keep_changed.connect(self.show_backups_to_keep)
        self.backups_keep_submitted.connect(controller.keep_backups)
        controller.error.connect(self.show_message)
        self.rotate_requested.connect(controller.rotate_key)
        self.retry_requested.connect(controller.retry)
        self.forget_requested.connect(controller.forget_unreadable_credentials)
        if dialogs is not None:
            self.unlock_requested.connect(dialogs.show_unlock)
            self.setup_requested.connect(lambda: dialogs.show_setup(""))
            self.change_passphrase_requested.connect(dialogs.show_change_passphrase)
