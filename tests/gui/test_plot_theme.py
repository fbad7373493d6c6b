"""The chart and the equity curve follow the theme: a dark window gets dark plots, and back again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QPalette

from app.ui.chart_plot import ChartPlot
from app.ui.equity_plot import EquityPlot
from app.ui.theme import ThemeController


@pytest.fixture
def themes(qapp) -> Iterator[ThemeController]:  # type: ignore[no-untyped-def]
    controller = ThemeController(qapp)
    try:
        yield controller
    finally:
        controller.apply("system")


def _background(view) -> QColor:  # type: ignore[no-untyped-def]
    return view.backgroundBrush().color()


def test_plots_take_the_themes_colours_when_it_changes(qtbot, qapp, themes: ThemeController) -> None:  # type: ignore[no-untyped-def]
    chart, equity = ChartPlot(), EquityPlot()
    for view in (chart.view, equity.view):
        qtbot.addWidget(view)
        view.show()
    themes.apply("light")
    assert _background(chart.view).lightness() > 200 and _background(equity.view).lightness() > 200

    themes.apply("dark")
    dark = qapp.palette()
    qtbot.waitUntil(lambda: _background(chart.view) == dark.color(QPalette.ColorRole.Base), timeout=5000)
    assert _background(equity.view) == dark.color(QPalette.ColorRole.Base)
    text = dark.color(QPalette.ColorRole.Text)
    for plot in (chart.price_plot, chart.volume_plot, equity.curve_plot, equity.cash_plot):
        assert plot.getAxis("right" if plot in (chart.price_plot, chart.volume_plot) else "left").textPen().color() == text
    assert all(grid._pen.color().rgb() == text.rgb() for grid in chart.grids)

    themes.apply("light")
    qtbot.waitUntil(lambda: _background(chart.view).lightness() > 200, timeout=5000)
    assert _background(equity.view).lightness() > 200
