"""The dialog that changes the master passphrase: the current one, the new one twice."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui.passphrase_form import PassphraseDialog, button_row, new_passphrase_problem


class ChangePassphraseDialog(PassphraseDialog):
    """Emits ``change_requested(current, new)``; stays open with the vault's answer until it succeeds."""

    change_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, "change", "Change your master passphrase", "Change passphrase")
        explanation = QLabel(
            "Your saved credentials stay as they are; only the key that protects them is re-wrapped "
            "under the new passphrase. If anything stops it halfway, the old passphrase still works."
        )
        explanation.setWordWrap(True)
        self.current = self.secret_field("vault.change_current")
        self.new = self.secret_field("vault.change_new")
        self.confirm_field = self.secret_field("vault.change_confirm")
        self.cancel = QPushButton("Cancel", objectName="vault.change_cancel")

        form = QFormLayout()
        form.addRow("Current passphrase", self.current)
        form.addRow("New passphrase", self.new)
        form.addRow("Repeat the new one", self.confirm_field)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(button_row(self.cancel, self.submit))

        self.submit.clicked.connect(self._submit)
        self.cancel.clicked.connect(self.reject)

    def _submit(self) -> None:
        current, new = self.current.text(), self.new.text()
        if not current:
            self.show_error("Enter your current passphrase.")
        elif (problem := new_passphrase_problem(new, self.confirm_field.text())) is not None:
            self.show_error(problem)
        elif new == current:
            self.show_error("The new passphrase is the same as the current one.")
        else:
            self.error.clear()
            self.change_requested.emit(current, new)
