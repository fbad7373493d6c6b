"""Paper fill rules: where an order would execute against one quote, or why it keeps resting."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from app.domain.models import Order, OrderType, Quote, Side
from app.domain.ticks import fmt_price, round_to_tick

BPS = Decimal(10_000)


class Wait(enum.Enum):
    """Why an open order is not filling; the engine reports a new reason only when this kind changes."""

    MARKET_CLOSED = "market_closed"
    NO_QUOTE = "no_quote"
    STALE_QUOTE = "stale_quote"
    NO_PRICE = "no_price"
    STOP_NOT_TRIGGERED = "stop_not_triggered"
    LIMIT_NOT_CROSSED = "limit_not_crossed"


@dataclass(frozen=True, slots=True)
class Execution:
    """The order fills now at this price (already slipped and rounded to the tick)."""

    price: Decimal
    stop_triggered: bool


@dataclass(frozen=True, slots=True)
class Resting:
    """The order keeps working; `reason` is what the trader reads.

    The reason is written out only when read: an engine reads it when the kind of wait changes,
    so a quote that changes nothing formats no text.
    """

    wait: Wait
    explain: Callable[[], str]
    stop_triggered: bool = False

    @property
    def reason(self) -> str:
        return self.explain()


def touch_price(quote: Quote, side: Side) -> tuple[str, Decimal] | None:
    """The price a marketable order meets: the ask for a buy, the bid for a sell, else the last trade."""
    name, touch = ("ask", quote.ask) if side is Side.BUY else ("bid", quote.bid)
    if touch is not None and touch > 0:
        return name, touch
    if quote.last is not None and quote.last > 0:
        return "last", quote.last
    return None


def trigger_price(quote: Quote, side: Side) -> tuple[str, Decimal] | None:
    """The price that elects a stop: the last trade, else the ask (buy stops) or bid (sell stops)."""
    if quote.last is not None and quote.last > 0:
        return "last", quote.last
    name, touch = ("ask", quote.ask) if side is Side.BUY else ("bid", quote.bid)
    if touch is not None and touch > 0:
        return name, touch
    return None


def slipped(price: Decimal, side: Side, slippage_bps: Decimal, *, is_option: bool) -> Decimal:
    """Move a price against the trader by the slippage, then round to the tick against them too."""
    factor = slippage_bps / BPS
    moved = price * (1 + factor) if side is Side.BUY else price * (1 - factor)
    return round_to_tick(moved, is_option=is_option, up=side is Side.BUY)


def evaluate(order: Order, quote: Quote, slippage_bps: Decimal) -> Execution | Resting:
    """Decide one open order against one usable quote (the session and freshness are checked by the caller)."""
    request = order.request
    side = request.side
    triggered = order.stop_triggered
    if request.order_type.needs_stop and not triggered:
        elected = trigger_price(quote, side)
        if elected is None:
            return Resting(Wait.NO_PRICE, lambda: f"no price for {request.symbol} to check the stop against")
        name, price = elected
        stop = request.stop_price
        assert stop is not None
        if (side is Side.BUY and price < stop) or (side is Side.SELL and price > stop):
            where = "below" if side is Side.BUY else "above"
            return Resting(
                Wait.STOP_NOT_TRIGGERED,
                lambda: f"waiting for the stop: {name} {fmt_price(price)} {where} stop {fmt_price(stop)}",
            )
        triggered = True
    touched = touch_price(quote, side)
    if touched is None:
        wanted = "ask" if side is Side.BUY else "bid"
        return Resting(Wait.NO_PRICE, lambda: f"no {wanted} or last price for {request.symbol} yet", triggered)
    name, price = touched
    is_option = request.instrument.is_option
    if request.order_type in (OrderType.MARKET, OrderType.STOP):
        fill = slipped(price, side, slippage_bps, is_option=is_option)
        if fill <= 0:
            return Resting(Wait.NO_PRICE, lambda: f"no usable {name} for {request.symbol}", triggered)
        return Execution(fill, triggered)
    limit = request.limit_price
    assert limit is not None
    prefix = "stop triggered; " if request.order_type is OrderType.STOP_LIMIT else ""
    if side is Side.BUY and price > limit:
        return Resting(
            Wait.LIMIT_NOT_CROSSED,
            lambda: f"{prefix}resting: {name} {fmt_price(price)} above limit {fmt_price(limit)}",
            triggered,
        )
    if side is Side.SELL and price < limit:
        return Resting(
            Wait.LIMIT_NOT_CROSSED,
            lambda: f"{prefix}resting: {name} {fmt_price(price)} below limit {fmt_price(limit)}",
            triggered,
        )
    # The better of the limit and the (slipped) quote; slippage never pushes a fill past the limit.
    fill = slipped(price, side, slippage_bps, is_option=is_option)
    fill = min(fill, limit) if side is Side.BUY else max(fill, limit)
    return Execution(fill, triggered)
