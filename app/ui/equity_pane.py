"""The paper account's equity curve: equity and cash over time, and the drawdown from the running peak beneath."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.controller.equity_views import EquityCurveView
from app.domain.equity_curve import EquityPoint
from app.ui.formatting import fmt_money

if TYPE_CHECKING:
    from app.ui.equity_plot import EquityPlot


def _percent(fraction: Decimal) -> str:
    return f"{fraction * 100:.2f}%"


class EquityPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("equity")
        self.summary = QLabel("The paper account's history appears after its first session.", objectName="equity.summary")
        # The plot (pyqtgraph, numpy) is built when the pane is first shown; until then only the points are kept.
        self._plot: EquityPlot | None = None
        self._layout = layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        self._points: list[EquityPoint] = []
        self._drawdowns: list[float] = []
        self._peak = Decimal(0)
        self._worst = (Decimal(0), Decimal(0))

    @property
    def plot(self) -> EquityPlot:
        if self._plot is None:
            from app.ui.equity_plot import EquityPlot

            self._plot = EquityPlot()
            self._layout.addWidget(self._plot.view, 1)
            self._draw()
        return self._plot

    @Slot(object)
    def show_curve(self, curve: EquityCurveView) -> None:
        self._points = list(curve.points)
        self._drawdowns = [float(d) * 100 for d in curve.drawdowns]
        self._peak = max((p.equity for p in self._points), default=Decimal(0))
        self._worst = (curve.max_drawdown, curve.max_drawdown_amount)
        self._redraw()

    @Slot(object)
    def add_point(self, point: EquityPoint) -> None:
        if not self._points:
            return
        self._points.append(point)
        self._peak = max(self._peak, point.equity)
        fall = (point.equity - self._peak) / self._peak if self._peak > 0 else Decimal(0)
        self._drawdowns.append(float(fall) * 100)
        if fall < self._worst[0]:
            self._worst = (fall, point.equity - self._peak)
        self._redraw()

    def _draw(self) -> None:
        if self._plot is not None:
            points = self._points
            self._plot.draw(
                [p.at.timestamp() for p in points], [float(p.equity) for p in points], [float(p.cash) for p in points], self._drawdowns
            )

    def _redraw(self) -> None:
        self._draw()
        if self._points:
            last = self._points[-1]
            self.summary.setText(
                f"Equity {fmt_money(last.equity)} · cash {fmt_money(last.cash)} · max drawdown "
                f"{_percent(self._worst[0])} ({fmt_money(self._worst[1])}) · "
                "end of each session from the journal, during the session from the marks"
            )

    def equity_values(self) -> list[tuple[float, float, float]]:
        """(time, equity, cash) of every point drawn."""
        return [(p.at.timestamp(), float(p.equity), float(p.cash)) for p in self._points]

