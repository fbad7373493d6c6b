"""Order-ticket validation: turns what the trader typed into an OrderRequest, or says what is wrong."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from app.domain.models import Instrument, OrderRequest, OrderType, Side, TimeInForce
from app.domain.symbols import SymbolError, parse_symbol
from app.domain.ticks import PENNY, fmt_price, is_on_tick, tick_size

_T = TypeVar("_T")

MAX_SHARES = Decimal(1_000_000)
MAX_CONTRACTS = Decimal(10_000)
MAX_PRICE = Decimal(1_000_000)

# ASCII digits with an optional fraction; thousands separators only in well-formed groups ("1,000", not
# "1,5"). Python's \d would also read Arabic-Indic or full-width digits ("１００") as numbers.
_NUMBER = re.compile(r"^-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.[0-9]*)?$")
#: No quantity or price a trader means needs more characters than this (and Decimal stays exact below it).
MAX_NUMBER_LENGTH = 24
#: How much of a bad entry an error message repeats.
ECHO_LENGTH = 24

_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_ORDER_TYPES = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP,
    "stop_limit": OrderType.STOP_LIMIT,
}
_TIMES_IN_FORCE = {"day": TimeInForce.DAY, "gtc": TimeInForce.GTC}


class TicketError(ValueError):
    """The ticket cannot become an order; .errors maps each bad field to a message a trader reads."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


def build_order_request(
    *,
    symbol: str,
    side: str,
    quantity: str,
    order_type: str,
    limit_price: str = "",
    stop_price: str = "",
    time_in_force: str = "day",
    extended_hours: bool = False,
    today: date | None = None,
) -> OrderRequest:
    """Validate every field and build the request, or raise TicketError naming each bad field.

    `today` (the trader's trading date) also rejects options that have already expired.
    """
    errors: dict[str, str] = {}
    instrument: Instrument | None = None
    try:
        instrument = parse_symbol(symbol)
    except SymbolError as exc:
        errors["symbol"] = str(exc)
    parsed_side = _choice(side, _SIDES, "side", "Choose buy or sell.", errors)
    parsed_type = _choice(
        order_type, _ORDER_TYPES, "order_type", "Choose market, limit, stop or stop-limit.", errors
    )
    parsed_tif = _choice(time_in_force, _TIMES_IN_FORCE, "time_in_force", "Choose DAY or GTC.", errors)
    qty = parse_number(quantity, "quantity", "Enter a quantity.", errors)
    limit = parse_number(limit_price, "limit_price", "", errors)
    stop = parse_number(stop_price, "stop_price", "", errors)
    # Check what did parse too, so the trader sees every problem at once rather than one per attempt.
    for field, message in _ticket_errors(
        instrument, qty, parsed_type, parsed_tif, limit, stop, bool(extended_hours), today
    ).items():
        errors.setdefault(field, message)
    if errors:
        raise TicketError(errors)
    assert instrument is not None and qty is not None and parsed_side is not None
    assert parsed_type is not None and parsed_tif is not None
    return OrderRequest(
        instrument=instrument,
        side=parsed_side,
        quantity=qty.quantize(Decimal(1)),
        order_type=parsed_type,
        time_in_force=parsed_tif,
        limit_price=limit,
        stop_price=stop,
        extended_hours=bool(extended_hours),
    )


def order_request_from_ticket(ticket: Mapping[str, object], *, today: date | None = None) -> OrderRequest:
    """The order ticket's values (field name -> what was typed or chosen) as a request, paper and live alike.

    A field the ticket left out reads as empty (DAY for the time in force); raises TicketError as
    ``build_order_request`` does (with ``today``, the trading date, for an option that has expired).
    """
    return build_order_request(
        symbol=str(ticket.get("symbol", "")),
        side=str(ticket.get("side", "")),
        quantity=str(ticket.get("quantity", "")),
        order_type=str(ticket.get("order_type", "")),
        limit_price=str(ticket.get("limit_price", "") or ""),
        stop_price=str(ticket.get("stop_price", "") or ""),
        time_in_force=str(ticket.get("time_in_force", "day")),
        extended_hours=bool(ticket.get("extended_hours", False)),
        today=today,
    )


def request_errors(request: OrderRequest, *, today: date | None = None) -> dict[str, str]:
    """Everything wrong with an already-built request (the paper engine checks the same rules)."""
    return _ticket_errors(
        request.instrument,
        request.quantity,
        request.order_type,
        request.time_in_force,
        request.limit_price,
        request.stop_price,
        request.extended_hours,
        today,
    )


def price_problem(price: Decimal, instrument: Instrument | None, label: str) -> str:
    """Why a price cannot be used, or '' when it is fine."""
    if not price.is_finite() or price <= 0:
        return f"The {label} price must be more than zero."
    if price > MAX_PRICE:
        # The price itself is not repeated: a number this size may not even format.
        return f"The {label} price is above the {fmt_price(MAX_PRICE)} maximum."
    is_option = instrument is not None and instrument.is_option
    if not is_on_tick(price, is_option=is_option):
        tick = tick_size(price, is_option=is_option)
        if is_option:
            where = "options trade"
        elif tick == PENNY:
            where = "prices of $1.00 and above go"
        else:
            where = "prices below $1.00 go"
        return f"The {label} price {price} is not a valid price: {where} in steps of ${tick}."
    return ""


def _ticket_errors(
    instrument: Instrument | None,
    qty: Decimal | None,
    order_type: OrderType | None,
    tif: TimeInForce | None,
    limit: Decimal | None,
    stop: Decimal | None,
    extended_hours: bool,
    today: date | None,
) -> dict[str, str]:
    """The field rules; a field that did not parse (None) skips the rules that need it."""
    errors: dict[str, str] = {}
    if qty is not None:
        problem = _quantity_problem(qty, instrument)
        if problem:
            errors["quantity"] = problem
    for field, price, label in (("limit_price", limit, "limit"), ("stop_price", stop, "stop")):
        needed = order_type is not None and (order_type.needs_limit if label == "limit" else order_type.needs_stop)
        if order_type is not None and needed and price is None:
            errors[field] = f"A {_TYPE_NAMES[order_type]} order needs a {label} price."
        elif order_type is not None and not needed and price is not None:
            errors[field] = (
                f"A {_TYPE_NAMES[order_type]} order takes no {label} price; clear it or change the order type."
            )
        elif price is not None:
            problem = price_problem(price, instrument, label)
            if problem:
                errors[field] = problem
    if extended_hours:
        problem = _extended_hours_problem(instrument, order_type, tif)
        if problem:
            errors["extended_hours"] = problem
    if today is not None and instrument is not None and instrument.option is not None:
        if instrument.option.expiry < today:
            errors["symbol"] = (
                f"{instrument.symbol} expired on {instrument.option.expiry:%d %b %Y}; it no longer trades."
            )
    return errors


_TYPE_NAMES = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.STOP: "stop",
    OrderType.STOP_LIMIT: "stop-limit",
}


def _quantity_problem(qty: Decimal, instrument: Instrument | None) -> str:
    is_option = instrument is not None and instrument.is_option
    unit, limit = ("contracts", MAX_CONTRACTS) if is_option else ("shares", MAX_SHARES)
    if not qty.is_finite() or qty <= 0:
        return f"Enter a quantity of at least 1 ({unit})."
    if qty != qty.to_integral_value():
        return f"Trade whole {unit}: fractional quantities are not supported."
    if qty > limit:
        return f"At most {limit:,} {unit} per order; split larger orders."
    return ""


def _extended_hours_problem(
    instrument: Instrument | None, order_type: OrderType | None, tif: TimeInForce | None
) -> str:
    if instrument is not None and instrument.is_option:
        return "Options trade only in the regular session (09:30-16:00 ET); turn off extended hours."
    if order_type is not None and order_type is not OrderType.LIMIT:
        return (
            "Extended-hours orders must be limit orders: pre- and post-market books are thin, "
            "so a market or stop order could fill far from the last price."
        )
    if tif is not None and tif is not TimeInForce.DAY:
        return (
            "Extended-hours orders must be DAY orders; brokers do not carry GTC orders into the "
            "pre- and post-market."
        )
    return ""


def _choice(text: str, options: dict[str, _T], field: str, message: str, errors: dict[str, str]) -> _T | None:
    key = re.sub(r"[\s-]+", "_", (text or "").strip().lower())
    if key not in options:
        errors[field] = message
        return None
    return options[key]


def parse_number(text: str, field: str, missing: str, errors: dict[str, str]) -> Decimal | None:
    """Parse a typed number; an empty field is None, or an error when `missing` says it is required."""
    cleaned = (text or "").strip().removeprefix("$").strip()
    if not cleaned:
        if missing:
            errors[field] = missing
        return None
    shown = _echo(text)
    if not cleaned.isascii() or not _NUMBER.match(cleaned) or cleaned in (".", "-", "-."):
        errors[field] = f"'{shown}' is not a number: type digits 0-9, e.g. 100 or 12.50."
        return None
    if len(cleaned) > MAX_NUMBER_LENGTH:
        errors[field] = f"'{shown}' has too many digits."
        return None
    try:
        return Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        errors[field] = f"'{shown}' is not a number."
        return None


def _echo(text: str) -> str:
    """The trader's entry as an error message repeats it: trimmed, printable, short."""
    visible = "".join(ch if ch.isprintable() else "?" for ch in (text or "").strip())
    return visible if len(visible) <= ECHO_LENGTH else f"{visible[:ECHO_LENGTH]}…"
