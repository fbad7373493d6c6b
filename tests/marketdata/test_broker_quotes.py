"""BrokerQuoteSource over a small in-test Broker: symbols passed through, errors translated, broker left open."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.brokers.base import (
    AccountInfo,
    AuthError,
    Broker,
    BrokerError,
    BrokerOrder,
    BrokerPosition,
    BrokerUnavailable,
    Environment,
    OrderPreview,
    OrderRef,
    RateLimited,
)
from app.domain.equity_curve import EquityPoint
from app.domain.models import Bar, BarInterval, OrderChange, OrderRequest, Quote
from app.marketdata.base import QuoteSource, QuoteUnavailable
from app.marketdata.broker_quotes import BrokerQuoteSource

AT = datetime(2026, 7, 24, 19, 59, 59, tzinfo=UTC)


class QuotingBroker:
    """A broker account that only answers quotes; the adapter must call nothing else."""

    name = "Tradier"
    environment = Environment.PAPER

    def __init__(self, book: dict[str, Quote], error: Exception | None = None) -> None:
        self.book = book
        self.error = error
        self.calls: list[list[str]] = []
        self.closed = False

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        asked = list(symbols)
        self.calls.append(asked)
        if self.error is not None:
            raise self.error
        # Like some real connectors, it answers with everything it has, asked or not.
        return dict(self.book)

    async def close(self) -> None:
        self.closed = True

    def _unexpected(self, call: str) -> AssertionError:
        return AssertionError(f"the quote adapter must not call {call}()")

    async def verify(self) -> AccountInfo:
        raise self._unexpected("verify")

    async def place_order(self, request: OrderRequest) -> BrokerOrder:
        raise self._unexpected("place_order")

    async def preview_order(self, request: OrderRequest) -> OrderPreview:
        raise self._unexpected("preview_order")

    async def replace_order(self, ref: OrderRef, change: OrderChange) -> BrokerOrder:
        raise self._unexpected("replace_order")

    async def cancel_order(self, ref: OrderRef) -> BrokerOrder:
        raise self._unexpected("cancel_order")

    async def get_order(self, client_order_id: str) -> BrokerOrder | None:
        raise self._unexpected("get_order")

    async def bars(self, symbol: str, interval: BarInterval, start: datetime, end: datetime) -> list[Bar]:
        raise self._unexpected("bars")

    async def equity_history(self, since: datetime) -> list[EquityPoint]:
        raise self._unexpected("equity_history")

    async def list_orders(self) -> list[BrokerOrder]:
        raise self._unexpected("list_orders")

    async def positions(self) -> list[BrokerPosition]:
        raise self._unexpected("positions")


def quote(symbol: str, bid: str, ask: str) -> Quote:
    return Quote(symbol=symbol, bid=Decimal(bid), ask=Decimal(ask), last=None, timestamp=AT)


BOOK = {
    "AAPL": quote("AAPL", "212.76", "212.89"),
    "AAPL250117C00150000": quote("AAPL250117C00150000", "62.10", "63.00"),
    "MSFT": quote("MSFT", "450.01", "450.20"),
}


def test_the_in_test_broker_and_the_adapter_fit_their_protocols() -> None:
    broker = QuotingBroker(BOOK)
    assert isinstance(broker, Broker)
    assert isinstance(BrokerQuoteSource(broker), QuoteSource)


def test_names_the_broker_and_is_live_unless_told() -> None:
    assert BrokerQuoteSource(QuotingBroker(BOOK)).name == "Tradier market data"
    assert BrokerQuoteSource(QuotingBroker(BOOK)).delayed is False
    assert BrokerQuoteSource(QuotingBroker(BOOK), delayed=True).delayed is True


async def test_asks_for_canonical_symbols_and_returns_only_those() -> None:
    broker = QuotingBroker(BOOK)

    found = await BrokerQuoteSource(broker).quotes(["aapl", "AAPL  250117C00150000", "AAPL", "???", "ZZZZ"])

    assert broker.calls == [["AAPL", "AAPL250117C00150000", "ZZZZ"]]
    assert found == {"AAPL": BOOK["AAPL"], "AAPL250117C00150000": BOOK["AAPL250117C00150000"]}


async def test_nothing_to_ask_makes_no_call() -> None:
    broker = QuotingBroker(BOOK)

    assert await BrokerQuoteSource(broker).quotes(["", "not a symbol"]) == {}
    assert broker.calls == []


@pytest.mark.parametrize(
    "error",
    [
        BrokerUnavailable("Tradier could not be reached (ConnectError)."),
        RateLimited("Tradier is rate limiting requests.", retry_after=2.0),
        AuthError("Tradier rejected the access token; reconnect in Settings."),
    ],
    ids=["unavailable", "rate-limited", "auth"],
)
async def test_broker_errors_become_quote_unavailable(error: BrokerError) -> None:
    source = BrokerQuoteSource(QuotingBroker(BOOK, error=error))

    with pytest.raises(QuoteUnavailable) as raised:
        await source.quotes(["AAPL"])

    assert str(raised.value) == str(error)
    assert raised.value.__cause__ is error
    assert raised.value.partial == {} and raised.value.failed == ()


async def test_other_exceptions_are_not_disguised() -> None:
    source = BrokerQuoteSource(QuotingBroker(BOOK, error=KeyError("bid")))

    with pytest.raises(KeyError):
        await source.quotes(["AAPL"])


async def test_closing_the_source_leaves_the_broker_connected() -> None:
    broker = QuotingBroker(BOOK)
    source = BrokerQuoteSource(broker)

    await source.close()

    assert broker.closed is False
    assert await source.quotes(["MSFT"]) == {"MSFT": BOOK["MSFT"]}
