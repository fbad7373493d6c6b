"""What the chart pane draws: bars as arrays, where they came from, and the trader's fills and working orders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from app.domain.bars import INTERVAL_LABELS
from app.domain.models import Bar, BarInterval, Fill, Order, OrderStatus, Side
from app.domain.symbol_display import describe_symbol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class BarArrays:
    """Bars as columns for drawing: start (epoch seconds), open, high, low, close, volume.

    Floats are for pixels only; prices the trader reads (the crosshair readout) come from the bars.
    """

    start: FloatArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __len__(self) -> int:
        return len(self.start)


def bar_arrays(bars: Sequence[Bar]) -> BarArrays:
    # numpy is loaded with the first chart, not at start.
    import numpy as np

    count = len(bars)
    columns = np.empty((6, count), dtype=np.float64)
    for i, bar in enumerate(bars):
        columns[:, i] = (bar.start.timestamp(), bar.open, bar.high, bar.low, bar.close, bar.volume)
    return BarArrays(*columns)


@dataclass(frozen=True, slots=True)
class ChartView:
    """One symbol's bars at one interval. ``note`` says when they are not the source's own bars."""

    symbol: str
    interval: BarInterval
    bars: tuple[Bar, ...]
    arrays: BarArrays
    source: str
    note: str = ""

    @property
    def title(self) -> str:
        return f"{describe_symbol(self.symbol)} · {INTERVAL_LABELS[self.interval]} · {self.source}"


@dataclass(frozen=True, slots=True)
class OrderLine:
    """A working order's price on the chart: its limit or its stop."""

    client_order_id: str
    side: Side
    kind: str
    price: Decimal
    quantity: Decimal

    @property
    def label(self) -> str:
        return f"{self.side.value.upper()} {self.quantity.normalize():f} {self.kind} {self.price}"


@dataclass(frozen=True, slots=True)
class ChartOverlays:
    symbol: str
    fills: tuple[Fill, ...] = ()
    orders: tuple[OrderLine, ...] = field(default=())


_WORKING = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_SUBMIT)


def order_lines(orders: Sequence[Order], symbol: str) -> tuple[OrderLine, ...]:
    """A line per working limit and per untriggered stop of ``symbol``'s orders."""
    lines: list[OrderLine] = []
    for order in orders:
        if order.symbol != symbol or order.status not in _WORKING:
            continue
        request = order.request
        remaining = order.remaining_quantity
        if request.limit_price is not None:
            lines.append(OrderLine(order.client_order_id, request.side, "limit", request.limit_price, remaining))
        if request.stop_price is not None and not order.stop_triggered:
            lines.append(OrderLine(order.client_order_id, request.side, "stop", request.stop_price, remaining))
    return tuple(lines)
