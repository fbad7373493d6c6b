"""The ticket's estimated cost line: quantity x price x multiplier at the quote, updated as the ticket is filled in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QWidget

from app.controller.quote_views import QuoteView
from app.domain.models import Side
from app.domain.ticket_estimate import estimate_cost
from app.ui.formatting import fmt_money, fmt_price, fmt_qty

if TYPE_CHECKING:
    from app.ui.order_ticket import OrderTicket


class EstimateLine(QLabel):
    """Follows the ticket's fields and its quote; says "Est. cost $1,896.00 (10 × 189.60 ask)"."""

    def __init__(self, ticket: OrderTicket, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ticket.estimate")
        self.setWordWrap(True)
        self._ticket = ticket
        self._quote: QuoteView | None = None

    @Slot(object)
    def show_quote(self, view: QuoteView | None) -> None:
        self._quote = view
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        values = self._ticket.values()
        estimate = estimate_cost(
            symbol=str(values["symbol"]),
            side=str(values["side"]),
            quantity=str(values["quantity"]),
            order_type=str(values["order_type"]),
            limit_price=str(values["limit_price"]),
            stop_price=str(values["stop_price"]),
            quote=self._quote.quote if self._quote else None,
        )
        if estimate is None:
            self.setText("")
            return
        what = "Est. cost" if estimate.side is Side.BUY else "Est. proceeds"
        per = f" × {fmt_qty(estimate.multiplier)}" if estimate.multiplier != 1 else ""
        self.setText(
            f"{what} {fmt_money(estimate.amount)} ({fmt_qty(estimate.quantity)} × {fmt_price(estimate.price)} "
            f"{estimate.basis}{per}), before commission"
        )
