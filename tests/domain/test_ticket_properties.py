"""Property tests over what a trader can type: bad input is refused with a reason, never crashes, never
becomes an order it does not say."""

from __future__ import annotations

import string
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from app.domain.models import OrderRequest
from app.domain.validation import MAX_CONTRACTS, MAX_PRICE, MAX_SHARES, TicketError, build_order_request

ASCII_DIGITS = set(string.digits)

#: Decimal digits of every script but ASCII: "１００", "٣", "१२".
unicode_digits = st.text(
    st.characters(categories=["Nd"]).filter(lambda c: c not in ASCII_DIGITS), min_size=1, max_size=6
)
nan_and_infinity = st.sampled_from(["nan", "NaN", "-nan", "sNaN", "inf", "-inf", "Infinity", "-Infinity", "∞", "1e400"])
negative_or_zero = st.integers(max_value=0).map(str) | st.decimals(max_value=0, allow_nan=False, places=2).map(str)
huge = st.integers(min_value=10**39, max_value=10**60).map(str)
too_many_decimals = st.integers(min_value=1, max_value=9999).map(lambda n: f"{n}.{'0' * 30}1")
inner_whitespace = st.sampled_from(["1 00", "10\u00a00", "1\t0", "1\n0", "\u200b10", "10\u2003"]).filter(
    lambda t: t.strip() != "10"
)
bad_numbers = unicode_digits | nan_and_infinity | negative_or_zero | huge | too_many_decimals | inner_whitespace
bad_symbols = st.sampled_from(["", "   ", "ＡＡＰＬ", "ſpy", "AAPL２５０１１７C00150000", "TOOLONGSYM", "A$PL", "1ABC", "ＳＰＹ"]) | (
    st.text(min_size=1, max_size=12).filter(lambda t: not t.strip().isascii())
)


def build(**fields: object) -> OrderRequest:
    values: dict[str, object] = {"symbol": "AAPL", "side": "buy", "quantity": "10", "order_type": "market"}
    values.update(fields)
    return build_order_request(**values)  # type: ignore[arg-type]


def refused(field: str, **fields: object) -> str:
    try:
        request = build(**fields)
    except TicketError as exc:
        assert field in exc.errors, exc.errors
        message = exc.errors[field]
        assert message and message.strip() == message
        assert len(message) < 300
        return message
    raise AssertionError(f"accepted as {request!r}")


@given(bad_numbers)
@example("１００")
@example("1" + "0" * 29)
def test_bad_quantities_are_refused_with_a_reason(text: str) -> None:
    refused("quantity", quantity=text)


@given(bad_numbers)
@example("1" + "0" * 29)
@example("9" * 24)
def test_bad_limit_prices_are_refused_with_a_reason(text: str) -> None:
    refused("limit_price", order_type="limit", limit_price=text)


@given(bad_numbers)
def test_bad_stop_prices_are_refused_with_a_reason(text: str) -> None:
    refused("stop_price", order_type="stop", stop_price=text)


@given(bad_symbols)
def test_bad_symbols_are_refused_with_a_reason(text: str) -> None:
    refused("symbol", symbol=text)


def test_unicode_digits_are_never_read_as_numbers() -> None:
    assert "not a number" in refused("quantity", quantity="１００")
    assert "not a number" in refused("limit_price", order_type="limit", limit_price="１２.５０")


@given(
    symbol=st.text(max_size=25),
    side=st.text(max_size=6) | st.sampled_from(["buy", "sell"]),
    quantity=st.text(max_size=30) | st.integers().map(str),
    order_type=st.text(max_size=10) | st.sampled_from(["market", "limit", "stop", "stop_limit"]),
    limit_price=st.text(max_size=30) | st.decimals(allow_nan=True, allow_infinity=True).map(str),
    stop_price=st.text(max_size=30) | st.decimals(allow_nan=True, allow_infinity=True).map(str),
    tif=st.text(max_size=5) | st.sampled_from(["day", "gtc"]),
    extended=st.booleans(),
)
def test_any_ticket_is_either_a_sound_order_or_refused_with_reasons(
    symbol: str, side: str, quantity: str, order_type: str, limit_price: str, stop_price: str, tif: str,
    extended: bool,
) -> None:
    try:
        request = build_order_request(
            symbol=symbol, side=side, quantity=quantity, order_type=order_type, limit_price=limit_price,
            stop_price=stop_price, time_in_force=tif, extended_hours=extended,
        )
    except TicketError as exc:
        assert exc.errors and all(isinstance(m, str) and m for m in exc.errors.values())
        return
    assert request.symbol.isascii() and request.symbol == request.symbol.upper()
    cap = MAX_CONTRACTS if request.instrument.is_option else MAX_SHARES
    assert request.quantity.is_finite() and 0 < request.quantity <= cap
    assert request.quantity == request.quantity.to_integral_value()
    for price in (request.limit_price, request.stop_price):
        assert price is None or (price.is_finite() and Decimal(0) < price <= MAX_PRICE)
    # What was typed is what the order says: the quantity's digits, nothing read from other scripts.
    assert set(quantity.strip().removeprefix("$").strip().replace(",", "").split(".")[0]) <= ASCII_DIGITS
