"""A count or result line that changes often: shown at once, relaid out only when it needs more room."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from app.ui.steady_label import SteadyLabel


class LayoutRequests(QObject):
    """Counts the layout requests a widget receives."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def _holder(qtbot, line: SteadyLabel) -> QWidget:  # type: ignore[no-untyped-def]
    holder = QWidget()
    column = QVBoxLayout(holder)
    column.addWidget(line)
    column.addStretch(1)  # the room left goes elsewhere, as the orders table takes it in the pane
    holder.resize(400, 200)
    qtbot.addWidget(holder)
    holder.show()
    QApplication.processEvents()
    return holder


def test_a_new_text_that_fits_shows_without_laying_the_parent_out(qtbot) -> None:  # type: ignore[no-untyped-def]
    line = SteadyLabel("orders.message", word_wrap=True)
    holder = _holder(qtbot, line)
    line.setText("Order tb-1 placed.")
    QApplication.processEvents()
    requests = LayoutRequests()
    holder.installEventFilter(requests)

    line.setText("Order tb-2 placed.")
    QApplication.processEvents()

    assert holder.findChild(QLabel, "orders.message").text() == "Order tb-2 placed."
    assert line.text() == "Order tb-2 placed."
    assert requests.count == 0


def test_a_text_that_needs_more_lines_gets_them_and_gives_them_back(qtbot) -> None:  # type: ignore[no-untyped-def]
    line = SteadyLabel("orders.message", word_wrap=True)
    holder = _holder(qtbot, line)
    line.setText("Short.")
    QApplication.processEvents()
    one_line = line.height()

    line.setText("A result long enough to wrap onto more than one line of this narrow pane, and then some more. " * 3)
    QApplication.processEvents()
    assert line.height() > one_line
    assert line.label.height() == line.height()

    line.setText("Short again.")
    QApplication.processEvents()
    assert line.height() == one_line
    assert holder.isVisible()


def test_a_count_wider_than_its_line_widens_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    line = SteadyLabel("orders.count")
    holder = QWidget()
    row = QVBoxLayout(holder)
    row.addWidget(line)
    row.addStretch(1)
    qtbot.addWidget(holder)
    holder.show()
    line.setText("1 order shown")
    QApplication.processEvents()

    line.setText("100,000 orders shown; scroll down for older orders")
    QApplication.processEvents()

    assert line.label.width() >= line.label.sizeHint().width()
