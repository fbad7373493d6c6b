"""The equity pane before and after its first points: a sentence instead of empty axes, then the curve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from PySide6.QtWidgets import QLabel

from app.controller.equity_views import curve_view
from app.domain.equity_curve import EquityPoint
from app.ui.equity_pane import EquityPane


def test_the_plot_stays_hidden_until_the_account_has_a_point(qtbot):
    pane = EquityPane()
    qtbot.addWidget(pane)
    pane.show()
    plot = pane.plot
    qtbot.wait(100)  # the layout shows a new child widget on a later turn of the event loop
    assert not plot.view.isVisible()
    assert pane.findChild(QLabel, "equity.summary").text() == "The paper account's history appears after its first session."

    start = datetime(2026, 11, 2, 21, 0, tzinfo=UTC)
    points = [
        EquityPoint(at=start + timedelta(days=n), cash=Decimal("50000"), equity=Decimal(equity))
        for n, equity in enumerate(("100000", "100250.50", "99800"))
    ]
    pane.show_curve(curve_view(points, source="end of each session from the journal"))
    qtbot.wait(100)
    assert plot.view.isVisible()
    assert [value for _, value, _ in pane.equity_values()] == [100000.0, 100250.5, 99800.0]
