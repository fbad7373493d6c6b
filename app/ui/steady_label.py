"""A line of text that changes often (a count, a result line) without laying the window out again each time.

A `QLabel` whose text changes asks its layout to run again, and every layout above it, up to the
window; the Orders pane then repaints all of its docks. During a burst of orders the count and the
result line change with every order, so they live here, in a holder without a layout of its own:
the label's request stops at the holder, which asks its parent for a new layout only when the new
text needs another height or more width than it has.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class SteadyLabel(QWidget):
    """Holds one `QLabel` (named ``name``, so tests and styles find it as before) at its own size."""

    def __init__(self, name: str, *, word_wrap: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(self, objectName=name)
        self.label.setWordWrap(word_wrap)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(word_wrap)
        self.setSizePolicy(policy)

    def text(self) -> str:
        return self.label.text()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        if text == self.label.text():
            return
        self.label.setText(text)
        if self._needs_layout():
            self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self.label.sizeHint()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self.label.minimumSizeHint()

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return self.label.wordWrap()

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        return self.label.heightForWidth(width)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.label.setGeometry(self.rect())

    def _needs_layout(self) -> bool:
        if self.label.wordWrap():
            return self.label.heightForWidth(self.width()) != self.height()
        # A row may give the line more height than it asks for (next to buttons): only more is a change.
        hint = self.label.sizeHint()
        return hint.width() > self.width() or hint.height() > self.height()
