"""The one Yes/No question the views ask before anything irreversible (No is the default)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def ask_confirmation(parent: QWidget | None, title: str, text: str) -> bool:
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    answer = QMessageBox.question(parent, title, text, buttons, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
