"""What a ticket would cost or raise at the current quote, shown under the ticket as it is filled in."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from app.domain.models import OrderType, Quote, Side
from app.domain.symbols import SymbolError, parse_symbol


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """``amount`` is quantity x price x multiplier; ``basis`` says which price was used ("ask", "limit")."""

    side: Side
    quantity: Decimal
    price: Decimal
    multiplier: Decimal
    basis: str

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.price * self.multiplier


def _decimal(text: object) -> Decimal | None:
    try:
        value = Decimal(str(text).replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def estimate_cost(
    *,
    symbol: str,
    side: str,
    quantity: str,
    order_type: str,
    limit_price: str = "",
    stop_price: str = "",
    quote: Quote | None = None,
) -> CostEstimate | None:
    """The estimate for what the ticket holds, or None while it lacks a symbol, quantity or price.

    A limit (or stop limit) order is priced at its limit, a stop at its stop; a market order at the
    side it would take (the ask to buy, the bid to sell), else the last trade. Commissions are not
    included: they depend on the account's settings and are shown when the order fills.
    """
    try:
        instrument = parse_symbol(symbol)
        kind, direction = OrderType(order_type), Side(side)
    except (SymbolError, ValueError):
        return None
    qty = _decimal(quantity)
    if qty is None:
        return None
    price: Decimal | None
    if kind.needs_limit:
        price, basis = _decimal(limit_price), "limit"
    elif kind is OrderType.STOP:
        price, basis = _decimal(stop_price), "stop"
    else:
        price, basis = None, ""
        if quote is not None and quote.symbol == instrument.symbol:
            taken = quote.ask if direction is Side.BUY else quote.bid
            price, basis = (taken, "ask" if direction is Side.BUY else "bid") if taken else (quote.last, "last")
    if price is None:
        return None
    return CostEstimate(direction, qty, price, instrument.multiplier, basis)
