"""Charts follow the window's theme: plot background, axes and grid take the palette's colours and change with it."""

from __future__ import annotations

from collections.abc import Iterable

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QPalette

from app.ui.candles import ChartGrid

AXES = ("left", "right", "top", "bottom")
_RESTYLE = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)


class PlotTheme(QObject):
    """Keeps ``view``'s plots in the palette's colours: Base behind them, Text for axes, ticks and grid."""

    def __init__(self, view: pg.GraphicsLayoutWidget, plots: Iterable[pg.PlotItem], grids: Iterable[ChartGrid] = ()) -> None:
        super().__init__(view)
        self._view = view
        self._plots = tuple(plots)
        self._grids = tuple(grids)
        view.installEventFilter(self)
        self.apply()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self._view and event.type() in _RESTYLE:
            self.apply()
        return False

    def apply(self) -> None:
        if not all(shiboken6.isValid(plot) and shiboken6.isValid(plot.getAxis("left").label) for plot in self._plots):
            return  # the plots are being torn down with their window
        palette = self._view.palette()
        text = palette.color(QPalette.ColorRole.Text)
        self._view.setBackground(palette.color(QPalette.ColorRole.Base))
        for plot in self._plots:
            for name in AXES:
                axis = plot.getAxis(name)
                axis.setPen(text)
                axis.setTextPen(text)
        for grid in self._grids:
            grid.set_color(QColor(text.red(), text.green(), text.blue(), 30))
