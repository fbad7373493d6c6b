"""pyqtgraph items for long bar series: candles and volume drawn only where visible, merged to one per pixel.

A chart of 50,000 bars would cost a paint of 50,000 rectangles. These items draw only the bars in
the visible x range and, when there are more bars than pixel columns, merge neighbours into one
candle (first open, highest high, lowest low, last close) and one volume bar (the tallest): each paint
costs what the screen can show, not what the history holds. A merged column is the envelope of the bars
it stands for, what drawing every bar into that pixel column would show, so the volume plot keeps the
scale of single bars that its axis is ranged on.
"""

from __future__ import annotations

from math import ceil
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QBrush, QColor, QPainter, QPen

from app.controller.chart_views import BarArrays

if TYPE_CHECKING:
    from app.controller.chart_views import FloatArray

UP = QColor("#2e7d4f")
DOWN = QColor("#c0392b")
VOLUME = QColor(120, 130, 150, 150)


def merged(arrays: BarArrays, first: int, last: int, columns: int) -> tuple[FloatArray, ...]:
    """Bars ``first..last`` (inclusive) as (x, open, high, low, close, volume), merged to at most ``columns``."""
    x = np.arange(first, last + 1, dtype=np.float64)
    o, h, l, c, v = (a[first : last + 1] for a in (arrays.open, arrays.high, arrays.low, arrays.close, arrays.volume))  # noqa: E741
    count = last - first + 1
    step = max(1, int(np.ceil(count / max(columns, 1))))
    if step == 1:
        return x, o, h, l, c, v
    edges = np.arange(0, count, step)
    tails = np.minimum(edges + step - 1, count - 1)
    return (
        x[edges] + (step - 1) / 2,
        o[edges],
        np.maximum.reduceat(h, edges),
        np.minimum.reduceat(l, edges),
        c[tails],
        np.maximum.reduceat(v, edges),
    )


class Primitives:
    """Lines or rectangles written column by column into one numpy block and handed to QPainter in one call.

    A zoomed-out chart paints a wick and a body for every pixel column; building a QLineF and a QRectF
    object per candle cost more than painting them. pyqtgraph's own bar and curve items draw through
    the same array (``PrimitiveArray``), which lends QPainter the numpy memory directly.
    """

    def __init__(self, kind: type[QLineF] | type[QRectF]) -> None:
        self._array = PrimitiveArray(kind, 4)
        self._lines = kind is QLineF

    def draw(self, painter: QPainter, *columns: FloatArray) -> None:
        """Draw one primitive per row of ``columns`` (x1, y1, x2, y2 for lines; x, y, width, height for rectangles)."""
        count = len(columns[0])
        if not count:
            return
        self._array.resize(count)
        memory = self._array.ndarray()
        for index, column in enumerate(columns):
            memory[:, index] = column
        args = self._array.drawargs()
        if self._lines:
            painter.drawLines(*args)
        else:
            painter.drawRects(*args)


class _WindowedItem(pg.GraphicsObject):
    """Bars on an index x axis (bar i at x = i), painted for the visible range only."""

    def __init__(self) -> None:
        super().__init__()
        self._arrays: BarArrays | None = None
        self._bounds = QRectF()
        self._lines = Primitives(QLineF)
        self._rects = Primitives(QRectF)

    def set_bars(self, arrays: BarArrays) -> None:
        self.prepareGeometryChange()
        self._arrays = arrays
        self._bounds = self._compute_bounds(arrays) if len(arrays) else QRectF()
        self.update()

    def _compute_bounds(self, arrays: BarArrays) -> QRectF:
        raise NotImplementedError

    @property
    def arrays(self) -> BarArrays | None:
        return self._arrays

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return QRectF(self._bounds)

    def _range_columns(self) -> tuple[FloatArray, FloatArray]:
        raise NotImplementedError

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: tuple[float, float] | None = None) -> tuple[float, float] | None:  # noqa: N802, N803 - pyqtgraph's names
        """What pyqtgraph's auto-range reads: x over every bar, y over the bars inside ``orthoRange``."""
        arrays = self._arrays
        if arrays is None or not len(arrays):
            return None
        if ax == 0:
            return (-0.5, len(arrays) - 0.5)
        first, last = 0, len(arrays) - 1
        if orthoRange is not None:
            first = max(0, int(np.floor(orthoRange[0])))
            last = min(len(arrays) - 1, int(np.ceil(orthoRange[1])))
            if first > last:
                return None
        lows, highs = self._range_columns()
        return (float(np.min(lows[first : last + 1])), float(np.max(highs[first : last + 1])))

    def _visible(self) -> tuple[int, int, int] | None:
        arrays = self._arrays
        view = self.getViewBox()
        if arrays is None or not len(arrays) or view is None:
            return None
        (left, right), _ = view.viewRange()
        first = max(0, int(np.floor(left)))
        last = min(len(arrays) - 1, int(np.ceil(right)))
        if first > last:
            return None
        return first, last, max(1, int(view.width()))


class CandleItem(_WindowedItem):
    def _range_columns(self) -> tuple[FloatArray, FloatArray]:
        assert self._arrays is not None
        return self._arrays.low, self._arrays.high

    def _compute_bounds(self, arrays: BarArrays) -> QRectF:
        low, high = float(np.min(arrays.low)), float(np.max(arrays.high))
        return QRectF(-0.5, low, len(arrays), max(high - low, 1e-9))

    def paint(self, painter: QPainter, *_args: object) -> None:
        window = self._visible()
        if window is None or self._arrays is None:
            return
        x, o, h, l, c, _v = merged(self._arrays, *window)  # noqa: E741
        width = 0.35 * (x[1] - x[0] if len(x) > 1 else 1.0)
        rising = c >= o
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for mask, color in ((rising, UP), (~rising, DOWN)):
            pen = QPen(color)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(QBrush(color))
            xs = x[mask]
            self._lines.draw(painter, xs, l[mask], xs, h[mask])
            self._rects.draw(painter, xs - width, np.minimum(o[mask], c[mask]), np.full(len(xs), 2 * width), np.abs(c[mask] - o[mask]))


def volume_half_width(x: FloatArray) -> float:
    """Half a volume bar's width: single bars keep a gap between them; merged columns (more bars than pixel
    columns) touch, since a bar narrower than its pixel column would be left out of some columns when filled."""
    spacing = float(x[1] - x[0]) if len(x) > 1 else 1.0
    return (0.5 if spacing > 1 else 0.4) * spacing


class VolumeItem(_WindowedItem):
    def _range_columns(self) -> tuple[FloatArray, FloatArray]:
        assert self._arrays is not None
        return np.zeros_like(self._arrays.volume), self._arrays.volume

    def _compute_bounds(self, arrays: BarArrays) -> QRectF:
        return QRectF(-0.5, 0.0, len(arrays), max(float(np.max(arrays.volume)), 1.0))

    def paint(self, painter: QPainter, *_args: object) -> None:
        window = self._visible()
        if window is None or self._arrays is None:
            return
        x, _o, _h, _l, _c, v = merged(self._arrays, *window)
        width = volume_half_width(x)
        painter.setPen(QPen(QColor(0, 0, 0, 0)))
        painter.setBrush(QBrush(VOLUME))
        self._rects.draw(painter, x - width, np.zeros(len(x)), np.full(len(x), 2 * width), v)


def major_ticks(axis: pg.AxisItem, low: float, high: float, size: float) -> list[float]:
    """The values ``axis`` puts its major (labelled) ticks at for the range ``low..high`` over ``size`` pixels.

    The same values as the first level of ``AxisItem.tickValues``, without the work that method does to
    drop minor ticks hiding under major ones, which the grid does not draw.
    """
    low, high = sorted((low, high))
    levels = axis.tickSpacing(low * axis.scale, high * axis.scale, size)
    if not levels:
        return []
    spacing, offset = levels[0]
    start = (ceil((low * axis.scale - offset) / spacing) * spacing) + offset
    count = int((high * axis.scale - start) / spacing) + 1
    return ((np.arange(count) * spacing + start) / axis.scale).tolist()


class ChartGrid(pg.GraphicsObject):
    """Light lines at the axes' major ticks, drawn in one pass behind the candles.

    pyqtgraph's own axis grid (``showGrid``) repaints each axis's picture over the whole plot and cost
    most of a pan frame (see benchmarks #8); this draws the same major lines with one ``drawLines``.
    """

    def __init__(self, plot: pg.PlotItem, vertical_axis: str = "right") -> None:
        super().__init__()
        self._plot = plot
        self._vertical_axis = vertical_axis
        self._pen = QPen(QColor(0, 0, 0, 30))
        self._pen.setCosmetic(True)
        self.setZValue(-10)
        plot.getViewBox().sigRangeChanged.connect(lambda *_args: self.prepareGeometryChange())

    def set_color(self, color: QColor) -> None:
        """The lines' colour (the theme's text colour, faint)."""
        self._pen.setColor(color)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._plot.getViewBox().viewRect()

    def paint(self, painter: QPainter, *_args: object) -> None:
        box = self._plot.getViewBox()
        view = box.viewRect()
        lines: list[QLineF] = []
        for name, horizontal in ((self._vertical_axis, True), ("bottom", False)):
            low, high = sorted((view.top(), view.bottom()) if horizontal else (view.left(), view.right()))
            for value in major_ticks(self._plot.getAxis(name), low, high, box.height() if horizontal else box.width()):
                if horizontal:
                    lines.append(QLineF(view.left(), value, view.right(), value))
                else:
                    lines.append(QLineF(value, view.top(), value, view.bottom()))
        painter.setPen(self._pen)
        painter.drawLines(lines)
