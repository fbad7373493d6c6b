"""Tastytrade wire format, both ways, as pure functions: orders, accounts, positions, quotes, net-liq history, errors.

Tastytrade speaks dasherized JSON inside a ``{"data": ..., "context": ...}`` envelope; lists sit in
``data.items``. Nothing here does I/O, so every function is tested against recorded payloads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.brokers.base import AccountInfo, AccountType, BrokerOrder, BrokerPosition, OrderPreview
from app.domain.equity_curve import EquityPoint
from app.domain.models import (
    AssetClass,
    OrderChange,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEffect,
    Quote,
    Side,
    TimeInForce,
)
from app.domain.symbols import SymbolError, compact_occ, padded_occ, parse_symbol

log = logging.getLogger(__name__)

EQUITY = "Equity"
EQUITY_OPTION = "Equity Option"

#: Every order status Tastytrade documents (tastyware ``order.py OrderStatus``), mapped onto ours.
#: "Received", "Routed" and "In Flight" are accepted but not yet working at a venue; "Contingent"
#: waits for a condition and "Replace Requested" is still working, so both count as resting.
#: "Removed"/"Partially Removed" are terminal removals by the system: cancelled, with any fills kept.
STATUS_MAP: Mapping[str, OrderStatus] = {
    "Received": OrderStatus.PENDING_SUBMIT,
    "Routed": OrderStatus.PENDING_SUBMIT,
    "In Flight": OrderStatus.PENDING_SUBMIT,
    "Contingent": OrderStatus.NEW,
    "Live": OrderStatus.NEW,
    "Replace Requested": OrderStatus.NEW,
    "Cancel Requested": OrderStatus.PENDING_CANCEL,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
    "Expired": OrderStatus.EXPIRED,
    "Rejected": OrderStatus.REJECTED,
    "Removed": OrderStatus.CANCELED,
    "Partially Removed": OrderStatus.CANCELED,
}

_ORDER_TYPES = {
    OrderType.MARKET: "Market",
    OrderType.LIMIT: "Limit",
    OrderType.STOP: "Stop",
    OrderType.STOP_LIMIT: "Stop Limit",
}
# Extended-hours variants of each time in force (Tastytrade's "Ext" sessions).
_TIME_IN_FORCE = {
    (TimeInForce.DAY, False): "Day",
    (TimeInForce.GTC, False): "GTC",
    (TimeInForce.DAY, True): "Ext",
    (TimeInForce.GTC, True): "GTC Ext",
}


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """The ``error`` object of a failed call: code, message and any inner (preflight) messages."""

    code: str
    message: str
    details: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """The most specific text: the inner messages when there are any, else the message."""
        if self.details:
            return "; ".join(self.details)
        return self.message or self.code


# --- envelope and scalar helpers -------------------------------------------------------------


def unwrap(body: Any) -> Any:
    """The ``data`` of an envelope (the body itself when it has none)."""
    if isinstance(body, Mapping) and "data" in body:
        return body["data"]
    return body


def items_of(body: Any) -> list[Mapping[str, Any]]:
    data = unwrap(body)
    if isinstance(data, Mapping):
        found = data.get("items")
        return [item for item in found if isinstance(item, Mapping)] if isinstance(found, list) else []
    return []


def has_more_pages(body: Any) -> bool:
    """True when a paginated list says pages remain after this one."""
    pagination = body.get("pagination") if isinstance(body, Mapping) else None
    if not isinstance(pagination, Mapping):
        return False
    try:
        return int(pagination.get("page-offset", 0)) + 1 < int(pagination.get("total-pages", 1))
    except (TypeError, ValueError):
        return False


def to_decimal(value: Any) -> Decimal | None:
    """A Tastytrade number (string, int or float) as Decimal; None for empty or non-numbers."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def to_datetime(value: Any) -> datetime | None:
    """ISO-8601 text or epoch milliseconds (``updated-at`` is an int in real order payloads)."""
    if value is None or isinstance(value, bool) or value in ("", 0):
        return None
    if isinstance(value, (int, float, Decimal)):
        return datetime.fromtimestamp(float(value) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_error(body: Any, status: int) -> ErrorInfo:
    """``{"error":{"code","message","errors"?}}``; also the OAuth form ``{"error": "...", ...}``."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        details = tuple(
            str(inner.get("message") or inner.get("code"))
            for inner in error.get("errors") or ()
            if isinstance(inner, Mapping) and (inner.get("message") or inner.get("code"))
        )
        return ErrorInfo(str(error.get("code") or status), str(error.get("message") or ""), details)
    if isinstance(error, str):
        return ErrorInfo(error, str(body.get("error_description") or ""))
    return ErrorInfo(str(status), f"HTTP {status}")


# --- symbols ---------------------------------------------------------------------------------


def display_symbol(symbol: str, instrument_type: str) -> str:
    """Our spelling: equity options in compact OCC form, everything else as Tastytrade sends it."""
    return compact_occ(symbol) if instrument_type == EQUITY_OPTION else symbol


def wire_symbol(symbol: str, asset_class: AssetClass) -> str:
    """Tastytrade's spelling: OCC option symbols with the root padded to six characters."""
    return padded_occ(symbol) if asset_class is AssetClass.OPTION else symbol.upper()


# --- orders ----------------------------------------------------------------------------------


def _sum_fills(leg: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    quantity = cost = Decimal(0)
    for fill in leg.get("fills") or ():
        qty = to_decimal(fill.get("quantity")) or Decimal(0)
        price = to_decimal(fill.get("fill-price")) or Decimal(0)
        quantity += qty
        cost += qty * price
    return quantity, cost


def _fills(legs: Sequence[Mapping[str, Any]], size: Decimal | None) -> tuple[Decimal, Decimal | None]:
    """Filled quantity in order units and the average (net, per unit) fill price."""
    if not legs:
        return Decimal(0), None
    if len(legs) == 1:
        quantity, cost = _sum_fills(legs[0])
        return quantity, (cost / quantity if quantity else None)
    # A spread fills leg by leg; the order has filled as many units as its least-filled leg allows.
    units: list[Decimal] = []
    net = Decimal(0)
    for leg in legs:
        quantity, cost = _sum_fills(leg)
        leg_size = to_decimal(leg.get("quantity")) or Decimal(1)
        ratio = leg_size / size if size else Decimal(1)
        units.append(quantity / ratio if ratio else Decimal(0))
        net += cost if str(leg.get("action", "")).startswith("Buy") else -cost
    filled = min(units)
    return filled, (abs(net) / filled if filled else None)


def parse_tastytrade_order(raw: Mapping[str, Any]) -> BrokerOrder:
    """One order object (from place, cancel, get or the live/search lists) as a BrokerOrder."""
    legs: list[Mapping[str, Any]] = [leg for leg in raw.get("legs") or () if isinstance(leg, Mapping)]
    size = to_decimal(raw.get("size"))
    quantity = size if size is not None else (to_decimal(legs[0].get("quantity")) if legs else None)
    filled, average = _fills(legs, size)
    raw_status = str(raw.get("status") or "")
    status = STATUS_MAP.get(raw_status)
    if status is None:
        log.warning("Unknown Tastytrade order status %r; treating it as unknown", raw_status)
        status = OrderStatus.UNKNOWN
    if status is OrderStatus.NEW and filled > 0 and (quantity is None or filled < quantity):
        status = OrderStatus.PARTIALLY_FILLED
    if len(legs) == 1:
        symbol = display_symbol(str(legs[0].get("symbol", "")), str(legs[0].get("instrument-type", "")))
    else:
        symbol = str(raw.get("underlying-symbol") or "")
    updated = (
        to_datetime(raw.get("updated-at"))
        or to_datetime(raw.get("terminal-at"))
        or to_datetime(raw.get("received-at"))
        or datetime.now(UTC)
    )
    return BrokerOrder(
        client_order_id=str(raw.get("external-identifier") or ""),
        broker_order_id=str(raw["id"]) if raw.get("id") is not None else "",
        symbol=symbol,
        status=status,
        filled_quantity=filled,
        average_fill_price=average,
        updated_at=updated,
        quantity=quantity,
        reason=str(raw.get("reject-reason") or ""),
        raw_status=raw_status,
        side=_side_of(legs),
        order_type={v: k for k, v in _ORDER_TYPES.items()}.get(str(raw.get("order-type") or "")),
        limit_price=abs(price) if (price := to_decimal(raw.get("price"))) is not None else None,
        stop_price=to_decimal(raw.get("stop-trigger")),
        time_in_force=TimeInForce.GTC if str(raw.get("time-in-force") or "").startswith("GTC") else (
            TimeInForce.DAY if raw.get("time-in-force") else None
        ),
    )


def _side_of(legs: Sequence[Mapping[str, Any]]) -> Side | None:
    """The side of a single-leg order ("Buy to Open" -> buy); spreads have no one side."""
    if len(legs) != 1:
        return None
    action = str(legs[0].get("action", ""))
    if action.startswith("Buy"):
        return Side.BUY
    if action.startswith("Sell"):
        return Side.SELL
    return None


def order_of(body: Any) -> Mapping[str, Any] | None:
    """The order in a place/cancel/get answer: ``data.order`` (place) or ``data`` itself (cancel, get)."""
    data = unwrap(body)
    if isinstance(data, Mapping):
        inner = data.get("order")
        if isinstance(inner, Mapping):
            return inner
        if "legs" in data or "status" in data:
            return data
    return None


def resolve_position_effect(request: OrderRequest, held_quantity: Decimal) -> PositionEffect:
    """Open or close, from the signed quantity currently held in the order's symbol."""
    if request.position_effect is not PositionEffect.AUTO:
        return request.position_effect
    if request.side is Side.BUY:
        return PositionEffect.CLOSE if held_quantity < 0 else PositionEffect.OPEN
    return PositionEffect.CLOSE if held_quantity > 0 else PositionEffect.OPEN


def order_action(side: Side, effect: PositionEffect) -> str:
    verb = "Buy" if side is Side.BUY else "Sell"
    return f"{verb} to {'Close' if effect is PositionEffect.CLOSE else 'Open'}"


def _number(value: Decimal) -> int | str:
    """Quantities go out as JSON integers when whole (as in the docs), else as decimal text."""
    return int(value) if value == value.to_integral_value() else format(value.normalize(), "f")


def build_order_body(request: OrderRequest, effect: PositionEffect) -> dict[str, Any]:
    """The JSON for ``POST /accounts/{n}/orders`` (and its dry-run) for one single-leg order."""
    instrument = request.instrument
    body: dict[str, Any] = {
        "time-in-force": _TIME_IN_FORCE[(request.time_in_force, request.extended_hours)],
        "order-type": _ORDER_TYPES[request.order_type],
        "external-identifier": request.client_order_id,
        "legs": [
            {
                "instrument-type": EQUITY_OPTION if instrument.is_option else EQUITY,
                "symbol": wire_symbol(instrument.symbol, instrument.asset_class),
                "quantity": _number(request.quantity),
                "action": order_action(request.side, effect),
            }
        ],
    }
    if request.order_type.needs_limit:
        if request.limit_price is None:
            raise ValueError("A limit price is required for this order type.")
        # Price is unsigned; its direction travels separately as the price effect.
        body["price"] = format(abs(request.limit_price), "f")
        body["price-effect"] = "Debit" if request.side is Side.BUY else "Credit"
    if request.order_type.needs_stop:
        if request.stop_price is None:
            raise ValueError("A stop price is required for this order type.")
        body["stop-trigger"] = format(request.stop_price, "f")
    return body


def replacement_body(raw: Mapping[str, Any], change: OrderChange) -> dict[str, Any]:
    """The JSON for ``PUT /accounts/{n}/orders/{id}`` (cancel-replace): the order's terms without its
    legs, with the changed prices. The legs, and so the quantity, can't change this way."""
    kind = str(raw.get("order-type") or "")
    takes_limit, takes_stop = kind in ("Limit", "Stop Limit"), kind in ("Stop", "Stop Limit")
    if change.limit_price is not None and not takes_limit:
        raise ValueError(f"a {kind.lower()} order has no limit price to change")
    if change.stop_price is not None and not takes_stop:
        raise ValueError(f"a {kind.lower()} order has no stop price to change")
    body: dict[str, Any] = {"time-in-force": raw.get("time-in-force"), "order-type": kind}
    if raw.get("external-identifier"):
        body["external-identifier"] = raw["external-identifier"]
    if takes_limit:
        price = change.limit_price if change.limit_price is not None else to_decimal(raw.get("price"))
        if price is None:
            raise ValueError("the order's limit price is unknown")
        body["price"] = format(abs(price), "f")
        body["price-effect"] = raw.get("price-effect") or "Debit"
    if takes_stop:
        stop = change.stop_price if change.stop_price is not None else to_decimal(raw.get("stop-trigger"))
        if stop is None:
            raise ValueError("the order's stop price is unknown")
        body["stop-trigger"] = format(stop, "f")
    return body


def fold_replacements(raws: Sequence[Mapping[str, Any]]) -> list[BrokerOrder]:
    """Orders as the trader sees them: a cancel-replace leaves the old order cancelled with
    ``replacing-order-id`` and a new one with ``replaces-order-id``; both carry our external
    identifier. Each chain becomes one order: the working (newest) one's id and status, the fills of
    all, and as quantity what earlier orders filled plus the working order's size."""
    by_id = {str(raw.get("id")): raw for raw in raws}
    result = []
    for raw in raws:
        if str(raw.get("replacing-order-id") or "") in by_id:
            continue
        chain = [raw]
        for _ in raws:
            previous = by_id.get(str(chain[0].get("replaces-order-id") or ""))
            if previous is None:
                break
            chain.insert(0, previous)
        result.append(_fold_chain([parse_tastytrade_order(item) for item in chain]))
    return result


def _fold_chain(orders: Sequence[BrokerOrder]) -> BrokerOrder:
    current = orders[-1]
    if len(orders) == 1:
        return current
    filled = sum((o.filled_quantity for o in orders), Decimal(0))
    notional = sum((o.filled_quantity * (o.average_fill_price or Decimal(0)) for o in orders), Decimal(0))
    earlier = filled - current.filled_quantity
    status = current.status
    if status is OrderStatus.NEW and filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    return replace(
        current,
        client_order_id=current.client_order_id or orders[0].client_order_id,
        status=status,
        filled_quantity=filled,
        average_fill_price=notional / filled if filled else None,
        quantity=earlier + current.quantity if current.quantity is not None else None,
    )


def _signed(section: Mapping[str, Any], key: str) -> Decimal | None:
    """A ``buying-power-effect``/``fee-calculation`` amount, negative when its effect is a Debit."""
    amount = to_decimal(section.get(key))
    if amount is None:
        return None
    return -amount if section.get(f"{key}-effect") == "Debit" else amount


def parse_tastytrade_preview(body: Any, request: OrderRequest) -> OrderPreview:
    """A dry-run answer as an OrderPreview: fees, the buying-power change and any warnings."""
    data = unwrap(body)
    data = data if isinstance(data, Mapping) else {}
    effect = data.get("buying-power-effect") if isinstance(data.get("buying-power-effect"), Mapping) else {}
    fees = data.get("fee-calculation") if isinstance(data.get("fee-calculation"), Mapping) else {}
    total_fees = _signed(fees, "total-fees")
    price = request.limit_price if request.order_type.needs_limit else request.stop_price
    estimated = price * request.quantity * request.instrument.multiplier if price is not None else None
    warnings = tuple(
        str(w.get("message") or w.get("code")) for w in data.get("warnings") or () if isinstance(w, Mapping)
    )
    return OrderPreview(
        estimated_cost=estimated,
        commission=-total_fees if total_fees is not None else None,
        buying_power_effect=_signed(effect, "change-in-buying-power"),
        warnings=warnings,
    )


def preview_errors(body: Any) -> tuple[str, ...]:
    """Messages of a dry-run that answered 2xx but still lists errors."""
    data = unwrap(body)
    errors = data.get("errors") if isinstance(data, Mapping) else None
    return tuple(str(e.get("message") or e.get("code")) for e in errors or () if isinstance(e, Mapping))


# --- accounts, positions, quotes -------------------------------------------------------------


def account_type_of(account: Mapping[str, Any]) -> AccountType:
    """IRA kinds from ``account-type-name``; otherwise cash or margin from ``margin-or-cash``."""
    name = str(account.get("account-type-name") or "")
    if "IRA" in name.upper().split():
        return AccountType.IRA
    return {"Margin": AccountType.MARGIN, "Cash": AccountType.CASH}.get(
        str(account.get("margin-or-cash") or ""), AccountType.UNKNOWN
    )


def parse_tastytrade_account(
    account: Mapping[str, Any],
    balances: Mapping[str, Any],
    *,
    is_paper: bool,
    authority_level: str = "",
) -> AccountInfo:
    """An account entry of ``/customers/me/accounts`` plus its ``/balances`` as AccountInfo."""
    label_parts = [str(account.get("account-type-name") or ""), str(account.get("margin-or-cash") or "")]
    if authority_level and authority_level != "owner":
        label_parts.append(f"{authority_level} access")
    return AccountInfo(
        account_number=str(account.get("account-number") or balances.get("account-number") or ""),
        account_type=account_type_of(account),
        buying_power=to_decimal(balances.get("equity-buying-power")) or Decimal(0),
        cash=to_decimal(balances.get("cash-balance")) or Decimal(0),
        equity=to_decimal(balances.get("net-liquidating-value")) or Decimal(0),
        is_paper=is_paper,
        account_type_label=" · ".join(part for part in label_parts if part),
    )


def parse_tastytrade_positions(items: Iterable[Mapping[str, Any]]) -> list[BrokerPosition]:
    """Equity and equity-option positions; quantity is signed by ``quantity-direction``."""
    positions: list[BrokerPosition] = []
    for item in items:
        instrument_type = str(item.get("instrument-type") or "")
        if instrument_type not in (EQUITY, EQUITY_OPTION):
            log.info("Skipping a %s position: the app trades equities and equity options only", instrument_type)
            continue
        quantity = to_decimal(item.get("quantity")) or Decimal(0)
        if item.get("quantity-direction") == "Short":
            quantity = -abs(quantity)
        if quantity == 0:
            continue
        positions.append(
            BrokerPosition(
                symbol=display_symbol(str(item.get("symbol") or ""), instrument_type),
                asset_class=AssetClass.OPTION if instrument_type == EQUITY_OPTION else AssetClass.EQUITY,
                quantity=quantity,
                average_cost=to_decimal(item.get("average-open-price")) or Decimal(0),
            )
        )
    return positions


def quote_request_params(symbols: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Query parameters for ``/market-data/by-type`` and a map from compact symbol to the caller's.

    Symbols that are neither a ticker nor an OCC option symbol are left out (they can't be quoted).
    """
    equities: list[str] = []
    options: list[str] = []
    asked: dict[str, str] = {}
    for text in symbols:
        try:
            instrument = parse_symbol(text)
        except SymbolError:
            continue
        key = compact_occ(instrument.symbol)
        if key in asked:
            continue
        asked[key] = text.strip().upper()
        if instrument.is_option:
            options.append(padded_occ(instrument.symbol))
        else:
            equities.append(instrument.symbol)
    params = {}
    if equities:
        params["equity"] = ",".join(equities)
    if options:
        params["equity-option"] = ",".join(options)
    return params, asked


def parse_tastytrade_quotes(items: Iterable[Mapping[str, Any]]) -> dict[str, Quote]:
    """``/market-data/by-type`` items keyed by compact symbol; missing prices stay None."""
    quotes: dict[str, Quote] = {}
    for item in items:
        symbol = compact_occ(str(item.get("symbol") or ""))
        if not symbol:
            continue
        quotes[symbol] = Quote(
            symbol=symbol,
            bid=to_decimal(item.get("bid")),
            ask=to_decimal(item.get("ask")),
            last=to_decimal(item.get("last")),
            timestamp=to_datetime(item.get("updated-at")) or datetime.now(UTC),
            bid_size=to_decimal(item.get("bid-size")),
            ask_size=to_decimal(item.get("ask-size")),
        )
    return quotes


def _camel(key: str) -> str:
    head, *rest = key.split("-")
    return head + "".join(part.capitalize() for part in rest)


def _field(item: Mapping[str, Any], key: str) -> Any:
    """A field under its dasherized name (the official SDK's form) or its camelCase one (one developer note's)."""
    return item[key] if key in item else item.get(_camel(key))


def parse_net_liq_history(items: Iterable[Mapping[str, Any]]) -> list[EquityPoint]:
    """``GET /accounts/{n}/net-liq/history`` candles: the net liquidating value at each candle's ``close``.

    Oldest first, one point per ``time`` (the later candle wins); a candle without a readable time or
    close is no point.
    """
    points: dict[datetime, EquityPoint] = {}
    for item in items:
        at = to_datetime(_field(item, "time"))
        close = to_decimal(_field(item, "close"))
        if at is None or close is None:
            continue
        points[at] = EquityPoint(at, None, close)
    return [points[at] for at in sorted(points)]
