"""The price chart pane: candles with volume, a crosshair with an OHLC readout, and the trader's fills and orders."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.domain.bars import INTERVAL_LABELS
from app.domain.models import Bar, BarInterval, Side
from app.domain.symbol_display import describe_symbol, symbol_tooltip
from app.ui.formatting import fmt_price, fmt_qty

if TYPE_CHECKING:
    from app.controller.chart_views import BarArrays, ChartOverlays, ChartView
    from app.ui.chart_plot import ChartPlot

#: Bars in view when a chart opens; the trader pans and zooms from there.
INITIAL_BARS = 150


class ChartPane(QWidget):
    interval_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chart")
        self.title = QLabel("Choose a symbol in the watchlist or the ticket", objectName="chart.title")
        self.title.setStyleSheet("font-weight: bold;")
        self.interval = QComboBox(objectName="chart.interval")
        for interval, label in INTERVAL_LABELS.items():
            self.interval.addItem(label, interval.value)
        self.interval.setCurrentIndex(self.interval.findData(BarInterval.FIVE_MINUTES.value))
        self.note = QLabel(objectName="chart.source")
        self.note.setStyleSheet("color: #8a5a00;")
        self.note.setWordWrap(True)
        self.readout = QLabel(objectName="chart.readout")
        self.readout.setStyleSheet("font-family: monospace;")

        # The plot (pyqtgraph, numpy) is built when the pane is first shown or given bars to draw.
        self._plot: ChartPlot | None = None
        self.order_lines: list[Any] = []

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(QLabel("Interval"))
        top.addWidget(self.interval)
        self._layout = layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.readout)
        self.note.hide()

        self._chart: ChartView | None = None
        self._bars: list[Bar] = []
        self._overlays: ChartOverlays | None = None
        self.interval.currentIndexChanged.connect(lambda _i: self.interval_changed.emit(self.interval.currentData()))

    # ---- the plot, built on first use --------------------------------------------------------

    @property
    def plot(self) -> ChartPlot:
        if self._plot is None:
            from app.ui.chart_plot import ChartPlot

            self._plot = ChartPlot()
            self._layout.insertWidget(2, self._plot.view, 1)
            self._plot.view.scene().sigMouseMoved.connect(self._mouse_moved)
        return self._plot

    @property
    def candles(self) -> Any:
        return self.plot.candles

    @property
    def axis(self) -> Any:
        return self.plot.axis

    @property
    def fill_markers(self) -> Any:
        return self.plot.fill_markers

    @property
    def view(self) -> Any:
        return self.plot.view

    @property
    def price_plot(self) -> Any:
        return self.plot.price_plot

    @property
    def volume_plot(self) -> Any:
        return self.plot.volume_plot

    # ---- showing --------------------------------------------------------------------------------

    @Slot(object)
    def show_chart(self, chart: ChartView) -> None:
        self._chart = chart
        self._bars = list(chart.bars)
        self.title.setText(chart.title)
        self.title.setToolTip(symbol_tooltip(chart.symbol))
        self.note.setText(chart.note)
        self.note.setVisible(bool(chart.note))
        index = self.interval.findData(chart.interval.value)
        if index != self.interval.currentIndex():
            self.interval.blockSignals(True)
            self.interval.setCurrentIndex(index)
            self.interval.blockSignals(False)
        self._draw(chart.arrays)
        count = len(chart.arrays)
        for plot in (self.plot.price_plot, self.plot.volume_plot):
            plot.getViewBox().setLimits(xMin=-5, xMax=max(count + 20, 30))
        self.plot.price_plot.setXRange(max(-0.5, count - INITIAL_BARS), count + 1, padding=0)
        self.plot.price_plot.enableAutoRange(axis="y")
        self.plot.volume_plot.enableAutoRange(axis="y")
        if self._overlays is not None and self._overlays.symbol == chart.symbol:
            self.show_overlays(self._overlays)

    def _draw(self, arrays: BarArrays) -> None:
        self.axis.starts = arrays.start
        self.axis.daily = self._chart is not None and self._chart.interval is BarInterval.DAY
        self.candles.set_bars(arrays)
        self.plot.volume.set_bars(arrays)

    @Slot(object)
    def update_bar(self, bar: Bar) -> None:
        """A quote moved the newest bar or opened the next: redraw without resetting the view."""
        if self._chart is None or bar.symbol != self._chart.symbol or bar.interval is not self._chart.interval:
            return
        appended = False
        if self._bars and self._bars[-1].start == bar.start:
            self._bars[-1] = bar
        elif not self._bars or self._bars[-1].start < bar.start:
            self._bars.append(bar)
            appended = True
        else:
            return
        import numpy as np

        from app.controller.chart_views import BarArrays, bar_arrays

        arrays = self.candles.arrays
        tail = bar_arrays([bar])
        columns = ("start", "open", "high", "low", "close", "volume")
        if arrays is not None and len(arrays) == len(self._bars):
            for column in columns:
                getattr(arrays, column)[-1] = getattr(tail, column)[0]
        elif arrays is not None and len(arrays) + 1 == len(self._bars):
            arrays = BarArrays(*(np.append(getattr(arrays, c), getattr(tail, c)) for c in columns))
        else:
            arrays = bar_arrays(self._bars)
        self._draw(arrays)
        if appended and self._overlays is not None:
            # A fill placed after the last bar belongs to the new one.
            self.show_overlays(self._overlays)

    @Slot(object)
    def show_overlays(self, overlays: ChartOverlays) -> None:
        self._overlays = overlays
        if self._chart is None or overlays.symbol != self._chart.symbol:
            return
        import numpy as np
        import pyqtgraph as pg

        starts = self.axis.starts
        spots = []
        for fill in overlays.fills:
            index = int(np.searchsorted(starts, fill.filled_at.timestamp(), side="right")) - 1
            if index < 0:
                continue
            buy = fill.side is Side.BUY
            spots.append(
                {
                    "pos": (index, float(fill.price)),
                    "symbol": "t1" if buy else "t",
                    "brush": pg.mkBrush("#1d5fa8" if buy else "#b3261e"),
                    "data": fill,
                }
            )
        self.fill_markers.setData(spots)
        for line in self.order_lines:
            self.plot.price_plot.removeItem(line)
        self.order_lines = []
        for order in overlays.orders:
            color = QColor("#1d5fa8" if order.side is Side.BUY else "#b3261e")
            line = pg.InfiniteLine(
                pos=float(order.price),
                angle=0,
                movable=False,
                pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine if order.kind == "stop" else Qt.PenStyle.SolidLine),
                label=order.label,
                labelOpts={"position": 0.08, "color": color, "fill": (255, 255, 255, 200)},
            )
            line.order = order  # type: ignore[attr-defined]
            self.plot.price_plot.addItem(line, ignoreBounds=True)
            self.order_lines.append(line)

    # ---- crosshair ------------------------------------------------------------------------------

    def _mouse_moved(self, position: QPointF) -> None:
        box = self.plot.price_plot.getViewBox()
        if not self._bars or not self.plot.price_plot.sceneBoundingRect().contains(position):
            return
        point = box.mapSceneToView(position)
        index = int(round(point.x()))
        if not 0 <= index < len(self._bars):
            return
        for line in (self.plot.cross_x, self.plot.volume_cross):
            line.setPos(index)
            line.show()
        self.plot.cross_y.setPos(point.y())
        self.plot.cross_y.show()
        self.readout.setText(self.readout_text(index))

    def readout_text(self, index: int) -> str:
        bar = self._bars[index]
        when = bar.start.astimezone().strftime("%Y-%m-%d" if bar.interval is BarInterval.DAY else "%Y-%m-%d %H:%M")
        return (
            f"{describe_symbol(bar.symbol)}  {when}  O {fmt_price(bar.open)}  H {fmt_price(bar.high)}  "
            f"L {fmt_price(bar.low)}  C {fmt_price(bar.close)}  V {fmt_qty(bar.volume)}"
        )

    def fill_points(self) -> list[tuple[float, Decimal]]:
        """(bar index, price) of every fill marker, as drawn."""
        return [(spot.pos().x(), spot.data().price) for spot in self.fill_markers.points()]

    def order_prices(self) -> list[tuple[str, Decimal]]:
        return [(line.order.kind, line.order.price) for line in self.order_lines]  # type: ignore[attr-defined]
