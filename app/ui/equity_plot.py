"""The equity curve's drawing surface in pyqtgraph: equity, drawdown and cash plots sharing one time axis.

Kept apart from `equity_pane` so pyqtgraph and numpy are imported when the curve is first shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg

from app.ui.plot_theme import PlotTheme


class EquityPlot:
    """`view` (``equity.view``) with equity (`equity_line`), drawdown % (`drawdown_line`) and cash (`cash_line`)."""

    def __init__(self) -> None:
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("equity.view")
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
        self.theme = PlotTheme(self.view, (self.curve_plot, self.drawdown_plot, self.cash_plot))
        self.equity_line = self.curve_plot.plot([], [], pen=pg.mkPen("#1d5fa8", width=2))
        self.cash_line = self.cash_plot.plot([], [], pen=pg.mkPen("#5f6368", width=1.5), stepMode=None)
        self.drawdown_line = self.drawdown_plot.plot(
            [], [], pen=pg.mkPen("#b3261e"), fillLevel=0, brush=pg.mkBrush(179, 38, 30, 60)
        )

    def draw(
        self, times: Sequence[float], equity: Sequence[float], cash: Sequence[float] | None, drawdowns: Sequence[float]
    ) -> None:
        """``cash`` None hides the cash plot (the source gives equity only); NaN in it leaves a gap."""
        x = np.array(times, dtype=np.float64)
        self.equity_line.setData(x, np.array(equity, dtype=np.float64))
        self.drawdown_line.setData(x, np.array(drawdowns, dtype=np.float64))
        self._show_cash(cash is not None)
        if cash is None:
            self.cash_line.setData([], [])
        else:
            self.cash_line.setData(x, np.array(cash, dtype=np.float64), connect="finite")

    def _show_cash(self, shown: bool) -> None:
        """The cash plot leaves the layout when hidden, so equity and drawdown take its room."""
        present = self.cash_plot in self.view.ci.items
        if shown and not present:
            self.view.addItem(self.cash_plot, row=2, col=0)
            self.cash_plot.show()
        elif not shown and present:
            self.view.removeItem(self.cash_plot)
            self.cash_plot.hide()
        self.drawdown_plot.showAxis("bottom", not shown)
