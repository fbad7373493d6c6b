"""Pure Tradier wire-format functions: envelopes and quirks in, domain records and order forms out (no I/O)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.brokers.base import AccountInfo, AccountType, BrokerOrder, BrokerPosition, OrderPreview, OrderRejected
from app.domain.models import (
    Instrument,
    OrderChange,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEffect,
    Quote,
    Side,
    TimeInForce,
)
from app.domain.symbols import SymbolError, compact_occ, parse_symbol

log = logging.getLogger(__name__)

#: Every status of Tradier's order object (documentation.tradier.com/brokerage-api/reference/response/orders).
#: ``pending`` is received but not yet acknowledged by the market (still cancellable); ``error`` is an
#: order that failed downstream and will never work, so it is a rejection.
STATUS_MAP: Mapping[str, OrderStatus] = {
    "pending": OrderStatus.PENDING_SUBMIT,
    "open": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
    "error": OrderStatus.REJECTED,
}

#: Tradier validates ``tag`` at submit time and rejects (never truncates) anything else.
TAG_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,255}$")

_OPEN_STATUSES = frozenset({"pending", "open", "partially_filled"})


# --------------------------------------------------------------------------- quirks and scalars


def as_list(value: Any) -> list[Any]:
    """Tradier's collection quirk: missing/None/``"null"`` -> [], a lone object -> [it], an array -> itself."""
    if value is None or value == "null" or value == "":
        return []
    if isinstance(value, list):
        return [item for item in value if item is not None and item != "null"]
    return [value]


def collection(payload: Any, outer: str, inner: str) -> list[Mapping[str, Any]]:
    """Records of ``{"orders": {"order": x}}``-style envelopes, whatever shape ``x`` took."""
    container = payload.get(outer) if isinstance(payload, Mapping) else None
    if not isinstance(container, Mapping):
        return []
    return [item for item in as_list(container.get(inner)) if isinstance(item, Mapping)]


def error_messages(payload: Any) -> list[str]:
    """The texts of an ``{"errors": {"error": str | [str]}}`` payload; empty when there is none."""
    if not isinstance(payload, Mapping):
        return []
    errors = payload.get("errors")
    if isinstance(errors, str):
        return [errors.strip()] if errors.strip() and errors != "null" else []
    if not isinstance(errors, Mapping):
        return []
    return [text for text in (str(item).strip() for item in as_list(errors.get("error"))) if text]


def to_decimal(value: Any) -> Decimal | None:
    """A wire number (JSON number, Decimal from ``parse_float``, or text) as a finite Decimal, else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, float):
        # repr gives the shortest text that round-trips, so 185.565 stays 185.565.
        result = Decimal(repr(value))
    else:
        text = str(value).strip()
        if not text or text == "null":
            return None
        try:
            result = Decimal(text)
        except InvalidOperation:
            return None
    return result if result.is_finite() else None


def parse_timestamp(value: Any) -> datetime | None:
    """ISO text (``...Z``) or epoch milliseconds as an aware datetime; naive text is taken as UTC."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        millis = Decimal(str(value))
        if millis <= 0:
            return None
        return datetime.fromtimestamp(float(millis / 1000), tz=UTC)
    text = str(value).strip()
    if not text or text == "null":
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        log.warning("Unreadable Tradier timestamp %r", text)
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _instrument(symbol: str) -> Instrument:
    try:
        return parse_symbol(symbol)
    except SymbolError:
        return Instrument(symbol=symbol.upper())


# --------------------------------------------------------------------------- orders


def is_open_status(raw_status: str) -> bool:
    return raw_status.lower() in _OPEN_STATUSES


def parse_tradier_order(raw: Mapping[str, Any], fallback_time: datetime | None = None) -> BrokerOrder:
    """One element of ``orders.order`` (or ``order``) as a ``BrokerOrder``; ``tag`` is our client order id."""
    raw_status = str(raw.get("status") or "").lower()
    status = STATUS_MAP.get(raw_status, OrderStatus.UNKNOWN)
    if status is OrderStatus.UNKNOWN:
        log.warning("Tradier order %s has an unknown status %r", raw.get("id"), raw_status)
    option_symbol = raw.get("option_symbol")
    if raw.get("class") == "option" and option_symbol:
        symbol = compact_occ(str(option_symbol))
    else:
        symbol = str(raw.get("symbol") or "").upper()
    filled = to_decimal(raw.get("exec_quantity")) or Decimal(0)
    average = to_decimal(raw.get("avg_fill_price"))
    updated = (
        parse_timestamp(raw.get("transaction_date"))
        or parse_timestamp(raw.get("create_date"))
        or fallback_time
        or datetime.now(UTC)
    )
    return BrokerOrder(
        client_order_id=str(raw.get("tag") or ""),
        broker_order_id=str(raw.get("id") or ""),
        symbol=symbol,
        status=status,
        filled_quantity=filled,
        average_fill_price=average if filled > 0 and average else None,
        updated_at=updated,
        quantity=to_decimal(raw.get("quantity")),
        reason=str(raw.get("reason_description") or ""),
        raw_status=raw_status,
        side=Side.BUY if str(raw.get("side") or "").startswith("buy") else (
            Side.SELL if str(raw.get("side") or "").startswith("sell") else None
        ),
        order_type={t.value: t for t in OrderType}.get(str(raw.get("type") or "").lower()),
        limit_price=to_decimal(raw.get("price")),
        stop_price=to_decimal(raw.get("stop_price")),
        time_in_force={t.value: t for t in TimeInForce}.get(str(raw.get("duration") or "").lower()),
    )


def parse_tradier_orders(payload: Any) -> list[BrokerOrder]:
    return [parse_tradier_order(raw) for raw in collection(payload, "orders", "order")]


# --------------------------------------------------------------------------- account


def account_type_of(
    profile_account: Mapping[str, Any] | None, balances: Mapping[str, Any]
) -> tuple[AccountType, str]:
    """Account type and a readable label: IRA kinds from ``classification``, else cash/margin."""
    classification = str((profile_account or {}).get("classification") or "").lower()
    words = [word for word in classification.split("_") if word]
    kind = str((profile_account or {}).get("type") or balances.get("account_type") or "").lower()
    if "ira" in words:
        account_type = AccountType.IRA
    elif kind in ("margin", "pdt"):
        account_type = AccountType.MARGIN
    elif kind == "cash":
        account_type = AccountType.CASH
    else:
        account_type = AccountType.UNKNOWN
    if words:
        spelled = [word.upper() if word in ("ira", "sep") else word for word in words]
        label = " ".join(spelled)
        label = label[0].upper() + label[1:]
        if kind and kind not in words and account_type is not AccountType.IRA:
            label += f" ({kind})"
    else:
        label = kind.capitalize() if kind else "Unknown"
    if str(balances.get("account_type") or "").lower() == "pdt":
        label += ", pattern day trader"
    return account_type, label


def buying_power_of(balances: Mapping[str, Any]) -> Decimal:
    """Margin and PDT accounts: ``stock_buying_power``; cash accounts: ``cash.cash_available``."""
    kind = str(balances.get("account_type") or "").lower()
    for key in dict.fromkeys((kind, "margin", "pdt", "cash")):
        section = balances.get(key)
        if not isinstance(section, Mapping):
            continue
        field = "cash_available" if key == "cash" else "stock_buying_power"
        value = to_decimal(section.get(field))
        if value is not None:
            return value
    log.warning("Tradier balances carry no buying power for account type %r", kind)
    return Decimal(0)


def parse_tradier_account(
    account_number: str,
    balances_payload: Mapping[str, Any],
    profile_account: Mapping[str, Any] | None,
    *,
    is_paper: bool,
) -> AccountInfo:
    balances = balances_payload.get("balances")
    if not isinstance(balances, Mapping):
        raise ValueError("the balances answer has no 'balances' object")
    account_type, label = account_type_of(profile_account, balances)
    return AccountInfo(
        account_number=account_number,
        account_type=account_type,
        buying_power=buying_power_of(balances),
        cash=to_decimal(balances.get("total_cash")) or Decimal(0),
        equity=to_decimal(balances.get("total_equity")) or Decimal(0),
        is_paper=is_paper,
        account_type_label=label,
    )


def profile_accounts(payload: Any) -> list[Mapping[str, Any]]:
    return collection(payload, "profile", "account")


# --------------------------------------------------------------------------- positions and quotes


def parse_tradier_position(raw: Mapping[str, Any]) -> BrokerPosition:
    """Tradier gives ``cost_basis`` as the total paid (negative for shorts); we want price per share/contract."""
    instrument = _instrument(str(raw.get("symbol") or ""))
    quantity = to_decimal(raw.get("quantity")) or Decimal(0)
    cost_basis = to_decimal(raw.get("cost_basis")) or Decimal(0)
    average = abs(cost_basis) / abs(quantity) / instrument.multiplier if quantity else Decimal(0)
    return BrokerPosition(
        symbol=instrument.symbol,
        asset_class=instrument.asset_class,
        quantity=quantity,
        average_cost=average,
    )


def parse_tradier_positions(payload: Any) -> list[BrokerPosition]:
    return [parse_tradier_position(raw) for raw in collection(payload, "positions", "position")]


def parse_tradier_quote(raw: Mapping[str, Any], fallback_time: datetime) -> Quote:
    stamps = [parse_timestamp(raw.get(key)) for key in ("trade_date", "bid_date", "ask_date")]
    known = [stamp for stamp in stamps if stamp is not None]
    return Quote(
        symbol=str(raw.get("symbol") or "").upper(),
        bid=to_decimal(raw.get("bid")),
        ask=to_decimal(raw.get("ask")),
        last=to_decimal(raw.get("last")),
        timestamp=max(known) if known else fallback_time,
        bid_size=to_decimal(raw.get("bidsize")),
        ask_size=to_decimal(raw.get("asksize")),
    )


def parse_tradier_quotes(payload: Any, fallback_time: datetime) -> dict[str, Quote]:
    quotes = [parse_tradier_quote(raw, fallback_time) for raw in collection(payload, "quotes", "quote")]
    return {quote.symbol: quote for quote in quotes if quote.symbol}


def unmatched_symbols(payload: Any) -> list[str]:
    quotes = payload.get("quotes") if isinstance(payload, Mapping) else None
    unmatched = quotes.get("unmatched_symbols") if isinstance(quotes, Mapping) else None
    if not isinstance(unmatched, Mapping):
        return []
    return [str(symbol) for symbol in as_list(unmatched.get("symbol"))]


def parse_tradier_preview(payload: Any) -> OrderPreview:
    """``POST .../orders`` with ``preview=true``: total ``cost`` includes commission and fees."""
    order = payload.get("order") if isinstance(payload, Mapping) else None
    if not isinstance(order, Mapping):
        raise ValueError("the preview answer has no 'order' object")
    if order.get("result") is False or str(order.get("status") or "ok").lower() != "ok":
        raise OrderRejected(str(order.get("reason_description") or "Tradier did not accept the order preview."))
    commission = to_decimal(order.get("commission"))
    fees = to_decimal(order.get("fees"))
    return OrderPreview(
        estimated_cost=to_decimal(order.get("cost")),
        commission=None if commission is None else commission + (fees or Decimal(0)),
        buying_power_effect=to_decimal(order.get("margin_change")),
    )


# --------------------------------------------------------------------------- order forms


def tradier_side(instrument: Instrument, side: Side, effect: PositionEffect, held: Decimal) -> str:
    """Tradier's side word. AUTO closes when the order reduces what is held, else it opens."""
    if effect is PositionEffect.AUTO:
        closing = (side is Side.BUY and held < 0) or (side is Side.SELL and held > 0)
    else:
        closing = effect is PositionEffect.CLOSE
    if instrument.is_option:
        return f"{side.value}_to_{'close' if closing else 'open'}"
    if side is Side.BUY:
        return "buy_to_cover" if closing else "buy"
    return "sell" if closing else "sell_short"


def _whole_number(quantity: Decimal) -> str:
    if quantity <= 0 or quantity != quantity.to_integral_value():
        raise OrderRejected(f"Tradier takes whole shares and contracts only; {quantity} is not one.")
    return str(int(quantity))


def _price(value: Decimal | None, name: str) -> str:
    if value is None or value <= 0:
        raise OrderRejected(f"A {name} price is required for this order type.")
    return format(value, "f")


def _underlying(instrument: Instrument) -> str:
    if instrument.option is not None:
        return instrument.option.underlying
    return compact_occ(instrument.symbol)[:-15]


def order_form(request: OrderRequest, side: str, *, preview: bool = False) -> dict[str, str]:
    """The form body of ``POST /accounts/{id}/orders``; problems we can see ourselves never reach Tradier."""
    if not TAG_PATTERN.match(request.client_order_id):
        raise OrderRejected(
            f"client order id {request.client_order_id!r} cannot be a Tradier tag "
            "(letters, digits and '-', at most 255)."
        )
    if request.extended_hours:
        raise OrderRejected("Extended-hours orders are not offered for Tradier in this app.")
    instrument = request.instrument
    form: dict[str, str] = {}
    if instrument.is_option:
        form["class"] = "option"
        form["symbol"] = _underlying(instrument)
        form["option_symbol"] = compact_occ(instrument.symbol)
    else:
        form["class"] = "equity"
        form["symbol"] = instrument.symbol.upper()
    form["side"] = side
    form["quantity"] = _whole_number(request.quantity)
    form["type"] = request.order_type.value
    form["duration"] = request.time_in_force.value
    if request.order_type.needs_limit:
        form["price"] = _price(request.limit_price, "limit")
    if request.order_type.needs_stop:
        form["stop"] = _price(request.stop_price, "stop")
    form["tag"] = request.client_order_id
    if preview:
        form["preview"] = "true"
    return form


def modify_form(raw: Mapping[str, Any], change: OrderChange) -> dict[str, str]:
    """The form body of ``PUT /accounts/{id}/orders/{order_id}`` (type, duration, price, stop) for a change
    of prices; what the change leaves alone is sent as the order has it now."""
    kind = str(raw.get("type") or "")
    form = {"type": kind, "duration": str(raw.get("duration") or "day")}
    takes_limit, takes_stop = kind in ("limit", "stop_limit"), kind in ("stop", "stop_limit")
    if change.limit_price is not None and not takes_limit:
        raise OrderRejected(f"a {kind.replace('_', ' ')} order has no limit price to change")
    if change.stop_price is not None and not takes_stop:
        raise OrderRejected(f"a {kind.replace('_', ' ')} order has no stop price to change")
    if takes_limit:
        limit = change.limit_price if change.limit_price is not None else to_decimal(raw.get("price"))
        form["price"] = _price(limit, "limit")
    if takes_stop:
        stop = change.stop_price if change.stop_price is not None else to_decimal(raw.get("stop_price"))
        form["stop"] = _price(stop, "stop")
    return form
