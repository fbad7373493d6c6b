"""The status bar: connection, quotes, US market clock and the last message, each in a field of its own."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Slot
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QStatusBar, QWidget

MESSAGE_SECONDS = 20


class StatusField(QLabel):
    """A one-line field that asks for its whole text but, when the window is too narrow, shortens its
    own text with an ellipsis (full text in the tooltip) instead of pushing its neighbours out."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setContentsMargins(6, 0, 6, 0)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        if text == self.text() and self.isHidden() != bool(text):
            # The same words again (every quote lookup repeats the source's status): a relayout of the
            # status bar and a repaint of its fields would show nothing new.
            return
        super().setText(text)
        self.setToolTip(text)
        self.setVisible(bool(text))
        self.updateGeometry()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("M" * 8)), hint.height())

    def is_elided(self) -> bool:
        margins = self.contentsMargins()
        return self.fontMetrics().horizontalAdvance(self.text()) > self.width() - margins.left() - margins.right()

    def paintEvent(self, _event: object) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), shown)


class StatusFields(QStatusBar):
    """``status.message`` takes the spare room; the permanent fields keep theirs to the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("status")
        self.setSizeGripEnabled(True)
        self.message = StatusField("status.message")
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.connection = StatusField("status.connection")
        self.quotes = StatusField("status.quotes")
        self.market_clock = StatusField("status.market_clock")
        self.addWidget(self.message, 1)
        for field in (self.connection, self.quotes, self.market_clock):
            self.addPermanentWidget(field)
            field.hide()
        self.message.hide()
        self._message_timer = QTimer(self, singleShot=True, interval=MESSAGE_SECONDS * 1000)
        self._message_timer.timeout.connect(lambda: self.message.setText(""))

    def fields(self) -> dict[str, StatusField]:
        return {f.objectName(): f for f in (self.message, self.connection, self.quotes, self.market_clock)}

    @Slot(str)
    def show_message(self, text: str) -> None:
        """A passing message; it stays until replaced or for MESSAGE_SECONDS, never over the other fields."""
        self.message.setText(text)
        if text:
            self._message_timer.start()

    @Slot(str)
    def show_connection(self, text: str) -> None:
        self.connection.setText(text)

    @Slot(str)
    def show_quotes(self, text: str) -> None:
        self.quotes.setText(text)

    @Slot(str)
    def show_market_clock(self, text: str) -> None:
        self.market_clock.setText(text)
