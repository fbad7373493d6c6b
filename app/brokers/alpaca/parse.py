"""Pure parsers from Alpaca's wire format (Trading API v2, Market Data v2/v1beta1 and its stream) to broker records."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import msgpack

from app.brokers.base import AccountInfo, AccountType, BrokerOrder, BrokerPosition
from app.domain.equity_curve import EquityPoint
from app.domain.models import AssetClass, OrderStatus, OrderType, Quote, Side, TimeInForce

#: Every status of alpaca-py's ``OrderStatus`` enum (alpaca/trading/enums.py) mapped onto ours.
#: Statuses meaning "still working" map to NEW and become PARTIALLY_FILLED when shares have filled.
ORDER_STATUS_MAP: Mapping[str, OrderStatus] = {
    "new": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    # GTC order that stopped executing for today; it works again tomorrow.
    "done_for_day": OrderStatus.NEW,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    # This order was replaced by another (``replaced_by``); it will never fill itself.
    "replaced": OrderStatus.CANCELED,
    "pending_cancel": OrderStatus.PENDING_CANCEL,
    # The order keeps working until the replacement is accepted.
    "pending_replace": OrderStatus.NEW,
    # Received by Alpaca but not yet routed/acknowledged by a venue.
    "pending_review": OrderStatus.PENDING_SUBMIT,
    "accepted": OrderStatus.PENDING_SUBMIT,
    "pending_new": OrderStatus.PENDING_SUBMIT,
    # Accepted into an auction; working.
    "accepted_for_bidding": OrderStatus.NEW,
    # A fill is guaranteed but has not happened yet.
    "stopped": OrderStatus.NEW,
    "rejected": OrderStatus.REJECTED,
    # Not eligible for trading right now, but still open.
    "suspended": OrderStatus.NEW,
    # Done for the day, settlement figures pending.
    "calculated": OrderStatus.NEW,
    # Waiting on a trigger (e.g. a bracket leg).
    "held": OrderStatus.NEW,
}

_ASSET_CLASSES: Mapping[str, AssetClass] = {"us_equity": AssetClass.EQUITY, "us_option": AssetClass.OPTION}

#: ``multiplier`` of GET /v2/account -> (our type, label). Alpaca has no cash/margin field: every account
#: is opened as a margin account, and "1" is its "limited margin account with 1x buying power", which
#: trades like a cash account (no leverage), so we call it CASH (account-v2.yaml; docs "Account Plans").
_MULTIPLIER_TYPES: Mapping[Decimal, tuple[AccountType, str]] = {
    Decimal(1): (AccountType.CASH, "Limited margin, 1x buying power (trades like cash)"),
    Decimal(2): (AccountType.MARGIN, "Reg T margin, 2x buying power"),
    Decimal(4): (AccountType.MARGIN, "Pattern day trader margin, 4x intraday buying power"),
}


class AlpacaParseError(ValueError):
    """A payload did not have the shape Alpaca documents."""


def to_decimal(value: Any) -> Decimal | None:
    """A decimal from Alpaca's numbers: strings on the Trading API, JSON numbers on the Data API.

    Floats go through ``str`` so ``161.11`` stays ``Decimal("161.11")`` rather than its binary expansion.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise AlpacaParseError(f"not a number: {value!r}")
    if isinstance(value, float):
        value = repr(value)
    try:
        result = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise AlpacaParseError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise AlpacaParseError(f"not a finite number: {value!r}")
    return result


def _required_decimal(raw: Mapping[str, Any], key: str) -> Decimal:
    value = to_decimal(raw.get(key))
    if value is None:
        raise AlpacaParseError(f"missing '{key}'")
    return value


def parse_timestamp(value: Any) -> datetime | None:
    """RFC 3339 with up to nanoseconds ('2022-03-18T14:02:43.651613184Z') -> aware UTC datetime."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise AlpacaParseError(f"not a timestamp: {value!r}")
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        # Python keeps microseconds; Alpaca sends nanoseconds on many fields.
        text = f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise AlpacaParseError(f"not a timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def map_order_status(raw_status: str, filled_quantity: Decimal) -> OrderStatus:
    """Alpaca's status word -> ours; unknown words stay UNKNOWN rather than being guessed."""
    status = ORDER_STATUS_MAP.get((raw_status or "").strip().lower(), OrderStatus.UNKNOWN)
    if status is OrderStatus.NEW and filled_quantity > 0:
        return OrderStatus.PARTIALLY_FILLED
    return status


def parse_alpaca_order(raw: Mapping[str, Any]) -> BrokerOrder:
    """One Alpaca order object (POST/GET /v2/orders...) -> BrokerOrder."""
    try:
        broker_id = str(raw["id"])
        client_id = str(raw["client_order_id"])
    except KeyError as exc:
        raise AlpacaParseError(f"order without '{exc.args[0]}'") from exc
    filled = to_decimal(raw.get("filled_qty")) or Decimal(0)
    raw_status = str(raw.get("status") or "")
    status = map_order_status(raw_status, filled)
    average = to_decimal(raw.get("filled_avg_price"))
    updated = (
        parse_timestamp(raw.get("updated_at"))
        or parse_timestamp(raw.get("submitted_at"))
        or parse_timestamp(raw.get("created_at"))
    )
    if updated is None:
        raise AlpacaParseError("order without a timestamp")
    reason = ""
    if raw_status == "replaced" and raw.get("replaced_by"):
        reason = f"replaced by order {raw['replaced_by']}"
    elif status is OrderStatus.REJECTED:
        # Alpaca's order object carries no rejection text, only the time it failed.
        reason = "rejected by Alpaca"
    return BrokerOrder(
        client_order_id=client_id,
        broker_order_id=broker_id,
        symbol=str(raw.get("symbol") or ""),
        status=status,
        filled_quantity=filled,
        # Alpaca's mocks send 0 instead of null before any fill; there is no fill price then.
        average_fill_price=average if average and filled > 0 else None,
        updated_at=updated,
        quantity=to_decimal(raw.get("qty")),
        reason=reason,
        raw_status=raw_status,
        side=_SIDES.get(str(raw.get("side") or "").lower()),
        order_type=_TYPES.get(str(raw.get("type") or raw.get("order_type") or "").lower()),
        limit_price=to_decimal(raw.get("limit_price")),
        stop_price=to_decimal(raw.get("stop_price")),
        time_in_force=_TIFS.get(str(raw.get("time_in_force") or "").lower()),
    )


_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_TYPES = {t.value: t for t in OrderType}
_TIFS = {t.value: t for t in TimeInForce}


def parse_alpaca_orders(raw: Any) -> list[BrokerOrder]:
    if not isinstance(raw, list):
        raise AlpacaParseError("order list is not a JSON array")
    return [parse_alpaca_order(item) for item in raw]


def replaced_by(raw: Mapping[str, Any]) -> str | None:
    """The id of the order that replaced this one (``PATCH /v2/orders/{id}``), if it was replaced."""
    successor = raw.get("replaced_by")
    return str(successor) if raw.get("status") == "replaced" and successor else None


def fold_replacement_chain(chain: Sequence[Mapping[str, Any]]) -> BrokerOrder:
    """One order from the original and the orders that replaced it, oldest first.

    Alpaca replaces an order by a new one with its own ids; to the trader it is one order: our
    client order id (the original's), the working order's broker id and status, every fill of the
    chain, and as quantity what was filled before the last replacement plus the working order's size.
    """
    if not chain:
        raise AlpacaParseError("empty replacement chain")
    orders = [parse_alpaca_order(raw) for raw in chain]
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
        client_order_id=orders[0].client_order_id,
        status=status,
        filled_quantity=filled,
        average_fill_price=notional / filled if filled else None,
        quantity=earlier + current.quantity if current.quantity is not None else None,
    )


def fold_replacements(raws: Sequence[Mapping[str, Any]]) -> list[BrokerOrder]:
    """A listed set of orders with every replacement chain folded into one order (see above)."""
    by_id = {str(raw.get("id")): raw for raw in raws}
    result = []
    for raw in raws:
        if replaced_by(raw) is not None:
            continue
        chain = [raw]
        while (previous := by_id.get(str(chain[0].get("replaces") or ""))) is not None and len(chain) < len(raws):
            chain.insert(0, previous)
        result.append(fold_replacement_chain(chain))
    return result


def looks_like_paper_account(account_number: str) -> bool:
    """Paper account numbers start with 'PA' (observed convention; Alpaca does not document it)."""
    return account_number.strip().upper().startswith("PA")


def account_type_from_multiplier(multiplier: Any) -> tuple[AccountType, str]:
    try:
        value = to_decimal(multiplier)
    except AlpacaParseError:
        value = None
    if value is None:
        return AccountType.UNKNOWN, ""
    return _MULTIPLIER_TYPES.get(value, (AccountType.UNKNOWN, f"Margin multiplier {value}"))


def parse_alpaca_account(raw: Mapping[str, Any], *, is_paper: bool) -> AccountInfo:
    """GET /v2/account -> AccountInfo. ``is_paper`` comes from the environment the caller connected to."""
    number = str(raw.get("account_number") or "")
    if not number:
        raise AlpacaParseError("account without 'account_number'")
    account_type, label = account_type_from_multiplier(raw.get("multiplier"))
    equity = to_decimal(raw.get("equity"))
    if equity is None:
        equity = to_decimal(raw.get("portfolio_value"))
    return AccountInfo(
        account_number=number,
        account_type=account_type,
        buying_power=_required_decimal(raw, "buying_power"),
        cash=_required_decimal(raw, "cash"),
        equity=equity if equity is not None else Decimal(0),
        is_paper=is_paper,
        account_type_label=label,
        currency=str(raw.get("currency") or "USD"),
    )


def parse_alpaca_position(raw: Mapping[str, Any]) -> BrokerPosition:
    """One GET /v2/positions item. Short positions come with ``side: short``; the quantity is made negative."""
    quantity = _required_decimal(raw, "qty")
    if str(raw.get("side") or "").lower() == "short" and quantity > 0:
        quantity = -quantity
    asset_class = _ASSET_CLASSES.get(str(raw.get("asset_class") or "us_equity"))
    if asset_class is None:
        raise AlpacaParseError(f"unsupported asset class {raw.get('asset_class')!r}")
    return BrokerPosition(
        symbol=str(raw.get("symbol") or ""),
        asset_class=asset_class,
        quantity=quantity,
        # Per share for stocks and per share of premium for options: the price the contract is quoted in.
        average_cost=_required_decimal(raw, "avg_entry_price"),
        market_value=to_decimal(raw.get("market_value")),
    )


def parse_alpaca_positions(raw: Any) -> list[BrokerPosition]:
    if not isinstance(raw, list):
        raise AlpacaParseError("position list is not a JSON array")
    positions = []
    for item in raw:
        if str(item.get("asset_class") or "us_equity") in _ASSET_CLASSES:
            positions.append(parse_alpaca_position(item))
    return positions


def parse_alpaca_portfolio_history(raw: Any) -> list[EquityPoint]:
    """``GET /v2/account/portfolio/history``: the equity at each ``timestamp`` (unix seconds), oldest first.

    ``timestamp`` and ``equity`` are parallel arrays; an equity of null (the account was not funded
    yet) is no point at all, and a time sent twice counts once (the later value).
    """
    if not isinstance(raw, Mapping):
        raise AlpacaParseError("the portfolio history is not an object")
    stamps, values = raw.get("timestamp") or [], raw.get("equity") or []
    if not isinstance(stamps, list) or not isinstance(values, list):
        raise AlpacaParseError("the portfolio history's timestamp and equity are not lists")
    if len(stamps) != len(values):
        raise AlpacaParseError(f"the portfolio history has {len(stamps)} times for {len(values)} equity values")
    points: dict[datetime, EquityPoint] = {}
    for stamp, value in zip(stamps, values):
        equity = to_decimal(value)
        if equity is None:
            continue
        if isinstance(stamp, bool) or not isinstance(stamp, int | float):
            raise AlpacaParseError(f"not a unix time: {stamp!r}")
        at = datetime.fromtimestamp(int(stamp), tz=timezone.utc)
        points[at] = EquityPoint(at, None, equity)
    return [points[at] for at in sorted(points)]


def _price(value: Any) -> Decimal | None:
    # The data API sends 0 for a missing side of the book (e.g. an option nobody bids for).
    price = to_decimal(value)
    return price if price is not None and price > 0 else None


def _quote_from(symbol: str, quote: Mapping[str, Any] | None, trade: Mapping[str, Any] | None) -> Quote | None:
    if not quote and not trade:
        return None
    quote = quote or {}
    trade = trade or {}
    timestamp = parse_timestamp(quote.get("t")) or parse_timestamp(trade.get("t"))
    if timestamp is None:
        return None
    return Quote(
        symbol=symbol,
        bid=_price(quote.get("bp")),
        ask=_price(quote.get("ap")),
        last=_price(trade.get("p")),
        timestamp=timestamp,
        bid_size=to_decimal(quote.get("bs")),
        ask_size=to_decimal(quote.get("as")),
    )


def parse_alpaca_quotes(
    quotes: Mapping[str, Mapping[str, Any]] | None, trades: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, Quote]:
    """Latest quotes ``{"AAPL": {"bp", "ap", ...}}`` and latest trades ``{"AAPL": {"p", ...}}`` -> quotes.

    These are the inner mappings of ``{"quotes": {...}}`` / ``{"trades": {...}}``; symbols the API
    doesn't know are simply absent there, and so here.
    """
    quotes = quotes or {}
    trades = trades or {}
    result: dict[str, Quote] = {}
    for symbol in dict.fromkeys([*quotes, *trades]):
        parsed = _quote_from(symbol, quotes.get(symbol), trades.get(symbol))
        if parsed is not None:
            result[symbol] = parsed
    return result


def parse_alpaca_option_snapshots(snapshots: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Quote]:
    """Option snapshots ``{"AAPL250117C00150000": {"latestQuote": {...}, "latestTrade": {...}}}`` -> quotes."""
    result: dict[str, Quote] = {}
    for symbol, snapshot in (snapshots or {}).items():
        if not snapshot:
            continue
        parsed = _quote_from(symbol, snapshot.get("latestQuote"), snapshot.get("latestTrade"))
        if parsed is not None:
            result[symbol] = parsed
    return result


def parse_error_body(text: str | None) -> tuple[int | None, str]:
    """Alpaca's ``{"code": 40310000, "message": "..."}`` -> (code, message); HTML or text bodies degrade gracefully."""
    text = (text or "").strip()
    if not text:
        return None, ""
    try:
        body = json.loads(text)
    except ValueError:
        # nginx answers some auth failures with an HTML page; its text is no message for a trader.
        return None, "" if text.startswith("<") else text[:200]
    if not isinstance(body, dict):
        return None, text[:200]
    code = body.get("code")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    message = body.get("message")
    return code, str(message).strip() if message is not None else ""


# ---- the market-data stream (wss://stream.data.alpaca.markets/v2/iex) ----------------------------


class StreamRefused(Exception):
    """An ``error`` message from the market-data stream; ``code`` is Alpaca's (402 auth failed, 406 …)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


#: Stream error codes that end the connection's use (the rest, e.g. 405 symbol limit, are reported and ignored).
STREAM_FATAL = {401: "not authenticated", 402: "auth failed", 404: "auth timeout", 406: "connection limit exceeded",
                407: "slow client", 409: "insufficient subscription"}


def stream_messages(frame: bytes | str) -> list[dict[str, Any]]:
    """One websocket frame as its messages: msgpack when binary (alpaca-py asks for it), JSON when text."""
    decoded = json.loads(frame) if isinstance(frame, str) else msgpack.unpackb(frame, raw=False)
    if isinstance(decoded, Mapping):
        decoded = [decoded]
    if not isinstance(decoded, list):
        raise ValueError("a market-data stream frame is a list of messages")
    return [dict(m) for m in decoded if isinstance(m, Mapping)]


def stream_time(value: object) -> datetime:
    """A stream timestamp: a msgpack Timestamp (binary frames) or RFC 3339 text with nanoseconds (JSON)."""
    if isinstance(value, msgpack.Timestamp):
        return value.to_datetime()
    if isinstance(value, str):
        text = value.replace("Z", "+00:00")
        head, dot, rest = text.partition(".")
        if dot:
            digits = "".join(ch for ch in rest if ch.isdigit())
            text = f"{head}.{digits[:6]}{rest[len(digits):]}"
        stamp = datetime.fromisoformat(text)
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)
    raise ValueError(f"not a stream timestamp: {value!r}")


def check_stream_control(message: Mapping[str, Any]) -> None:
    """Raise ``StreamRefused`` for an ``error`` message; other messages pass."""
    if message.get("T") == "error":
        code = int(message.get("code") or 0)
        raise StreamRefused(code, str(message.get("msg") or STREAM_FATAL.get(code, "error")))


def apply_stream_message(previous: Quote | None, message: Mapping[str, Any]) -> Quote | None:
    """Fold one ``q`` (quote: bp/bs, ap/as) or ``t`` (trade: p) message into the symbol's latest quote.

    A quote keeps the last trade it had; a trade keeps the bid and ask. Other messages give None.
    """
    kind, symbol = message.get("T"), message.get("S")
    if kind not in ("q", "t") or not isinstance(symbol, str):
        return None
    stamp = stream_time(message.get("t"))
    if kind == "q":
        bid, ask = to_decimal(message.get("bp")), to_decimal(message.get("ap"))
        return Quote(
            symbol=symbol,
            bid=bid if bid else None,
            ask=ask if ask else None,
            last=previous.last if previous else None,
            timestamp=stamp,
            bid_size=to_decimal(message.get("bs")) if bid else None,
            ask_size=to_decimal(message.get("as")) if ask else None,
            prev_close=previous.prev_close if previous else None,
            volume=previous.volume if previous else None,
        )
    price = to_decimal(message.get("p"))
    if not price:
        return previous
    if previous is None:
        return Quote(symbol=symbol, bid=None, ask=None, last=price, timestamp=stamp)
    return Quote(
        symbol=symbol, bid=previous.bid, ask=previous.ask, last=price, timestamp=max(stamp, previous.timestamp),
        bid_size=previous.bid_size, ask_size=previous.ask_size, prev_close=previous.prev_close, volume=previous.volume,
    )
