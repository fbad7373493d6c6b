"""The chart's drawing items draw what they drew bar by bar: candles and volume, grid lines at the major ticks, time labels."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen

from app.controller.chart_views import BarArrays
from app.ui import candles
from app.ui.chart_plot import ChartPlot


def walk(seed: int, count: int) -> BarArrays:
    rng = np.random.default_rng(seed)
    closes = 100 + np.cumsum(rng.normal(0, 0.4, count))
    opens = np.concatenate(([closes[0]], closes[:-1]))
    # Some bars open and close at the same price: a flat body is drawn as a line.
    flat = rng.random(count) < 0.1
    opens[flat] = closes[flat]
    highs = np.maximum(opens, closes) + np.abs(rng.normal(0, 0.2, count))
    lows = np.minimum(opens, closes) - np.abs(rng.normal(0, 0.2, count))
    starts = 1_700_000_000 + 60.0 * np.arange(count)
    return BarArrays(starts, opens, highs, lows, closes, rng.integers(1, 10_000, count).astype(np.float64))


def candles_bar_by_bar(item: candles.CandleItem, painter: QPainter, *_args: object) -> None:
    """How candles were drawn before: a QLineF and a QRectF object per candle."""
    window = item._visible()
    if window is None or item.arrays is None:
        return
    x, o, h, l, c, _v = candles.merged(item.arrays, *window)  # noqa: E741
    width = 0.35 * (x[1] - x[0] if len(x) > 1 else 1.0)
    rising = c >= o
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    for mask, color in ((rising, candles.UP), (~rising, candles.DOWN)):
        pen = QPen(color)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(QBrush(color))
        xs, hs, ls = x[mask].tolist(), h[mask].tolist(), l[mask].tolist()
        painter.drawLines([QLineF(xi, lo, xi, hi) for xi, lo, hi in zip(xs, ls, hs, strict=True)])
        bottoms, heights = np.minimum(o[mask], c[mask]).tolist(), np.abs(c[mask] - o[mask]).tolist()
        painter.drawRects([QRectF(xi - width, b, 2 * width, hh) for xi, b, hh in zip(xs, bottoms, heights, strict=True)])


def volume_bar_by_bar(item: candles.VolumeItem, painter: QPainter, *_args: object) -> None:
    window = item._visible()
    if window is None or item.arrays is None:
        return
    x, _o, _h, _l, _c, v = candles.merged(item.arrays, *window)
    width = candles.volume_half_width(x)
    painter.setPen(QPen(QColor(0, 0, 0, 0)))
    painter.setBrush(QBrush(candles.VOLUME))
    painter.drawRects([QRectF(xi - width, 0.0, 2 * width, vi) for xi, vi in zip(x.tolist(), v.tolist(), strict=True)])


@pytest.fixture(scope="module")
def chart(qapp) -> Iterator[ChartPlot]:  # type: ignore[no-untyped-def]
    plot = ChartPlot()
    plot.view.resize(700, 400)
    plot.view.show()
    try:
        yield plot
    finally:
        plot.view.close()


def painted(item: candles.CandleItem | candles.VolumeItem, paint: Callable[..., None]) -> QImage:
    """The item painted by ``paint`` onto an image of the chart's window, where the chart would put it."""
    view = item.scene().views()[0]
    image = QImage(view.viewport().size(), QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.setTransform(item.deviceTransform(view.viewportTransform()))
    paint(item, painter)
    painter.end()
    return image


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(1, 3_000),
    window=st.tuples(st.floats(0, 1), st.floats(0.001, 1)),
)
def test_candles_and_volume_look_as_drawn_bar_by_bar(chart: ChartPlot, seed: int, count: int, window: tuple[float, float]) -> None:
    arrays = walk(seed, count)
    chart.candles.set_bars(arrays)
    chart.volume.set_bars(arrays)
    # From a few bars wide to more bars than pixel columns (merged per column).
    left = window[0] * (count - 1)
    shown = (left - 0.5, left + max(window[1] * count, 3))
    chart.price_plot.setXRange(*shown, padding=0)
    for plot, item in ((chart.price_plot, chart.candles), (chart.volume_plot, chart.volume)):
        plot.setYRange(*item.dataBounds(1, orthoRange=shown), padding=0.05)
    chart.view.grab()
    for item, bar_by_bar in ((chart.candles, candles_bar_by_bar), (chart.volume, volume_bar_by_bar)):
        assert painted(item, type(item).paint) == painted(item, bar_by_bar)
    # The comparison means something: the candles in view left their mark (a wick is never thinner than
    # a pixel; a volume bar can be, when the view reaches far past the last bar).
    assert painted(chart.candles, candles.CandleItem.paint) != painted(chart.candles, lambda *_args: None)


@given(
    low=st.floats(-1e6, 1e6),
    width=st.floats(1e-3, 1e6),
    size=st.floats(20, 4000),
    axis=st.sampled_from(["right", "bottom"]),
)
def test_the_grid_lines_sit_at_the_axis_major_ticks(chart: ChartPlot, low: float, width: float, size: float, axis: str) -> None:
    item = chart.price_plot.getAxis(axis)
    expected = item.tickValues(low, low + width, size)[0][1]
    assert candles.major_ticks(item, low, low + width, size) == expected
    assert candles.major_ticks(item, low + width, low, size) == expected


def formatted(starts: np.ndarray, values: list[float], daily: bool) -> list[str]:
    """Each tick's label worked out afresh: the bar's start in local time, or nothing past the bars."""
    labels = []
    for value in values:
        index = int(round(value))
        if 0 <= index < len(starts):
            moment = datetime.fromtimestamp(starts[index], UTC).astimezone()
            labels.append(moment.strftime("%d %b %y" if daily else "%d %b %H:%M"))
        else:
            labels.append("")
    return labels


@settings(max_examples=40)
@given(
    first=st.integers(1_500_000_000, 1_900_000_000),
    count=st.integers(1, 5_000),
    zooms=st.lists(st.tuples(st.floats(-50, 5_050), st.floats(3, 6_000), st.booleans()), min_size=1, max_size=6),
    later_start=st.integers(-86_400 * 400, 86_400 * 400),
)
def test_time_labels_stay_right_through_zooms_new_bars_and_interval_changes(
    chart: ChartPlot, first: int, count: int, zooms: list[tuple[float, float, bool]], later_start: int
) -> None:
    axis = chart.axis
    for starts in (first + 60.0 * np.arange(count), first + later_start + 300.0 * np.arange(count + 7)):
        axis.starts = starts
        for left, width, daily in zooms:
            axis.daily = daily
            axis.setRange(left, left + width)
            for spacing, values in axis.tickValues(left, left + width, 1100):
                assert axis.tickStrings(values, 1.0, spacing) == formatted(starts, values, daily)


def test_a_pan_across_a_long_history_keeps_a_bounded_number_of_labels_and_each_right(chart: ChartPlot) -> None:
    from app.ui.chart_plot import LABELS_KEPT

    axis = chart.axis
    starts = 1_700_000_000 + 60.0 * np.arange(3 * LABELS_KEPT)
    axis.starts = starts
    axis.daily = False
    for first in range(0, len(starts), 50):
        values = [float(i) for i in range(first, min(first + 50, len(starts)))]
        assert axis.tickStrings(values, 1.0, 1.0) == formatted(starts, values, False)
        assert len(axis._labels) <= LABELS_KEPT


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(1, 5_000),
    window=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    columns=st.integers(1, 2_000),
)
def test_a_merged_column_is_the_envelope_of_its_bars_and_fits_the_single_bar_ranges(
    seed: int, count: int, window: tuple[float, float], columns: int
) -> None:
    arrays = walk(seed, count)
    first, last = sorted(int(w * (count - 1)) for w in window)
    x, o, h, l, c, v = candles.merged(arrays, first, last, columns)  # noqa: E741
    assert len(x) <= max(columns, 1)
    step = int(np.ceil((last - first + 1) / columns))
    for column in range(len(x)):
        bars = slice(first + column * step, min(first + (column + 1) * step, last + 1))
        assert o[column] == arrays.open[bars][0] and c[column] == arrays.close[bars][-1]
        assert h[column] == arrays.high[bars].max() and l[column] == arrays.low[bars].min()
        # The tallest bar's volume, not the sum: the volume axis is ranged on single bars (dataBounds).
        assert v[column] == arrays.volume[bars].max()
    assert v.max() == arrays.volume[first : last + 1].max()
    assert h.max() == arrays.high[first : last + 1].max() and l.min() == arrays.low[first : last + 1].min()
