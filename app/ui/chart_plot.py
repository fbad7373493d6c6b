"""The chart's drawing surface in pyqtgraph: price and volume plots, candles, fill markers and the crosshair lines.

Kept apart from `chart_pane` so pyqtgraph and numpy are imported when a chart is first shown or drawn,
not when the main window is built.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from app.ui.candles import CandleItem, ChartGrid, VolumeItem
from app.ui.plot_theme import PlotTheme


#: Labels kept by the time axis; past this many (a long pan, many symbols) they are dropped and made again.
LABELS_KEPT = 2_000


class TimeAxis(pg.AxisItem):
    """Bars sit at x = 0, 1, 2 … (no gaps for nights and weekends); ticks show each bar's time.

    Each label is formatted once per bar start and kept: a drag or a zoom asks for the same few dozen
    labels frame after frame. Keyed by the start itself, a label stays right when bars are appended
    or the chart changes symbol; only the interval (days drop the time of day) changes the format. At most
    ``LABELS_KEPT`` are kept, so a long pan across years of bars does not grow it without end.
    """

    def __init__(self) -> None:
        super().__init__(orientation="bottom")
        self.starts: np.ndarray = np.empty(0)
        self._daily = False
        self._labels: dict[float, str] = {}

    @property
    def daily(self) -> bool:
        return self._daily

    @daily.setter
    def daily(self, daily: bool) -> None:
        if daily != self._daily:
            self._daily = daily
            self._labels.clear()

    def bar_label(self, index: int) -> str:
        """The tick label of bar ``index`` (its start in the trader's time zone), or "" past either end."""
        if not 0 <= index < len(self.starts):
            return ""
        start = float(self.starts[index])
        label = self._labels.get(start)
        if label is None:
            moment = datetime.fromtimestamp(start, UTC).astimezone()
            if len(self._labels) >= LABELS_KEPT:
                self._labels.clear()
            label = self._labels[start] = moment.strftime("%d %b %y" if self._daily else "%d %b %H:%M")
        return label

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802 - pyqtgraph's name
        return [self.bar_label(int(round(value))) for value in values]


def crosshair_line(angle: int) -> pg.InfiniteLine:
    return pg.InfiniteLine(angle=angle, movable=False, pen=pg.mkPen((90, 90, 90), style=Qt.PenStyle.DashLine))


class ChartPlot:
    """The widgets and items of one chart: `view` (``chart.view``), candles, volume, fills and crosshair."""

    def __init__(self) -> None:
        self.axis = TimeAxis()
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("chart.view")
        self.price_plot = self.view.addPlot(row=0, col=0, axisItems={"bottom": self.axis})
        self.volume_plot = self.view.addPlot(row=1, col=0)
        self.view.ci.layout.setRowStretchFactor(0, 4)
        self.view.ci.layout.setRowStretchFactor(1, 1)
        self.volume_plot.setXLink(self.price_plot)
        self.volume_plot.hideAxis("bottom")
        self.grids = []
        for plot in (self.price_plot, self.volume_plot):
            self.grids.append(ChartGrid(plot))
            plot.addItem(self.grids[-1], ignoreBounds=True)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.showAxis("right")
            plot.hideAxis("left")
            # The axes carry no unit label, so an SI prefix never shows; left on, every range step of
            # every axis (the hidden ones too) rewrites the label's HTML and resizes the axis.
            for name in ("left", "right", "top", "bottom"):
                plot.getAxis(name).enableAutoSIPrefix(False)
        self.theme = PlotTheme(self.view, (self.price_plot, self.volume_plot), self.grids)
        self.price_plot.getViewBox().setAutoVisible(y=True)
        self.volume_plot.getViewBox().setAutoVisible(y=True)
        self.volume_plot.setMouseEnabled(x=True, y=False)
        self.candles = CandleItem()
        self.volume = VolumeItem()
        self.price_plot.addItem(self.candles)
        self.volume_plot.addItem(self.volume)
        self.fill_markers = pg.ScatterPlotItem(size=13, pen=pg.mkPen("k", width=0.8))
        self.fill_markers.setZValue(10)
        self.price_plot.addItem(self.fill_markers)
        self.cross_x = crosshair_line(90)
        self.cross_y = crosshair_line(0)
        self.volume_cross = crosshair_line(90)
        for plot, line in ((self.price_plot, self.cross_x), (self.price_plot, self.cross_y), (self.volume_plot, self.volume_cross)):
            plot.addItem(line, ignoreBounds=True)
            line.hide()
