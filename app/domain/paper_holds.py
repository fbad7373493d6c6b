"""What the paper account holds back from its buying power: working orders' reserves and short positions."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from app.domain.models import Position, Quote, Side
from app.domain.paper_account import (
    ZERO,
    PaperSettings,
    opening_quantities,
    opening_requirement,
    position_requirement,
    reserve_floor,
)
from app.domain.paper_book import Entry, OrderBook, SymbolBook, quote_floats


class Holds:
    """The reserves of the working orders (kept per symbol book until they change) and of short positions.

    It reads the engine's own order book, positions, short symbols and quotes (the same objects, never
    copies), so its answers always follow the engine's state; the engine hands it new settings.
    """

    __slots__ = ("settings", "_book", "_positions", "_shorts", "_quotes")

    def __init__(
        self,
        settings: PaperSettings,
        book: OrderBook,
        positions: dict[str, Position],
        shorts: set[str],
        quotes: dict[str, Quote],
    ) -> None:
        self.settings = settings
        self._book = book
        self._positions = positions
        self._shorts = shorts
        self._quotes = quotes

    def opening(self, book: SymbolBook) -> dict[str, Decimal]:
        """How much of each of the symbol's orders opens a position (cached until its orders or position change)."""
        if book.opening is None:
            entries = book.by_age()
            book.opening = opening_quantities((e.order for e in entries), self._positions)
            floating = [e.order for e in entries if book.opening[e.client_order_id] > 0 and quote_floats(e.order)]
            book.floating = tuple(order.client_order_id for order in floating)
            buys = [reserve_floor(order) for order in floating if order.request.side is Side.BUY]
            sells = [reserve_floor(order) for order in floating if order.request.side is Side.SELL]
            book.floors = (min(buys) if buys else None, min(sells) if sells else None)
        return book.opening

    def floating_reserves(self, symbol: str, quote: Quote | None) -> dict[str, Decimal]:
        """What the symbol's quote-priced orders would hold back at `quote`, by client order id."""
        book = self._book.symbols.get(symbol)
        if book is None:
            return {}
        opening = self.opening(book)
        return {
            i: opening_requirement(book.entries[i].order, opening[i], self.settings, quote) for i in book.floating
        }

    def symbol_hold(self, symbol: str, excluding: str = "", position: Position | None = None) -> Decimal:
        """What the symbol's working orders hold back, optionally without one order or with another position."""
        book = self._book.symbols.get(symbol)
        if book is None:
            return ZERO
        if not excluding and position is None:
            if book.held_back is None:
                opening = self.opening(book)
                book.held_back = self._reserve_sum(book.by_age(), opening, symbol)
            return book.held_back
        entries = [e for e in book.by_age() if e.client_order_id != excluding]
        positions = self._positions if position is None else {**self._positions, symbol: position}
        opening = opening_quantities((e.order for e in entries), positions)
        return self._reserve_sum(entries, opening, symbol)

    def _reserve_sum(self, entries: list[Entry], opening: Mapping[str, Decimal], symbol: str) -> Decimal:
        quote = self._quotes.get(symbol)
        return sum(
            (opening_requirement(e.order, opening[e.client_order_id], self.settings, quote) for e in entries),
            ZERO,
        )

    def order_hold(self, skip: str = "") -> Decimal:
        return sum((self.symbol_hold(symbol) for symbol in self._book.symbols if symbol != skip), ZERO)

    def position_hold(self, marks: Mapping[str, Decimal] | None = None, swap: Position | None = None) -> Decimal:
        """What short positions hold back, at `marks` (else the engine's quotes), with `swap` replacing its symbol."""
        symbols = set(self._shorts)
        if swap is not None:
            symbols.add(swap.symbol)
        total = ZERO
        for symbol in symbols:
            position = swap if swap is not None and swap.symbol == symbol else self._positions[symbol]
            if marks is None:
                quote = self._quotes.get(symbol)
                mark = quote.mark if quote is not None else None
            else:
                mark = marks.get(symbol)
            total += position_requirement(position, mark)
        return total

    def buying_power(self, cash: Decimal) -> Decimal:
        """What `cash` leaves to spend once short positions and working orders have their share, at the quotes."""
        return cash - self.position_hold() - self.order_hold()
