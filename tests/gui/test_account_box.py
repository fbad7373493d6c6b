"""The account box: every value shown in full, and a new value that fits relays nothing out."""

from __future__ import annotations

from decimal import Decimal as D

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QLabel

from app.domain.models import AccountSummary
from app.ui.account_box import AccountSummaryBox


class LayoutRequests(QObject):
    """Counts the layout requests a widget receives."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def _summary(cash: str) -> AccountSummary:
    return AccountSummary(
        cash=D(cash), equity=D("99123.45"), buying_power=D("97000.12"), realized_pnl=D("12.50"), unrealized_pnl=D("-3.25")
    )


def test_a_revaluation_that_fits_shows_at_once_without_a_relayout(qtbot) -> None:  # type: ignore[no-untyped-def]
    box = AccountSummaryBox()
    qtbot.addWidget(box)
    box.show()
    box.show_summary(_summary("98104.00"))
    QApplication.processEvents()
    requests = LayoutRequests()
    box.installEventFilter(requests)
    before = box.labels["cash"].size()

    box.show_summary(_summary("98003.17"))
    QApplication.processEvents()

    assert box.findChild(QLabel, "account.cash").text() == "$98,003.17"
    assert box.labels["buying_power"].text() == "$97,000.12"
    assert box.labels["unrealized_pnl"].text() == "-$3.25"
    assert box.labels["cash"].size() == before
    assert requests.count == 0


def test_a_value_wider_than_its_field_widens_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    box = AccountSummaryBox()
    qtbot.addWidget(box)
    box.show()
    label = box.labels["cash"]
    narrow = label.width()

    box.show_summary(_summary("123456789012345678.00"))
    QApplication.processEvents()

    assert label.text() == "$123,456,789,012,345,678.00"
    assert label.width() > narrow
    assert label.width() >= label.fontMetrics().horizontalAdvance(label.text())
