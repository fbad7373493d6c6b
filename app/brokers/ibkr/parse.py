"""Pure IBKR mappings: connection settings, contracts and orders to TWS fields, TWS statuses and values back."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from app.brokers.base import (
    AccountInfo,
    AccountType,
    AuthError,
    BrokerError,
    BrokerOrder,
    BrokerUnavailable,
    Environment,
    EnvironmentMismatch,
)
from app.domain.models import (
    AssetClass,
    Instrument,
    OrderChange,
    OrderRequest,
    OrderStatus,
    OrderType,
    Quote,
    Side,
    TimeInForce,
)
from app.domain.symbols import SymbolError, compact_occ, padded_occ, parse_symbol

#: IB's default API ports; the trader may change them in TWS/Gateway, so they only suggest an environment.
PORT_PRESETS: Mapping[str, str] = {
    "7497": "TWS paper",
    "7496": "TWS live",
    "4002": "IB Gateway paper",
    "4001": "IB Gateway live",
}
DEFAULT_HOST = "127.0.0.1"
PAPER_ACCOUNT_PREFIX = "DU"

# TWS sends "no value" as the largest double / int (ib_insync's UNSET_DOUBLE and UNSET_INTEGER).
_UNSET_DOUBLE = 1.7976931348623157e308
_UNSET_INTEGER = 2**31 - 1

# Error codes (IB API message codes table) the connector acts on.
REJECTED = 201
CANCEL_CONFIRMED = 202
CLIENT_ID_IN_USE = 326
CANCEL_TARGET_MISSING = frozenset({135, 10147})
NOT_CANCELLABLE = frozenset({161, 10148})
IB_LINK_LOST = frozenset({1100, 2110})
IB_LINK_RESTORED = frozenset({1101, 1102})
#: "Market data farm connection is broken:usfarm" / "... is OK:usfarm"; 2108 "... is inactive but should be
#: available upon demand" is an idle farm, not a broken one.
MARKET_DATA_FARM_BROKEN = 2103
MARKET_DATA_FARM_OK = frozenset({2104, 2108})
# Codes ib_insync treats as informational on an order (wrapper.error); the order stays alive.
_ORDER_WARNINGS = frozenset({110, 165, 399, 404, 434, 492, 10167})

_IB_STATUS: Mapping[str, OrderStatus] = {
    "PendingSubmit": OrderStatus.PENDING_SUBMIT,
    "ApiPending": OrderStatus.PENDING_SUBMIT,
    # PreSubmitted is accepted by IB but held (untriggered stop, outside hours): working for the trader.
    "PreSubmitted": OrderStatus.NEW,
    "Submitted": OrderStatus.NEW,
    "PendingCancel": OrderStatus.PENDING_CANCEL,
    "ApiCancelled": OrderStatus.CANCELED,
    "Cancelled": OrderStatus.CANCELED,
    "Filled": OrderStatus.FILLED,
    # Inactive: received but not working (rejected by IB or the exchange, or not allowed now).
    "Inactive": OrderStatus.REJECTED,
    # ib_async 2.x marks a live order with a warning this way.
    "ValidationError": OrderStatus.REJECTED,
}


@dataclass(frozen=True, slots=True)
class IbkrEndpoint:
    """Where TWS/IB Gateway listens and who we are to it."""

    host: str
    port: int
    client_id: int
    account: str = ""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def parse_endpoint(credentials: Mapping[str, str], base_url: str | None = None) -> IbkrEndpoint:
    """Read the connection form; ``base_url`` ``tcp://host:port`` overrides host and port."""
    host = (credentials.get("host") or DEFAULT_HOST).strip()
    port_text = (credentials.get("port") or "").strip()
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme != "tcp" or not parts.hostname or parts.port is None:
            raise BrokerError(f"'{base_url}' is not a TWS address; use tcp://host:port.")
        host, port_text = parts.hostname, str(parts.port)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise BrokerError("Enter the TWS/IB Gateway API port, e.g. 7497 for TWS paper trading.")
    client_text = (credentials.get("client_id") or "").strip()
    if not client_text.isdigit() or int(client_text) > _UNSET_INTEGER - 1:
        raise BrokerError("The client id must be a whole number such as 1, unique per API connection.")
    account = (credentials.get("account") or "").strip().upper()
    return IbkrEndpoint(host=host, port=int(port_text), client_id=int(client_text), account=account)


def is_paper_account(account: str) -> bool:
    return account.upper().startswith(PAPER_ACCOUNT_PREFIX)


def mask_account(account: str) -> str:
    """Account numbers appear in messages and logs only by their last four characters."""
    return f"…{account[-4:]}" if account else "(none)"


def choose_account(managed: Sequence[str], wanted: str, environment: Environment) -> str:
    """The account this connection uses, refusing an unmanaged account or one of the other environment."""
    if not managed:
        raise BrokerUnavailable("TWS/IB Gateway reported no accounts for this login.")
    if wanted:
        if wanted not in managed:
            listed = ", ".join(mask_account(a) for a in managed)
            raise AuthError(
                f"Account {mask_account(wanted)} is not managed by the login running in TWS/IB Gateway "
                f"(it manages {listed}). Check the account field or log in to the right user."
            )
        account = wanted
    elif len(managed) == 1:
        account = managed[0]
    else:
        listed = ", ".join(mask_account(a) for a in managed)
        raise BrokerError(f"This login manages several accounts ({listed}); enter the one to trade in the account field.")
    paper = is_paper_account(account)
    if environment is Environment.PAPER and not paper:
        raise EnvironmentMismatch(
            f"This is a paper connection but TWS/IB Gateway is logged in to live account {mask_account(account)}. "
            "The connection was closed; log in to your paper account (paper accounts start with DU) or "
            "choose the live environment."
        )
    if environment is Environment.LIVE and paper:
        raise EnvironmentMismatch(
            f"This is a live connection but TWS/IB Gateway is logged in to paper account {mask_account(account)}. "
            "The connection was closed; log in to your live account or choose the paper environment."
        )
    return account


def ib_decimal(value: float | int | str | None) -> Decimal | None:
    """A TWS number as Decimal; None for TWS's "unset" markers, NaN and blanks.

    ib_insync hands numbers over as floats; ``str`` gives their shortest repr, which round-trips
    exactly for prices and quantities with up to 15 significant digits.
    """
    if value is None or value == "":
        return None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value) or value >= _UNSET_DOUBLE:
            return None
    elif isinstance(value, int) and value >= _UNSET_INTEGER:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return None if number.is_nan() or number >= Decimal(_UNSET_DOUBLE) else number


def ib_price(value: float | None) -> Decimal | None:
    """A quoted price; IB marks a missing side with -1 or 0, which is never a price."""
    number = ib_decimal(value)
    return number if number is not None and number > 0 else None


def ticker_quote(symbol: str, ticker: Any, *, received: datetime | None = None) -> Quote | None:
    """A quote from an ib_insync ``Ticker`` as TWS's ticks left it; None while it holds no price at all.

    Ticks 1/2/4 (66/67/68 delayed) fill bid/ask/last with their sizes; tick 9 (75) is the previous close,
    tick 8 (74) the day's volume. ``ticker.time`` is when the last batch of ticks arrived.
    """
    bid, ask, last = ib_price(ticker.bid), ib_price(ticker.ask), ib_price(ticker.last)
    if bid is None and ask is None and last is None:
        return None
    stamp = ticker.time if isinstance(ticker.time, datetime) and ticker.time.tzinfo else received or datetime.now(timezone.utc)
    return Quote(
        symbol=symbol,
        bid=bid,
        ask=ask,
        last=last,
        timestamp=stamp,
        bid_size=ib_decimal(ticker.bidSize) if bid is not None else None,
        ask_size=ib_decimal(ticker.askSize) if ask is not None else None,
        prev_close=ib_price(getattr(ticker, "close", None)),
        volume=ib_decimal(getattr(ticker, "volume", None)),
    )


@dataclass(frozen=True, slots=True)
class ContractFields:
    """The TWS contract fields for one of our instruments."""

    sec_type: str
    symbol: str = ""
    local_symbol: str = ""
    exchange: str = "SMART"
    currency: str = "USD"


def contract_fields(instrument: Instrument) -> ContractFields:
    """Stocks by ticker; US options by their OCC symbol, which is IB's ``localSymbol`` for them.

    Options are named by ``localSymbol`` alone: the OCC root is not always IB's symbol (SPXW trades
    under SPX) and IB's ``lastTradeDateOrContractMonth`` may differ from the OCC date, so sending
    those fields as well could contradict the contract.
    """
    if instrument.asset_class is AssetClass.OPTION:
        return ContractFields(sec_type="OPT", local_symbol=padded_occ(instrument.symbol))
    # IB writes share classes with a space: BRK B.
    return ContractFields(sec_type="STK", symbol=instrument.symbol.replace(".", " ").replace("/", " "))


def symbol_of(sec_type: str, symbol: str, local_symbol: str) -> str:
    """Our symbol for a TWS contract: the ticker, or the compact OCC symbol of an option."""
    if sec_type == "OPT" and local_symbol:
        try:
            return parse_symbol(compact_occ(local_symbol)).symbol
        except SymbolError:
            return compact_occ(local_symbol)
    return symbol.replace(" ", ".")


def asset_class_of(sec_type: str) -> AssetClass:
    return AssetClass.OPTION if sec_type == "OPT" else AssetClass.EQUITY


def per_unit_cost(avg_cost: Decimal, sec_type: str, multiplier: str) -> Decimal:
    """TWS reports an option's average cost per contract (premium x multiplier); we keep it per share."""
    if sec_type != "OPT":
        return avg_cost
    factor = ib_decimal(multiplier) or Decimal(100)
    return avg_cost / factor


_ORDER_TYPES: Mapping[OrderType, str] = {
    OrderType.MARKET: "MKT",
    OrderType.LIMIT: "LMT",
    OrderType.STOP: "STP",
    OrderType.STOP_LIMIT: "STP LMT",
}


@dataclass(frozen=True, slots=True)
class OrderFields:
    """The TWS order fields for one of our requests."""

    action: str
    quantity: Decimal
    order_type: str
    limit_price: Decimal | None
    aux_price: Decimal | None
    tif: str
    outside_rth: bool
    order_ref: str
    account: str


def order_fields(request: OrderRequest, account: str) -> OrderFields:
    """Map a request; our client order id travels in ``orderRef`` so the order can be found later."""
    if request.quantity <= 0:
        raise BrokerError("The order quantity must be positive.")
    if request.order_type.needs_limit and request.limit_price is None:
        raise BrokerError("This order type needs a limit price.")
    if request.order_type.needs_stop and request.stop_price is None:
        raise BrokerError("This order type needs a stop price.")
    return OrderFields(
        action="BUY" if request.side is Side.BUY else "SELL",
        quantity=request.quantity,
        order_type=_ORDER_TYPES[request.order_type],
        limit_price=request.limit_price if request.order_type.needs_limit else None,
        aux_price=request.stop_price if request.order_type.needs_stop else None,
        tif=request.time_in_force.value.upper(),
        outside_rth=request.extended_hours,
        order_ref=request.client_order_id,
        account=account,
    )


@dataclass(frozen=True, slots=True)
class ModifiedFields:
    """What a modification (placeOrder with the same orderId) sends; None keeps the order's value."""

    quantity: Decimal | None
    limit_price: Decimal | None
    aux_price: Decimal | None


def modified_fields(order_type: str, filled: Decimal, change: OrderChange) -> ModifiedFields:
    """Check a change against the live order's type and fills; TWS orders are whole shares/contracts."""
    if change.limit_price is not None and order_type not in ("LMT", "STP LMT"):
        raise ValueError(f"a {order_type} order has no limit price to change")
    if change.stop_price is not None and order_type not in ("STP", "STP LMT"):
        raise ValueError(f"a {order_type} order has no stop price to change")
    if change.quantity is not None:
        if change.quantity != change.quantity.to_integral_value():
            raise ValueError("Interactive Brokers takes whole shares and contracts only")
        if change.quantity <= filled:
            raise ValueError(f"the new quantity must be more than the {filled} already filled")
    return ModifiedFields(change.quantity, change.limit_price, change.stop_price)


def order_status(ib_status: str, filled: Decimal) -> OrderStatus:
    """Our status for a TWS status string; a working order with fills is partially filled."""
    status = _IB_STATUS.get(ib_status, OrderStatus.UNKNOWN)
    if status is OrderStatus.NEW and filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    return status


def is_order_failure(code: int) -> bool:
    """Whether an error code on an order id means the order is dead (ib_insync's own rule)."""
    return code not in _ORDER_WARNINGS and code != CANCEL_CONFIRMED and not 2100 <= code < 2200


def rejection_reason(code: int, text: str) -> str:
    """IB's own words without the boilerplate prefix, with the code for anything but a plain rejection."""
    reason = text.split("reason:", 1)[1].strip() if "reason:" in text else text.strip()
    if code == REJECTED:
        return reason or "rejected by Interactive Brokers"
    return f"{reason or 'error'} (IB error {code})"


@dataclass(frozen=True, slots=True)
class OrderReport:
    """What TWS said about one order at one moment, in plain values."""

    order_ref: str
    perm_id: int
    symbol: str
    ib_status: str
    filled: Decimal
    avg_fill_price: Decimal | None = None
    quantity: Decimal | None = None
    reason: str = ""
    side: Side | None = None
    #: The commission of the order's executions TWS has reported a commission for; None before any.
    commission: Decimal | None = None
    #: What was ordered, as TWS reports it (orders placed in TWS itself are adopted with these).
    order_type: OrderType | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce | None = None


def side_of(action: str) -> Side | None:
    """TWS's order action as a side; None when TWS did not say (an empty or unknown action)."""
    return {"BUY": Side.BUY, "SELL": Side.SELL, "SSHORT": Side.SELL}.get((action or "").upper())


def order_prices(order_type: str, lmt_price: float | None, aux_price: float | None) -> tuple[Decimal | None, Decimal | None]:
    """(limit, stop) of a TWS order: ``lmtPrice`` for LMT and STP LMT, ``auxPrice`` (the trigger) for STP and STP LMT."""
    limit = ib_price(lmt_price) if order_type in ("LMT", "STP LMT") else None
    stop = ib_price(aux_price) if order_type in ("STP", "STP LMT") else None
    return limit, stop


_TWS_ORDER_TYPES = {tws: ours for ours, tws in _ORDER_TYPES.items()}
_TIMES_IN_FORCE = {"DAY": TimeInForce.DAY, "GTC": TimeInForce.GTC}


def ordered_terms(
    order_type: str, limit: float | None, aux: float | None, tif: str
) -> tuple[OrderType | None, Decimal | None, Decimal | None, TimeInForce | None]:
    """TWS's orderType, lmtPrice, auxPrice and tif as our terms; None where TWS did not say or we have no word."""
    kind = _TWS_ORDER_TYPES.get((order_type or "").upper())
    limit_price = ib_price(limit) if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
    stop_price = ib_price(aux) if kind in (OrderType.STOP, OrderType.STOP_LIMIT) else None
    return kind, limit_price, stop_price, _TIMES_IN_FORCE.get((tif or "").upper())


def merge_report(previous: BrokerOrder | None, report: OrderReport, now: datetime) -> BrokerOrder:
    """Fold a report into what we knew: finished orders stay finished, a rejection is not overwritten
    by the cancel TWS reports after it, and fills never go backwards."""
    status = order_status(report.ib_status, report.filled)
    average = report.avg_fill_price if report.avg_fill_price else None
    if previous is None:
        return BrokerOrder(
            client_order_id=report.order_ref,
            broker_order_id=str(report.perm_id) if report.perm_id else "",
            symbol=report.symbol,
            status=status,
            filled_quantity=report.filled,
            average_fill_price=average,
            updated_at=now,
            quantity=report.quantity,
            reason=report.reason,
            raw_status=report.ib_status,
            side=report.side,
            commission=report.commission,
            order_type=report.order_type,
            limit_price=report.limit_price,
            stop_price=report.stop_price,
            time_in_force=report.time_in_force,
        )
    keep = previous.status.is_terminal and (not status.is_terminal or previous.status is OrderStatus.REJECTED)
    filled = max(previous.filled_quantity, report.filled)
    if keep:
        status = previous.status
    elif status is OrderStatus.NEW and filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    return replace(
        previous,
        broker_order_id=str(report.perm_id) if report.perm_id else previous.broker_order_id,
        symbol=report.symbol or previous.symbol,
        status=status,
        filled_quantity=filled,
        average_fill_price=average or previous.average_fill_price,
        updated_at=now,
        quantity=report.quantity or previous.quantity,
        limit_price=report.limit_price or previous.limit_price,
        stop_price=report.stop_price or previous.stop_price,
        reason=report.reason or previous.reason,
        raw_status=previous.raw_status if keep else report.ib_status,
        side=report.side or previous.side,
        order_type=report.order_type or previous.order_type,
        time_in_force=report.time_in_force or previous.time_in_force,
        commission=report.commission if report.commission is not None else previous.commission,
    )


def fill_totals(executions: Iterable[tuple[Decimal, Decimal]]) -> tuple[Decimal, Decimal | None]:
    """Total quantity and volume-weighted price of ``(shares, price)`` executions."""
    quantity = Decimal(0)
    notional = Decimal(0)
    for shares, price in executions:
        quantity += shares
        notional += shares * price
    return quantity, (notional / quantity if quantity else None)


_SUMMARY_TAGS = ("NetLiquidation", "TotalCashValue", "BuyingPower")


def account_info(account: str, values: Iterable[tuple[str, str, str]]) -> AccountInfo:
    """Build AccountInfo from ``(tag, value, currency)`` account-summary rows of one account."""
    rows = list(values)
    base = next((cur for tag, _, cur in rows if tag == "NetLiquidation" and cur), "USD")
    found: dict[str, Decimal] = {}
    label = ""
    for tag, value, currency in rows:
        if tag == "AccountType":
            label = value
        elif tag in _SUMMARY_TAGS and currency in (base, ""):
            number = ib_decimal(value)
            if number is not None:
                found[tag] = number
    missing = [tag for tag in _SUMMARY_TAGS if tag not in found]
    if missing:
        raise BrokerUnavailable(f"TWS/IB Gateway did not report {', '.join(missing)} for the account.")
    # IB's AccountType says who owns the account (INDIVIDUAL, JOINT, IRA...), not cash or margin.
    kind = AccountType.IRA if "IRA" in label.upper() else AccountType.UNKNOWN
    return AccountInfo(
        account_number=account,
        account_type=kind,
        buying_power=found["BuyingPower"],
        cash=found["TotalCashValue"],
        equity=found["NetLiquidation"],
        is_paper=is_paper_account(account),
        account_type_label=label,
        currency=base,
    )
