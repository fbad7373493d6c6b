"""The equity curve of the account in use (paper, or the live broker account): equity and cash over time, and the
drawdown from the running peak beneath, under a line naming the account and where the points come from."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.ui.formatting import fmt_money

if TYPE_CHECKING:
    from app.controller.equity_views import EquityCurveView
    from app.domain.equity_curve import EquityPoint
    from app.ui.equity_plot import EquityPlot


def _percent(fraction: Decimal) -> str:
    return f"{fraction * 100:.2f}%"


class EquityPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("equity")
        self.account = QLabel("Paper account", objectName="equity.account")
        bold = QFont(self.account.font())
        bold.setBold(True)
        self.account.setFont(bold)
        self.summary = QLabel("The paper account's history appears after its first session.", objectName="equity.summary")
        self.summary.setWordWrap(True)
        self._source = ""
        # The plot (pyqtgraph, numpy) is built when the pane is first shown; until then only the points are kept.
        self._plot: EquityPlot | None = None
        self._layout = layout = QVBoxLayout(self)
        layout.addWidget(self.account)
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
        self.account.setText(curve.account)
        self._source = curve.source
        self._points = list(curve.points)
        self._drawdowns = [float(d) * 100 for d in curve.drawdowns]
        self._peak = max((p.equity for p in self._points), default=Decimal(0))
        self._worst = (curve.max_drawdown, curve.max_drawdown_amount)
        self._redraw()

    @Slot(object)
    def add_point(self, point: EquityPoint) -> None:
        if not self._points and not self._source:
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
            # No history yet: the summary line says so; empty axes from 1970 would say nothing useful.
            self._plot.view.setVisible(bool(points))
            # A broker's history gives equity only: no cash plot then, rather than a line of gaps.
            cash = [float(p.cash) if p.cash is not None else float("nan") for p in points]
            known = any(p.cash is not None for p in points)
            self._plot.draw(
                [p.at.timestamp() for p in points], [float(p.equity) for p in points], cash if known else None, self._drawdowns
            )

    def _redraw(self) -> None:
        self._draw()
        if not self._points:
            self.summary.setText(f"No points yet · {self._source}" if self._source else "No points yet.")
            return
        last = self._points[-1]
        cash = f" · cash {fmt_money(last.cash)}" if last.cash is not None else ""
        self.summary.setText(
            f"Equity {fmt_money(last.equity)}{cash} · max drawdown "
            f"{_percent(self._worst[0])} ({fmt_money(self._worst[1])}) · {self._source}"
        )

    def equity_values(self) -> list[tuple[float, float, float | None]]:
        """(time, equity, cash) of every point drawn; cash None where the source gives equity only."""
        return [(p.at.timestamp(), float(p.equity), None if p.cash is None else float(p.cash)) for p in self._points]

