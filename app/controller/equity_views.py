"""The equity curve as the equity pane draws it: whose account, from what, points, drawdown per point, the deepest drawdown."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.equity_curve import EquityPoint, drawdowns, max_drawdown

PAPER_ACCOUNT = "Paper account"
PAPER_SOURCE = "end of each session from the journal, during the session from the marks"


@dataclass(frozen=True, slots=True)
class EquityCurveView:
    points: tuple[EquityPoint, ...]
    drawdowns: tuple[Decimal, ...]
    max_drawdown: Decimal
    max_drawdown_amount: Decimal
    #: Whose curve this is: "Paper account", "Alpaca live account …TB01".
    account: str = PAPER_ACCOUNT
    #: Where its points come from, said under the curve.
    source: str = PAPER_SOURCE
    #: The highest equity so far, so one more point's drawdown needs no rescan.
    peak: Decimal = Decimal(0)


def curve_view(points: list[EquityPoint], *, account: str = PAPER_ACCOUNT, source: str = PAPER_SOURCE) -> EquityCurveView:
    worst, amount = max_drawdown(points)
    peak = max((p.equity for p in points), default=Decimal(0))
    return EquityCurveView(tuple(points), tuple(drawdowns(points)), worst, amount, account, source, peak)


def with_point(view: EquityCurveView, point: EquityPoint) -> EquityCurveView:
    """The curve with one more point, its drawdown measured from the running peak."""
    peak = max(view.peak, point.equity) if view.points else point.equity
    fall = (point.equity - peak) / peak if peak > 0 else Decimal(0)
    worst, amount = view.max_drawdown, view.max_drawdown_amount
    if fall < worst:
        worst, amount = fall, point.equity - peak
    return EquityCurveView(
        (*view.points, point), (*view.drawdowns, fall), worst, amount, view.account, view.source, peak
    )
