"""The paper account's equity curve: equity and cash over time, and the drawdown from the running peak beneath."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.controller.equity_views import EquityCurveView
from app.domain.equity_curve import EquityPoint
from app.ui.formatting import fmt_money


def _percent(fraction: Decimal) -> str:
    return f"{fraction * 100:.2f}%"


class EquityPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("equity")
        self.summary = QLabel("The paper account's history appears after its first session.", objectName="equity.summary")
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("equity.view")
        self.view.setBackground("w")
        self.curve_plot = self.view.addPlot(row=0, col=0, axisItems={"bottom": pg.DateAxisItem()})
        self.drawdown_plot = self.view.addPlot(row=1, col=0, axisItems={"bottom": pg.DateAxisItem()})
        self.cash_plot = self.view.addPlot(row=2, col=0, axisItems={"bottom": pg.DateAxisItem()})
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 1)
        self.view.ci.layout.setRowStretchFactor(2, 1)
        self.drawdown_plot.setXLink(self.curve_plot)
        self.cash_plot.setXLink(self.curve_plot)
        for plot in (self.curve_plot, self.drawdown_plot):
            plot.hideAxis("bottom")
        # Equity, drawdown and cash on scales of their own: a cash swing must not flatten the equity line.
        for plot, label in ((self.curve_plot, "equity"), (self.drawdown_plot, "drawdown %"), (self.cash_plot, "cash")):
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setLabel("left", label)
            # Dollars and percentages as written, never rescaled to "x0.001".
            plot.getAxis("left").enableAutoSIPrefix(False)
        self.equity_line = self.curve_plot.plot([], [], pen=pg.mkPen("#1d5fa8", width=2))
        self.cash_line = self.cash_plot.plot([], [], pen=pg.mkPen("#5f6368", width=1.5), stepMode=None)
        self.drawdown_line = self.drawdown_plot.plot(
            [], [], pen=pg.mkPen("#b3261e"), fillLevel=0, brush=pg.mkBrush(179, 38, 30, 60)
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        self._points: list[EquityPoint] = []
        self._drawdowns: list[float] = []
        self._peak = Decimal(0)
        self._worst = (Decimal(0), Decimal(0))

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

    def _redraw(self) -> None:
        x = np.array([p.at.timestamp() for p in self._points], dtype=np.float64)
        self.equity_line.setData(x, np.array([float(p.equity) for p in self._points]))
        self.cash_line.setData(x, np.array([float(p.cash) for p in self._points]))
        self.drawdown_line.setData(x, np.array(self._drawdowns))
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

