"""Our order requests in alpaca-py's terms: the request object, option open/close intent, and the preview estimate."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app.brokers.alpaca.parse import AlpacaParseError, to_decimal
from app.brokers.alpaca.sdk import (
    AlpacaOrderRequest,
    AlpacaTimeInForce,
    LimitOrderRequest,
    MarketOrderRequest,
    OrderSide,
    PositionIntent,
    ReplaceOrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
)
from app.brokers.base import BrokerOrder, OrderPreview
from app.domain.models import OrderChange, OrderRequest, OrderType, PositionEffect, Quote, Side, TimeInForce

_SIDES = {Side.BUY: OrderSide.BUY, Side.SELL: OrderSide.SELL}
_TIFS = {TimeInForce.DAY: AlpacaTimeInForce.DAY, TimeInForce.GTC: AlpacaTimeInForce.GTC}
_REQUEST_CLASSES: Mapping[OrderType, type[AlpacaOrderRequest]] = {
    OrderType.MARKET: MarketOrderRequest,
    OrderType.LIMIT: LimitOrderRequest,
    OrderType.STOP: StopOrderRequest,
    OrderType.STOP_LIMIT: StopLimitOrderRequest,
}


def resolve_position_intent(side: Side, effect: PositionEffect, held: Decimal) -> PositionIntent:
    """Alpaca's ``position_intent`` for a single-leg option order.

    AUTO closes what is held on the opposite side (selling a long, buying back a short) and opens
    otherwise; OPEN and CLOSE are taken as the trader said.
    """
    if effect is PositionEffect.AUTO:
        closing = held > 0 if side is Side.SELL else held < 0
    else:
        closing = effect is PositionEffect.CLOSE
    if side is Side.BUY:
        return PositionIntent.BUY_TO_CLOSE if closing else PositionIntent.BUY_TO_OPEN
    return PositionIntent.SELL_TO_CLOSE if closing else PositionIntent.SELL_TO_OPEN


def build_order_request(request: OrderRequest, intent: PositionIntent | None = None) -> AlpacaOrderRequest:
    """The alpaca-py request for one of our orders, always carrying our client order id.

    alpaca-py types prices and quantities as ``float`` and sends JSON numbers; the Decimals we hold
    are short decimals whose float ``repr`` is the same text, so nothing is lost on the wire.
    Raises ``ValueError`` for combinations alpaca-py refuses before sending.
    """
    fields: dict[str, Any] = {
        "symbol": request.symbol,
        "qty": float(request.quantity),
        "side": _SIDES[request.side],
        "time_in_force": _TIFS[request.time_in_force],
        "client_order_id": request.client_order_id,
    }
    if request.order_type.needs_limit:
        if request.limit_price is None:
            raise ValueError("a limit price is required for this order type")
        fields["limit_price"] = float(request.limit_price)
    if request.order_type.needs_stop:
        if request.stop_price is None:
            raise ValueError("a stop price is required for this order type")
        fields["stop_price"] = float(request.stop_price)
    if request.extended_hours:
        fields["extended_hours"] = True
    if intent is not None:
        fields["position_intent"] = intent
    return _REQUEST_CLASSES[request.order_type](**fields)


def _reference_price(request: OrderRequest, quote: Quote | None) -> Decimal | None:
    if request.order_type.needs_limit and request.limit_price is not None:
        return request.limit_price
    if request.order_type is OrderType.STOP and request.stop_price is not None:
        return request.stop_price
    if quote is None:
        return None
    far_side = quote.ask if request.side is Side.BUY else quote.bid
    return far_side if far_side is not None else quote.last


def estimate_preview(request: OrderRequest, account: Mapping[str, Any], quote: Quote | None) -> OrderPreview:
    """An estimate in place of the preview Alpaca's Trading API doesn't offer.

    Cost is quantity x (limit, stop, or far side of the quote) x contract multiplier. Alpaca charges
    no commission on stocks or options; regulatory fees on sales are not estimated.
    """
    warnings = ["Alpaca has no order preview; this is an estimate from the latest quote and your buying power."]
    price = _reference_price(request, quote)
    cost = None if price is None else request.quantity * price * request.instrument.multiplier
    if cost is None:
        warnings.append(f"No price is available for {request.symbol}; the cost could not be estimated.")
    power_key = "options_buying_power" if request.instrument.is_option else "buying_power"
    try:
        buying_power = to_decimal(account.get(power_key)) or to_decimal(account.get("buying_power"))
    except AlpacaParseError:
        buying_power = None
    if cost is not None and request.side is Side.BUY and buying_power is not None and cost > buying_power:
        warnings.append(f"The estimated cost {cost:,.2f} exceeds your buying power {buying_power:,.2f}.")
    if account.get("trading_blocked") or account.get("account_blocked"):
        warnings.append("Alpaca reports that trading is blocked on this account.")
    effect = None
    if cost is not None:
        effect = -cost if request.side is Side.BUY else None
    return OrderPreview(
        estimated_cost=cost,
        commission=Decimal(0),
        buying_power_effect=effect,
        warnings=tuple(warnings),
    )


def replacement_client_order_id(client_order_id: str, token: str) -> str:
    """The id for the order that replaces ours: Alpaca wants a unique one; the original stays readable in it."""
    return f"{client_order_id[:38]}-r{token[:8]}"


def build_replace_request(change: OrderChange, current: BrokerOrder, new_client_order_id: str) -> ReplaceOrderRequest:
    """``PATCH /v2/orders/{id}`` for a change of our (possibly already replaced) order.

    The replacing order is a new order whose fills start from zero, so its size is what is left to
    trade of the new total: the total minus what every earlier order of the chain filled. Sent on
    every change (not only a quantity change) so a price change of a part-filled order can't grow it.
    """
    total = change.quantity if change.quantity is not None else current.quantity
    if total is None:
        raise ValueError("Alpaca did not report this order's size; it can't be changed safely")
    remaining = total - current.filled_quantity
    if remaining <= 0:
        raise ValueError(f"the new quantity must be more than the {current.filled_quantity} already filled")
    if remaining != remaining.to_integral_value():
        raise ValueError("Alpaca changes orders in whole shares or contracts only")
    return ReplaceOrderRequest(
        qty=int(remaining),
        limit_price=float(change.limit_price) if change.limit_price is not None else None,
        stop_price=float(change.stop_price) if change.stop_price is not None else None,
        client_order_id=new_client_order_id,
    )
