"""The ticket's quote line: bid x ask (click one to use it as the limit price), last, time and source."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QWidget

from app.controller.quote_views import QuoteView
from app.ui.formatting import fmt_price, fmt_qty

STALE_STYLE = "color: #8a8a8a;"
SIDE_STYLE = "QPushButton {{ text-align: left; padding: 2px 6px; font-weight: bold; color: {color}; }}"
BID_COLOR, ASK_COLOR = "#1d5fa8", "#b3261e"


def _side_text(price: Decimal | None, size: Decimal | None) -> str:
    if price is None:
        return "—"
    return f"{fmt_price(price)} × {fmt_qty(size)}" if size is not None else fmt_price(price)


class QuoteStrip(QWidget):
    """Shows one QuoteView; ``price_picked`` carries the bid's or ask's price when the trader clicks it."""

    price_picked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ticket.quote")
        self.bid = QPushButton("—", objectName="ticket.quote.bid")
        self.ask = QPushButton("—", objectName="ticket.quote.ask")
        for button, tip in ((self.bid, "Use the bid as the limit price"), (self.ask, "Use the ask as the limit price")):
            button.setFlat(True)
            button.setToolTip(tip)
            button.setEnabled(False)
        self.last = QLabel(objectName="ticket.quote.last")
        self.detail = QLabel(objectName="ticket.quote.detail")
        self.detail.setWordWrap(True)
        self.detail.setStyleSheet("color: #5f6368; font-size: 11px;")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.addWidget(QLabel("Bid"), 0, 0)
        grid.addWidget(self.bid, 0, 1)
        grid.addWidget(QLabel("Ask"), 0, 2)
        grid.addWidget(self.ask, 0, 3)
        grid.addWidget(self.last, 0, 4)
        grid.setColumnStretch(5, 1)
        grid.addWidget(self.detail, 1, 0, 1, 6)
        self._prices: dict[QPushButton, Decimal | None] = {self.bid: None, self.ask: None}
        self.bid.clicked.connect(lambda: self._pick(self.bid))
        self.ask.clicked.connect(lambda: self._pick(self.ask))
        self.show_quote(None)

    def text(self) -> str:
        """What the strip says, as one line: "Bid 189.50 × 100  Ask 189.60 × 200  Last 189.55"."""
        return f"Bid {self.bid.text()}  Ask {self.ask.text()}  {self.last.text()}".strip()

    @Slot(object)
    def show_quote(self, view: QuoteView | None) -> None:
        quote = view.quote if view is not None else None
        self._prices = {self.bid: quote.bid if quote else None, self.ask: quote.ask if quote else None}
        self.bid.setText(_side_text(quote.bid, quote.bid_size) if quote else "—")
        self.ask.setText(_side_text(quote.ask, quote.ask_size) if quote else "—")
        self.last.setText(f"Last {fmt_price(quote.last)}" if quote and quote.last is not None else "")
        stale = bool(view and view.stale)
        _restyle(self.bid, SIDE_STYLE.format(color="#8a8a8a" if stale else BID_COLOR))
        _restyle(self.ask, SIDE_STYLE.format(color="#8a8a8a" if stale else ASK_COLOR))
        _restyle(self.last, STALE_STYLE if stale else "")
        for button, price in self._prices.items():
            button.setEnabled(price is not None)
        self.detail.setText(_detail(view))

    def _pick(self, button: QPushButton) -> None:
        price = self._prices.get(button)
        if price is not None:
            self.price_picked.emit(str(price))


def _restyle(widget: QWidget, sheet: str) -> None:
    """Setting a style sheet re-polishes the widget and its layout even when nothing changes: only on a change."""
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)


def _detail(view: QuoteView | None) -> str:
    if view is None:
        return "Type a symbol to see its quote."
    if view.quote is None:
        return view.error or "Waiting for a quote…"
    stamp = view.quote.timestamp.astimezone().strftime("%H:%M:%S")
    text = f"{view.display} at {stamp} · {view.source}"
    if view.stale:
        text = f"STALE, {view.age} old · {text}"
    if view.error:
        text += f" · {view.error}"
    return text
