"""Entry safety through the app: bad tickets never reach a broker, unknown or unreachable symbols, and
a failing option quote that no longer blanks the stocks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.brokers.alpaca.connector import AlpacaBroker
from app.brokers.base import BrokerUnavailable, Environment
from app.domain.models import OrderStatus, Quote
from app.main import AppServices, start_app
from app.marketdata.base import QuoteUnavailable
from app.marketdata.broker_quotes import BrokerQuoteSource
from app.storage.schema import OrderRow
from tests.conftest import QtLoop
from tests.domain.test_ticket_properties import bad_numbers, bad_symbols
from tests.fakes.alpaca import KEY_ID, SECRET_KEY, FakeAlpaca
from tests.gui.conftest import FixedClock

OPTION = "AAPL270115C00200000"


@pytest.fixture
def fake_alpaca() -> Iterator[FakeAlpaca]:
    fake = FakeAlpaca().start()
    fake.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    try:
        yield fake
    finally:
        fake.stop()


async def _start(qtbot, app_paths, quotes, clock) -> AppServices:
    services = await start_app(app_paths, quotes=quotes, clock=clock, poll_interval=3600)
    qtbot.addWidget(services.window)
    return services


async def _stop(services: AppServices) -> None:
    services.window.close()
    await services.shutdown()


async def _order_rows(services: AppServices) -> list[OrderRow]:
    return await services.worker.run(lambda s: list(s.query(OrderRow)))


class OptionShyBroker:
    """A connected broker whose quote request fails as a whole whenever it names an option."""

    name = "Tradier"
    environment = Environment.PAPER

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.prices = {"AAPL": (Decimal("189.50"), Decimal("189.60"))}

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        asked = list(symbols)
        if any(len(s) > 6 for s in asked):
            raise BrokerUnavailable("Tradier answered with an error (500).")
        return {
            s: Quote(symbol=s, bid=bid, ask=ask, last=ask, timestamp=self.clock())
            for s in asked
            if s in self.prices
            for (bid, ask) in [self.prices[s]]
        }


class Unreachable:
    name = "test feed"
    delayed = False

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        raise QuoteUnavailable("the test feed could not be reached")

    async def close(self) -> None:
        return None


def test_bad_tickets_never_reach_the_broker_and_book_nothing(qtbot, qt_loop: QtLoop, app_paths, clock, fake_alpaca):
    broker = AlpacaBroker({"api_key_id": KEY_ID, "api_secret_key": SECRET_KEY}, Environment.PAPER,
                          base_url=fake_alpaca.url)
    services = qt_loop.run(_start(qtbot, app_paths, BrokerQuoteSource(broker), clock))
    rejections: list[dict[str, str]] = []
    services.paper.ticket_rejected.connect(rejections.append)
    before = len(fake_alpaca.server.requests)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        field=st.sampled_from(["quantity", "limit_price", "symbol"]),
        number=bad_numbers,
        symbol=bad_symbols,
    )
    def bad_ticket_is_refused(field: str, number: str, symbol: str) -> None:
        ticket: dict[str, object] = {"symbol": "AAPL", "side": "buy", "quantity": "10", "order_type": "limit",
                                     "limit_price": "189.00"}
        ticket[field] = symbol if field == "symbol" else number
        rejections.clear()
        assert qt_loop.run(services.paper.submit(ticket)) is None
        assert len(rejections) == 1 and field in rejections[0] and rejections[0][field]

    try:
        bad_ticket_is_refused()
        assert len(fake_alpaca.server.requests) == before
        assert fake_alpaca.order_requests() == []
        assert services.paper.engine.orders == {}
        assert qt_loop.run(_order_rows(services)) == []
        assert services.paper.engine.cash == Decimal("100000")
    finally:
        qt_loop.run(_stop(services))
        qt_loop.run(broker.close())


def test_an_open_option_order_no_longer_blanks_stock_quotes(qtbot, qt_loop: QtLoop, app_paths, clock):
    broker = OptionShyBroker(clock)

    async def scenario() -> None:
        services = await _start(qtbot, app_paths, BrokerQuoteSource(broker), clock)  # type: ignore[arg-type]
        paper = services.paper
        option = await paper.submit(
            {"symbol": OPTION, "side": "buy", "quantity": "1", "order_type": "limit", "limit_price": "5.00"}
        )
        assert option is not None
        resting = paper.engine.orders[option]
        assert resting.status is OrderStatus.NEW
        row = next(r for r in await _order_rows(services) if r.client_order_id == option)
        assert row.status_reason.startswith("unverified symbol")

        stock = await paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "10", "order_type": "market"})
        assert stock is not None and stock not in paper.engine.orders  # filled, and released by the engine
        assert paper.engine.positions["AAPL"].quantity == Decimal(10)

        broker.prices["AAPL"] = (Decimal("190.50"), Decimal("190.60"))
        statuses: list[str] = []
        paper.quotes_status.connect(statuses.append)
        await paper.refresh()
        assert paper.engine.summary(paper._marks).equity == Decimal("100000") - Decimal("1896.00") + Decimal("1905.50")
        assert "unavailable for " + OPTION in statuses[-1]
        await _stop(services)

    qt_loop.run(scenario())


def test_without_quotes_market_orders_are_refused_and_limits_rest_unverified(qtbot, qt_loop, app_paths, clock):
    async def scenario() -> None:
        services = await _start(qtbot, app_paths, Unreachable(), clock)
        paper = services.paper
        refused: list[dict[str, str]] = []
        paper.ticket_rejected.connect(refused.append)
        assert await paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "1", "order_type": "market"}) is None
        assert refused[-1]["symbol"].startswith("Quotes can't be reached right now, so AAPL can't be checked")
        assert paper.engine.orders == {}
        coid = await paper.submit(
            {"symbol": "AAPL", "side": "buy", "quantity": "1", "order_type": "limit", "limit_price": "150.00"}
        )
        assert coid is not None and paper.engine.orders[coid].status is OrderStatus.NEW
        rows = await _order_rows(services)
        assert [r.status_reason.split(";")[0] for r in rows] == ["unverified symbol"]
        await _stop(services)

    qt_loop.run(scenario())
