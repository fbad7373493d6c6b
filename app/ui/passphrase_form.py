"""What every passphrase dialog shares: hidden fields, the length rule, the error line and the button row."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

#: Same rule as the vault (which checks again, strength included); views may not import it from app.security.
MIN_PASSPHRASE_LENGTH = 8


def password_field(name: str) -> QLineEdit:
    field = QLineEdit(objectName=name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


def error_label(name: str) -> QLabel:
    label = QLabel(objectName=name)
    label.setWordWrap(True)
    label.setStyleSheet("color: #b00020;")
    return label


def button_row(*buttons: QPushButton, leading: QPushButton | None = None) -> QHBoxLayout:
    """``leading`` on the left, the others right-aligned in order (the default action last)."""
    row = QHBoxLayout()
    if leading is not None:
        row.addWidget(leading)
    row.addStretch(1)
    for button in buttons:
        row.addWidget(button)
    return row


def new_passphrase_problem(new: str, repeated: str) -> str | None:
    """Why a new passphrase and its repetition can't be used, or None."""
    if len(new) < MIN_PASSPHRASE_LENGTH:
        return f"Use at least {MIN_PASSPHRASE_LENGTH} characters."
    if new != repeated:
        return "The two passphrases differ."
    return None


class PassphraseDialog(QDialog):
    """A modal passphrase dialog with an error line and a submit button the vault's answer drives."""

    def __init__(self, parent: QWidget | None, name: str, title: str, submit: str) -> None:
        super().__init__(parent, objectName=f"vault.{name}_dialog")
        self.setWindowTitle(title)
        self.setModal(True)
        self.error = error_label(f"vault.{name}_error")
        self.submit = QPushButton(submit, objectName=f"vault.{name}_submit")
        self.submit.setDefault(True)
        self._secrets: list[QLineEdit] = []

    def secret_field(self, name: str) -> QLineEdit:
        """A hidden field this dialog empties whenever it closes, so no passphrase outlives the dialog."""
        field = password_field(name)
        self._secrets.append(field)
        return field

    def done(self, result: int) -> None:
        for field in self._secrets:
            field.clear()
        self.error.clear()
        super().done(result)

    @Slot(str)
    def show_error(self, text: str) -> None:
        self.error.setText(text)

    @Slot(bool)
    def set_busy(self, busy: bool) -> None:
        self.submit.setEnabled(not busy)
