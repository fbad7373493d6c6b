"""The equity curve as the equity pane draws it: points, drawdown per point, and the deepest drawdown."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.equity_curve import EquityPoint, drawdowns, max_drawdown


@dataclass(frozen=True, slots=True)
class EquityCurveView:
    points: tuple[EquityPoint, ...]
    drawdowns: tuple[Decimal, ...]
    max_drawdown: Decimal
    max_drawdown_amount: Decimal


def curve_view(points: list[EquityPoint]) -> EquityCurveView:
    worst, amount = max_drawdown(points)
    return EquityCurveView(tuple(points), tuple(drawdowns(points)), worst, amount)
