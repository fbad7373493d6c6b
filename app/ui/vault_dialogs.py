"""The vault's dialogs: set a master passphrase, unlock with it, and the slow-keyring message with Retry.

``VaultDialogs.bind(controller)`` shows the right dialog for each controller signal and sends the
trader's answers back to its slots. Dialogs open window-modal with ``open()`` (no nested event
loop), so the asyncio loop keeps running while one is up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui.change_passphrase_dialog import ChangePassphraseDialog
from app.ui.confirm import ask_confirmation
from app.ui.passphrase_form import PassphraseDialog, button_row, new_passphrase_problem


class VaultControls(Protocol):
    """The signals and slots of ``app.controller.vault_controller.VaultController`` the views use.

    A protocol, not an import: the controller module reaches the vault, which views must not.
    """

    state_changed: Any
    status_message: Any
    mode_changed: Any
    passphrase_required: Any
    passphrase_setup_offered: Any
    keyring_timed_out: Any
    unlock_failed: Any
    setup_failed: Any
    change_failed: Any
    passphrase_changed: Any
    backups_keep_changed: Any
    rotation_progress: Any
    rotation_finished: Any
    busy_changed: Any
    error: Any

    def start(self) -> Any: ...

    def retry(self) -> Any: ...

    def setup_passphrase(self, passphrase: str) -> Any: ...

    def unlock(self, passphrase: str) -> Any: ...

    def rotate_key(self) -> Any: ...

    def change_passphrase(self, current: str, new: str) -> Any: ...

    def keep_backups(self, count: int) -> Any: ...

    def forget_unreadable_credentials(self) -> Any: ...

FORGET_WARNING = (
    "Forget the saved broker credentials that can't be read? Your connections stay listed and you can "
    "reconnect each one by entering its keys again. Nothing else (orders, paper account) is touched."
)


class PassphraseSetupDialog(PassphraseDialog):
    passphrase_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, "setup", "Protect your broker credentials", "Set passphrase")
        self.reason = QLabel(objectName="vault.setup_reason")
        self.reason.setWordWrap(True)
        explanation = QLabel(
            "Choose a master passphrase. TradeBridge encrypts your broker keys with it and asks for it "
            "each time it starts. It is never stored: if you forget it, you reconnect your brokers."
        )
        explanation.setWordWrap(True)
        self.passphrase = self.secret_field("vault.setup_passphrase")
        self.confirm_field = self.secret_field("vault.setup_confirm")
        self.cancel = QPushButton("Not now", objectName="vault.setup_cancel")

        form = QFormLayout()
        form.addRow("Passphrase", self.passphrase)
        form.addRow("Repeat it", self.confirm_field)
        layout = QVBoxLayout(self)
        for widget in (self.reason, explanation):
            layout.addWidget(widget)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(button_row(self.cancel, self.submit))

        self.submit.clicked.connect(self._submit)
        self.cancel.clicked.connect(self.reject)

    def _submit(self) -> None:
        text = self.passphrase.text()
        if (problem := new_passphrase_problem(text, self.confirm_field.text())) is not None:
            self.show_error(problem)
        else:
            self.error.clear()
            self.passphrase_chosen.emit(text)

    @Slot(str)
    def show_reason(self, text: str) -> None:
        self.reason.setText(text)


class UnlockDialog(PassphraseDialog):
    unlock_requested = Signal(str)
    forget_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, "unlock", "Unlock your broker credentials", "Unlock")
        #: Replaced in tests; asks the trader before anything irreversible.
        self.confirm: Callable[[str, str], bool] = lambda title, text: ask_confirmation(self, title, text)
        prompt = QLabel("Enter your master passphrase to use your saved broker connections.")
        prompt.setWordWrap(True)
        self.passphrase = self.secret_field("vault.passphrase_input")
        self.later = QPushButton("Paper trade only", objectName="vault.unlock_later")
        self.forget = QPushButton("Forgot passphrase\u2026", objectName="vault.forget_credentials")

        layout = QVBoxLayout(self)
        layout.addWidget(prompt)
        layout.addWidget(self.passphrase)
        layout.addWidget(self.error)
        layout.addLayout(button_row(self.later, self.submit, leading=self.forget))

        self.submit.clicked.connect(self._submit)
        self.later.clicked.connect(self.reject)
        self.forget.clicked.connect(self._forget)

    def _submit(self) -> None:
        if self.passphrase.text():
            self.error.clear()
            self.unlock_requested.emit(self.passphrase.text())

    def _forget(self) -> None:
        if self.confirm("Forget saved credentials", FORGET_WARNING):
            self.forget_requested.emit()

    @Slot(str)
    def show_error(self, text: str) -> None:
        self.passphrase.clear()
        super().show_error(text)


class KeyringTimeoutDialog(QDialog):
    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="vault.keyring_timeout_dialog")
        self.setWindowTitle("The system keyring is not answering")
        self.message = QLabel(objectName="vault.keyring_timeout_message")
        self.message.setWordWrap(True)
        note = QLabel("Paper trading works meanwhile; only saved broker connections wait for the keyring.")
        note.setWordWrap(True)
        self.retry = QPushButton("Retry", objectName="vault.keyring_retry")
        self.retry.setDefault(True)
        self.dismiss = QPushButton("Close", objectName="vault.keyring_dismiss")
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(note)
        layout.addLayout(button_row(self.dismiss, self.retry))
        self.retry.clicked.connect(self.retry_requested)
        self.dismiss.clicked.connect(self.reject)

    @Slot(str)
    def show_message(self, text: str) -> None:
        self.message.setText(text)

    @Slot(bool)
    def set_busy(self, busy: bool) -> None:
        self.retry.setEnabled(not busy)
        self.retry.setText("Waiting for the keyring\u2026" if busy else "Retry")


class VaultDialogs(QObject):
    """Owns the three dialogs and opens whichever the vault controller asks for."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setup = PassphraseSetupDialog(parent)
        self.unlock = UnlockDialog(parent)
        self.keyring_timeout = KeyringTimeoutDialog(parent)
        self.change = ChangePassphraseDialog(parent)

    @Slot(str)
    def show_setup(self, reason: str = "") -> None:
        if reason:
            self.setup.show_reason(reason)
        self.setup.open()

    @Slot()
    def show_unlock(self) -> None:
        self.unlock.open()

    @Slot()
    def show_change_passphrase(self) -> None:
        self.change.open()

    @Slot(str)
    def show_keyring_timeout(self, message: str) -> None:
        self.keyring_timeout.show_message(message)
        self.keyring_timeout.open()

    @Slot(str)
    def follow_state(self, state: str) -> None:
        """Close what the new state has made pointless."""
        if state == "ready":
            for dialog in (self.setup, self.unlock):
                if dialog.isVisible():
                    dialog.accept()
        if state != "locked" and self.unlock.isVisible():
            self.unlock.reject()
        if state != "keyring_timeout" and self.keyring_timeout.isVisible():
            self.keyring_timeout.accept()

    @Slot(bool)
    def set_busy(self, busy: bool) -> None:
        for dialog in (self.setup, self.unlock, self.keyring_timeout, self.change):
            dialog.set_busy(busy)

    def bind(self, controller: VaultControls) -> None:
        controller.passphrase_setup_offered.connect(self.show_setup)
        controller.passphrase_required.connect(self.show_unlock)
        controller.keyring_timed_out.connect(self.show_keyring_timeout)
        controller.setup_failed.connect(self.setup.show_error)
        controller.unlock_failed.connect(self.unlock.show_error)
        controller.state_changed.connect(self.follow_state)
        controller.busy_changed.connect(self.set_busy)
        self.setup.passphrase_chosen.connect(controller.setup_passphrase)
        self.unlock.unlock_requested.connect(controller.unlock)
        self.unlock.forget_requested.connect(controller.forget_unreadable_credentials)
        self.keyring_timeout.retry_requested.connect(controller.retry)
        self.change.change_requested.connect(controller.change_passphrase)
        controller.change_failed.connect(self.change.show_error)
        controller.passphrase_changed.connect(lambda _message: self.change.accept())
