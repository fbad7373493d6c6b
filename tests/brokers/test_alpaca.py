"""The Alpaca connector against the fake Alpaca over loopback, through the real alpaca-py clients."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.brokers.alpaca.connector import ENDPOINTS, AlpacaBroker, resolve_endpoints
from app.brokers.alpaca.spec import SPEC
from app.brokers.base import (
    AccountType,
    AuthError,
    BrokerUnavailable,
    Environment,
    EnvironmentMismatch,
    OrderNotFound,
    OrderRef,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
)
from app.domain.models import OrderRequest, OrderStatus, OrderType, PositionEffect, Side, TimeInForce
from app.domain.symbols import parse_symbol
from tests.contract.harness import eventually
from tests.fakes.alpaca import LIVE_ACCOUNT, FakeAlpaca

ROOT = Path(__file__).resolve().parents[2]
OPTION = "AAPL250117C00150000"

Connect = Callable[..., AlpacaBroker]


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    server = FakeAlpaca().start()
    server.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    server.set_quote("MSFT", Decimal("410.10"), Decimal("410.30"), Decimal("410.20"))
    server.set_quote(OPTION, Decimal("40.10"), Decimal("40.60"), Decimal("40.35"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def connect(fake: FakeAlpaca) -> AsyncIterator[Connect]:
    made: list[AlpacaBroker] = []

    def _connect(
        environment: Environment = Environment.PAPER, *, secret: str | None = None, server: FakeAlpaca | None = None,
        **options: Any,
    ) -> AlpacaBroker:
        target = server or fake
        options.setdefault("timeout", (2.0, 3.0))
        options.setdefault("retry_backoff", 0.01)
        credentials = {"api_key_id": target.key_id, "api_secret_key": secret or target.secret_key}
        broker = AlpacaBroker(credentials, environment, base_url=target.url, **options)
        made.append(broker)
        return broker

    yield _connect
    for broker in made:
        await broker.close()


def order(symbol: str, side: Side, qty: str, order_type: OrderType, **kwargs: Any) -> OrderRequest:
    return OrderRequest(
        instrument=parse_symbol(symbol), side=side, quantity=Decimal(qty), order_type=order_type, **kwargs
    )


def posted(fake: FakeAlpaca) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in fake.requests_to("POST", "/v2/orders")]


# -- endpoints, spec, credentials --------------------------------------------------------------


def test_environments_resolve_to_alpacas_hosts_in_one_place() -> None:
    assert resolve_endpoints(Environment.PAPER).trading == "https://paper-api.alpaca.markets"
    assert resolve_endpoints(Environment.LIVE).trading == "https://api.alpaca.markets"
    assert {e.data for e in ENDPOINTS.values()} == {"https://data.alpaca.markets"}
    override = resolve_endpoints(Environment.LIVE, "http://127.0.0.1:9/")
    assert (override.trading, override.data) == ("http://127.0.0.1:9", "http://127.0.0.1:9")


def test_spec_describes_the_connection_form() -> None:
    assert SPEC.key == "alpaca"
    assert [(f.name, f.secret) for f in SPEC.fields] == [("api_key_id", True), ("api_secret_key", True)]
    assert SPEC.environments == (Environment.PAPER, Environment.LIVE)
    assert SPEC.capabilities.preview is False
    assert (ROOT / SPEC.docs).is_file()


def test_missing_credentials_are_refused_before_any_request() -> None:
    with pytest.raises(AuthError):
        AlpacaBroker({"api_key_id": "PKABC", "api_secret_key": " "}, Environment.PAPER)


async def test_repr_and_errors_never_show_the_keys(connect: Connect, fake: FakeAlpaca) -> None:
    broker = connect(secret="my-wrong-secret-value")
    assert fake.key_id not in repr(broker) and "my-wrong-secret-value" not in repr(broker)
    with pytest.raises(AuthError) as raised:
        await broker.verify()
    assert "my-wrong-secret-value" not in str(raised.value) and fake.key_id not in str(raised.value)


# -- auth and environment ----------------------------------------------------------------------


async def test_keys_travel_in_alpacas_two_headers(connect: Connect, fake: FakeAlpaca) -> None:
    await connect().verify()
    (request,) = fake.requests_to("GET", "/v2/account")
    assert request.header("apca-api-key-id") == fake.key_id
    assert request.header("apca-api-secret-key") == fake.secret_key
    assert request.header("user-agent").startswith("APCA-PY/")


async def test_wrong_secret_is_auth_error_from_the_trading_api(connect: Connect) -> None:
    with pytest.raises(AuthError, match="401: request is not authorized"):
        await connect(secret="wrong").verify()


async def test_market_data_refusal_is_nginx_html_and_still_an_auth_error(connect: Connect) -> None:
    with pytest.raises(AuthError, match="market data") as raised:
        await connect(secret="wrong").quotes(["AAPL"])
    assert "<html" not in str(raised.value)


async def test_paper_key_on_a_live_connection_is_named_in_the_message(connect: Connect) -> None:
    with pytest.raises(AuthError, match="looks like a paper key"):
        await connect(Environment.LIVE, secret="wrong").verify()


async def test_paper_connection_reaching_a_live_account_is_refused(connect: Connect) -> None:
    live = FakeAlpaca(account_number=LIVE_ACCOUNT).start()
    try:
        with pytest.raises(EnvironmentMismatch, match="live Alpaca account"):
            await connect(Environment.PAPER, server=live).verify()
        info = await connect(Environment.LIVE, server=live).verify()
        assert info.is_paper is False
    finally:
        live.stop()


async def test_live_connection_reaching_a_paper_account_is_refused(connect: Connect) -> None:
    with pytest.raises(EnvironmentMismatch, match="paper Alpaca account"):
        await connect(Environment.LIVE).verify()


@pytest.mark.parametrize(
    ("multiplier", "expected"), [("1", AccountType.CASH), ("2", AccountType.MARGIN), ("4", AccountType.MARGIN)]
)
async def test_account_type_from_multiplier(
    connect: Connect, fake: FakeAlpaca, multiplier: str, expected: AccountType
) -> None:
    fake.book.multiplier = multiplier
    info = await connect().verify()
    assert info.account_type is expected
    assert info.buying_power == Decimal(100000) * Decimal(multiplier)
    assert info.cash == Decimal(100000) and info.is_paper is True


# -- placing orders -----------------------------------------------------------------------------


async def test_market_order_answers_accepted_then_fills_at_the_ask(connect: Connect, fake: FakeAlpaca) -> None:
    broker = connect()
    request = order("AAPL", Side.BUY, "3", OrderType.MARKET)
    placed = await broker.place_order(request)
    # Alpaca answers the POST before routing: "accepted", even for an order that fills at once.
    assert placed.raw_status == "accepted" and placed.status is OrderStatus.PENDING_SUBMIT
    (body,) = posted(fake)
    assert body["client_order_id"] == request.client_order_id
    sent = (body["symbol"], body["qty"], body["side"], body["type"], body["time_in_force"])
    assert sent == ("AAPL", 3.0, "buy", "market", "day")
    assert "position_intent" not in body
    filled = await broker.get_order(request.client_order_id)
    assert filled is not None and filled.status is OrderStatus.FILLED
    assert filled.average_fill_price == Decimal("189.6") and filled.filled_quantity == 3
    (position,) = await broker.positions()
    assert (position.symbol, position.quantity, position.average_cost) == ("AAPL", Decimal(3), Decimal("189.6"))
    assert (await broker.verify()).cash == Decimal("100000") - Decimal("568.8")


async def test_stop_and_stop_limit_orders_rest_until_the_market_moves(connect: Connect, fake: FakeAlpaca) -> None:
    broker = connect()
    stop = order("AAPL", Side.SELL, "1", OrderType.STOP, stop_price=Decimal("180"), time_in_force=TimeInForce.GTC)
    stop_limit = order(
        "MSFT", Side.BUY, "1", OrderType.STOP_LIMIT, stop_price=Decimal("415"), limit_price=Decimal("416")
    )
    await broker.place_order(stop)
    await broker.place_order(stop_limit)
    bodies = posted(fake)
    assert (bodies[0]["stop_price"], bodies[0]["time_in_force"]) == (180.0, "gtc")
    assert (bodies[1]["stop_price"], bodies[1]["limit_price"]) == (415.0, 416.0)
    assert (await broker.get_order(stop.client_order_id)).status is OrderStatus.NEW
    fake.set_quote("MSFT", Decimal("415.50"), Decimal("415.80"), Decimal("415.60"))
    triggered = await broker.get_order(stop_limit.client_order_id)
    assert triggered.status is OrderStatus.FILLED and triggered.average_fill_price == Decimal(416)


async def test_option_buy_opens_and_sell_closes_when_effect_is_auto(connect: Connect, fake: FakeAlpaca) -> None:
    broker = connect()
    await broker.place_order(order(OPTION, Side.BUY, "1", OrderType.LIMIT, limit_price=Decimal("40.00")))
    fake.add_position(OPTION, Decimal(2), Decimal("38.00"))
    await broker.place_order(order(OPTION, Side.SELL, "2", OrderType.LIMIT, limit_price=Decimal("45.00")))
    assert [b["position_intent"] for b in posted(fake)] == ["buy_to_open", "sell_to_close"]
    assert len(fake.requests_to("GET", f"/v2/positions/{OPTION}")) == 2


async def test_explicit_position_effect_is_sent_as_said_without_a_lookup(connect: Connect, fake: FakeAlpaca) -> None:
    broker = connect()
    await broker.place_order(
        order(OPTION, Side.SELL, "1", OrderType.LIMIT, limit_price=Decimal("45"), position_effect=PositionEffect.OPEN)
    )
    assert posted(fake)[0]["position_intent"] == "sell_to_open"
    assert fake.requests_to("GET", f"/v2/positions/{OPTION}") == []


async def test_insufficient_buying_power_is_rejected_with_alpacas_words(connect: Connect) -> None:
    with pytest.raises(OrderRejected) as raised:
        await connect().place_order(order("AAPL", Side.BUY, "5000", OrderType.LIMIT, limit_price=Decimal("189")))
    assert raised.value.reason == "insufficient buying power"


async def test_closing_more_than_held_is_rejected_with_alpacas_words(connect: Connect) -> None:
    with pytest.raises(OrderRejected, match="insufficient qty available"):
        await connect().place_order(
            order(OPTION, Side.SELL, "1", OrderType.MARKET, position_effect=PositionEffect.CLOSE)
        )


async def test_invalid_order_422_is_rejected(connect: Connect) -> None:
    with pytest.raises(OrderRejected, match="qty must be integer"):
        await connect().place_order(order(OPTION, Side.BUY, "1.5", OrderType.LIMIT, limit_price=Decimal("1")))


async def test_a_resent_client_order_id_returns_the_first_order(connect: Connect, fake: FakeAlpaca) -> None:
    broker = connect()
    request = order("MSFT", Side.BUY, "1", OrderType.LIMIT, limit_price=Decimal("300"))
    first = await broker.place_order(request)
    again = await broker.place_order(request)
    assert again.broker_order_id == first.broker_order_id
    assert len(posted(fake)) == 2 and fake.order_count() == 1


async def test_order_accepted_later_rejected_is_reported_on_the_order(connect: Connect, fake: FakeAlpaca) -> None:
    broker = connect()
    fake.inject_fault("reject_later")
    request = order("AAPL", Side.BUY, "1", OrderType.MARKET)
    assert (await broker.place_order(request)).status is OrderStatus.PENDING_SUBMIT
    rejected = await broker.get_order(request.client_order_id)
    assert rejected.status is OrderStatus.REJECTED and rejected.reason


# -- safety: an order is never sent twice ------------------------------------------------------


@pytest.mark.parametrize("fault", ["gateway_timeout", "drop_response"])
async def test_order_accepted_but_unanswered_is_outcome_unknown_sent_once(
    connect: Connect, fake: FakeAlpaca, fault: str
) -> None:
    broker = connect()
    fake.inject_fault(fault)
    request = order("AAPL", Side.BUY, "1", OrderType.LIMIT, limit_price=Decimal("100"))
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown) as raised:
        await broker.place_order(request)
    # alpaca-py on its own would resend a 504'd POST three times, 3 s apart.
    assert time.monotonic() - started < 2.5
    assert raised.value.client_order_id == request.client_order_id
    assert len(posted(fake)) == 1 and fake.order_count() == 1
    found = await broker.get_order(request.client_order_id)
    assert found is not None and found.status is OrderStatus.NEW
    assert fake.requests_to("GET", "/v2/orders:by_client_order_id")[0].arg("client_order_id") == request.client_order_id


async def test_server_error_on_order_is_unknown_then_proven_absent(connect: Connect, fake: FakeAlpaca) -> None:
    broker = connect()
    fake.inject_fault("server_error")
    request = order("AAPL", Side.BUY, "1", OrderType.MARKET)
    with pytest.raises(OutcomeUnknown, match="500"):
        await broker.place_order(request)
    assert len(posted(fake)) == 1
    assert await broker.get_order(request.client_order_id) is None


async def test_slow_order_answer_times_out_as_outcome_unknown(connect: Connect, fake: FakeAlpaca) -> None:
    broker = connect(timeout=(2.0, 0.5))
    fake.inject_fault("slow", delay=1.5)
    request = order("AAPL", Side.BUY, "1", OrderType.LIMIT, limit_price=Decimal("100"))
    with pytest.raises(OutcomeUnknown):
        await broker.place_order(request)
    assert len(posted(fake)) == 1
    found = await eventually(lambda: broker.get_order(request.client_order_id), lambda o: o is not None)
    assert found.client_order_id == request.client_order_id


async def test_rate_limited_order_is_not_resent_and_honours_retry_after(connect: Connect, fake: FakeAlpaca) -> None:
    broker = connect()
    fake.inject_fault("rate_limit", retry_after="7")
    with pytest.raises(RateLimited) as raised:
        await broker.place_order(order("AAPL", Side.BUY, "1", OrderType.MARKET))
    assert raised.value.retry_after == 7.0
    assert len(posted(fake)) == 1 and fake.order_count() == 0


async def test_401_on_an_order_is_auth_error(connect: Connect, fake: FakeAlpaca) -> None:
    fake.inject_fault("unauthorized")
    with pytest.raises(AuthError):
        await connect().place_order(order("AAPL", Side.BUY, "1", OrderType.MARKET))
    assert fake.order_count() == 0


async def test_unreachable_broker_means_the_order_was_not_sent(connect: Connect) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    broker = AlpacaBroker(
        {"api_key_id": "PKX", "api_secret_key": "s"}, Environment.PAPER, base_url=f"http://127.0.0.1:{port}"
    )
    try:
        with pytest.raises(BrokerUnavailable, match="not sent"):
            await broker.place_order(order("AAPL", Side.BUY, "1", OrderType.MARKET))
    finally:
        await broker.close()


# -- cancel, look-ups, lists -------------------------------------------------------------------


async def test_cancel_answers_204_then_reports_the_order(connect: Connect, fake: FakeAlpaca) -> None:
    broker = connect()
    request = order("MSFT", Side.BUY, "2", OrderType.LIMIT, limit_price=Decimal("350"))
    placed = await broker.place_order(request)
    cancelled = await broker.cancel_order(OrderRef.of(placed))
    assert cancelled.status is OrderStatus.CANCELED
    (delete,) = fake.requests_to("DELETE", f"/v2/orders/{placed.broker_order_id}")
    assert delete is not None


async def test_cancel_in_flight_is_pending_then_cancelled(connect: Connect, fake: FakeAlpaca) -> None:
    fake.async_cancel = True
    broker = connect()
    request = order("MSFT", Side.BUY, "2", OrderType.LIMIT, limit_price=Decimal("350"))
    # Without the broker id the connector finds the order by our client id first.
    await broker.place_order(request)
    pending = await broker.cancel_order(OrderRef(request.client_order_id))
    assert pending.status is OrderStatus.PENDING_CANCEL
    assert (await broker.get_order(request.client_order_id)).status is OrderStatus.CANCELED


async def test_cancel_of_a_filled_order_is_not_cancelable(connect: Connect) -> None:
    broker = connect()
    placed = await broker.place_order(order("AAPL", Side.BUY, "1", OrderType.MARKET))
    with pytest.raises(OrderRejected, match="not cancelable"):
        await broker.cancel_order(OrderRef.of(placed))


async def test_cancel_of_an_unknown_order_is_not_found(connect: Connect) -> None:
    broker = connect()
    with pytest.raises(OrderNotFound):
        await broker.cancel_order(OrderRef("tb-0", "0b11f089-722d-4ced-9beb-e2eeed3637dc"))
    with pytest.raises(OrderNotFound):
        await broker.cancel_order(OrderRef("tb-0"))


async def test_partial_fill_then_cancel_keeps_the_filled_part(connect: Connect, fake: FakeAlpaca) -> None:
    broker = connect()
    request = order("MSFT", Side.BUY, "10", OrderType.LIMIT, limit_price=Decimal("400"))
    placed = await broker.place_order(request)
    fake.fill(request.client_order_id, Decimal(4), Decimal("399.5"))
    partial = await broker.get_order(request.client_order_id)
    assert partial.status is OrderStatus.PARTIALLY_FILLED and partial.filled_quantity == 4
    cancelled = await broker.cancel_order(OrderRef.of(placed))
    assert cancelled.status is OrderStatus.CANCELED and cancelled.filled_quantity == 4


async def test_list_orders_holds_open_orders_and_todays_finished_ones(connect: Connect, fake: FakeAlpaca) -> None:
    broker = connect()
    old_gtc = order("MSFT", Side.BUY, "1", OrderType.LIMIT, limit_price=Decimal("300"), time_in_force=TimeInForce.GTC)
    old_filled = order("AAPL", Side.BUY, "1", OrderType.MARKET)
    today_filled = order("AAPL", Side.BUY, "1", OrderType.MARKET)
    for request in (old_gtc, old_filled, today_filled):
        await broker.place_order(request)
    two_days_ago = time.time_ns() - 2 * 86_400 * 1_000_000_000
    with fake.book.lock:
        for client_id in (old_gtc.client_order_id, old_filled.client_order_id):
            fake.book.order_by_client_id(client_id).created_ns = two_days_ago
    listed = {o.client_order_id for o in await broker.list_orders()}
    assert listed == {old_gtc.client_order_id, today_filled.client_order_id}
    statuses = [r.arg("status") for r in fake.requests_to("GET", "/v2/orders")]
    assert statuses == ["open", "closed"]


async def test_unknown_client_order_id_is_none(connect: Connect) -> None:
    assert await connect().get_order("tb-0000000000000-deadbeef") is None


# -- market data and preview -------------------------------------------------------------------


async def test_quotes_for_stocks_and_options_in_one_call(connect: Connect, fake: FakeAlpaca) -> None:
    quotes = await connect().quotes(["aapl", OPTION, "ZZZZQ", "not a symbol!"])
    assert set(quotes) == {"AAPL", OPTION}
    aapl = quotes["AAPL"]
    assert (aapl.bid, aapl.ask, aapl.last) == (Decimal("189.5"), Decimal("189.6"), Decimal("189.55"))
    assert quotes[OPTION].mark == Decimal("40.35")
    assert quotes["AAPL"].timestamp.tzinfo is not None
    assert fake.requests_to("GET", "/v2/stocks/quotes/latest")[0].arg("symbols") == "AAPL,ZZZZQ"
    assert fake.requests_to("GET", "/v1beta1/options/snapshots")[0].arg("symbols") == OPTION


async def test_preview_is_a_local_estimate_that_places_nothing(connect: Connect, fake: FakeAlpaca) -> None:
    preview = await connect().preview_order(order("AAPL", Side.BUY, "10", OrderType.MARKET))
    assert preview.estimated_cost == Decimal("1896.0")
    assert any("no order preview" in w for w in preview.warnings)
    assert posted(fake) == []


# -- reads: retries, rate limits, timeouts, pacing, the loop -----------------------------------


async def test_read_429_waits_retry_after_then_succeeds(connect: Connect, fake: FakeAlpaca) -> None:
    fake.inject_fault("rate_limit", method="GET", path="/v2/account", retry_after="0")
    assert (await connect().verify()).account_number
    assert len(fake.requests_to("GET", "/v2/account")) == 2


async def test_read_429_with_a_long_wait_is_reported_not_slept(connect: Connect, fake: FakeAlpaca) -> None:
    fake.inject_fault("rate_limit", method="GET", path="/v2/positions", retry_after="30")
    with pytest.raises(RateLimited) as raised:
        await connect().positions()
    assert raised.value.retry_after == 30.0
    assert len(fake.requests_to("GET", "/v2/positions")) == 1


async def test_read_server_errors_are_retried_then_reported(connect: Connect, fake: FakeAlpaca) -> None:
    fake.inject_fault("server_error", method="GET", path="/v2/orders:by_client_order_id")
    assert await connect().get_order("tb-missing") is None
    fake.inject_fault("server_error", method="GET", path="/v2/positions", times=5)
    with pytest.raises(BrokerUnavailable, match="server error"):
        await connect().positions()
    assert len(fake.requests_to("GET", "/v2/positions")) == 3


async def test_a_hung_server_cannot_hang_a_read(connect: Connect, fake: FakeAlpaca) -> None:
    fake.inject_fault("slow", method="GET", path="/v2/account", delay=2.0)
    broker = connect(timeout=(2.0, 0.3), read_attempts=1)
    with pytest.raises(BrokerUnavailable, match="ReadTimeout"):
        await broker.verify()


async def test_the_loop_keeps_running_while_alpaca_is_slow(connect: Connect, fake: FakeAlpaca) -> None:
    fake.inject_fault("slow", method="GET", path="/v2/account", delay=0.5)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        await connect().verify()
    finally:
        ticker.cancel()
    assert ticks >= 10


async def test_requests_are_paced_under_alpacas_limit(connect: Connect) -> None:
    broker = connect()
    started = time.monotonic()
    for _ in range(12):
        await broker.get_order("tb-missing")
    # A burst of 10, then one request every 60/190 s: the 11th and 12th must wait.
    assert time.monotonic() - started >= 0.5


async def test_closed_connector_refuses_calls(connect: Connect) -> None:
    broker = connect()
    await broker.close()
    with pytest.raises(BrokerUnavailable, match="closed"):
        await broker.verify()


# -- the fake as a standalone server for the app -----------------------------------------------


@pytest.mark.subprocess
async def test_standalone_fake_serves_the_app(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.alpaca", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        assert f"http://127.0.0.1:{port}" in lines[0]
        key_id = lines[1].split(":", 1)[1].strip()
        secret = lines[2].split(":", 1)[1].strip()
        broker = AlpacaBroker({"api_key_id": key_id, "api_secret_key": secret}, Environment.PAPER,
                              base_url=f"http://127.0.0.1:{port}")
        try:
            assert (await broker.verify()).is_paper is True
            assert (await broker.quotes(["AAPL"]))["AAPL"].ask == Decimal("189.60")
        finally:
            await broker.close()
    finally:
        process.terminate()
        process.communicate(timeout=10)
