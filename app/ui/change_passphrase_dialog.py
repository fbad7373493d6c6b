"""The dialog that changes the master passphrase: the current one, the new one twice."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

#: Same rule as the vault (which checks again, strength included); views may not import it from app.security.
MIN_PASSPHRASE_LENGTH = 8


def _password_field(name: str) -> QLineEdit:
    field = QLineEdit(objectName=name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


class ChangePassphraseDialog(QDialog):
    """Emits ``change_requested(current, new)``; stays open with the vault's answer until it succeeds."""

    change_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="vault.change_dialog")
        self.setWindowTitle("Change your master passphrase")
        self.setModal(True)
        explanation = QLabel(
            "Your saved credentials stay as they are; only the key that protects them is re-wrapped "
            "under the new passphrase. If anything stops it halfway, the old passphrase still works."
        )
        explanation.setWordWrap(True)
        self.current = _password_field("vault.change_current")
        self.new = _password_field("vault.change_new")
        self.confirm_field = _password_field("vault.change_confirm")
        self.error = QLabel(objectName="vault.change_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.submit = QPushButton("Change passphrase", objectName="vault.change_submit")
        self.submit.setDefault(True)
        self.cancel = QPushButton("Cancel", objectName="vault.change_cancel")

        form = QFormLayout()
        form.addRow("Current passphrase", self.current)
        form.addRow("New passphrase", self.new)
        form.addRow("Repeat the new one", self.confirm_field)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.submit)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        self.submit.clicked.connect(self._submit)
        self.cancel.clicked.connect(self.reject)

    def _submit(self) -> None:
        current, new = self.current.text(), self.new.text()
        if not current:
            self.show_error("Enter your current passphrase.")
        elif len(new) < MIN_PASSPHRASE_LENGTH:
            self.show_error(f"Use at least {MIN_PASSPHRASE_LENGTH} characters.")
        elif new != self.confirm_field.text():
            self.show_error("The two new passphrases differ.")
        elif new == current:
            self.show_error("The new passphrase is the same as the current one.")
        else:
            self.error.clear()
            self.change_requested.emit(current, new)

    @Slot(str)
    def show_error(self, text: str) -> None:
        self.error.setText(text)

    @Slot(bool)
    def set_busy(self, busy: bool) -> None:
        self.submit.setEnabled(not busy)

    def done(self, result: int) -> None:
        for field in (self.current, self.new, self.confirm_field):
            field.clear()
        self.error.clear()
        super().done(result)
