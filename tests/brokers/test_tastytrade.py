"""Tastytrade connector against the fake over HTTP: orders, cancels, lookups, faults and quotes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.brokers.base import (
    BrokerUnavailable,
    Environment,
    OrderNotFound,
    OrderRef,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
)
from app.brokers.tastytrade.connector import TastytradeBroker
from app.domain.models import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from app.domain.symbols import parse_symbol
from tests.contract.harness import eventually
from tests.fakes.tastytrade import CLIENT_SECRET, REFRESH_TOKEN, TastytradeFake

OPTION = "AAPL250117C00150000"
PLACE = r"^POST /accounts/5WT00001/orders$"
RESTING = {
    "time-in-force": "GTC", "order-type": "Limit", "price": "50", "price-effect": "Debit",
    "legs": [{"instrument-type": "Equity", "symbol": "AAPL", "quantity": 1, "action": "Buy to Open"}],
}  # fmt: skip


@pytest.fixture
async def fake() -> AsyncIterator[TastytradeFake]:
    server = TastytradeFake().start()
    with server.book.lock:
        server.book.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
        server.book.set_quote(OPTION, Decimal("1.00"), Decimal("1.10"), Decimal("1.05"))
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


def connect(fake: TastytradeFake, *, timeout: float | None = None) -> TastytradeBroker:
    credentials = {"client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}
    return TastytradeBroker(
        credentials, Environment.PAPER, base_url=fake.url, timeout=httpx.Timeout(timeout) if timeout else None
    )


@pytest.fixture
async def broker(fake: TastytradeFake) -> AsyncIterator[TastytradeBroker]:
    connector = connect(fake)
    await connector.verify()
    try:
        yield connector
    finally:
        await connector.close()


def order(symbol: str, side: Side, qty: str, kind: OrderType, **kw: Any) -> OrderRequest:
    return OrderRequest(instrument=parse_symbol(symbol), side=side, quantity=Decimal(qty), order_type=kind, **kw)


def sent(fake: TastytradeFake, pattern: str = PLACE) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in fake.requests_to(pattern)]


# --- placing ---------------------------------------------------------------------------------


async def test_limit_order_goes_out_dasherized_with_our_id(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    request = order(
        "AAPL", Side.BUY, "2", OrderType.LIMIT, limit_price=Decimal("150.00"), time_in_force=TimeInForce.GTC
    )
    placed = await broker.place_order(request)
    assert placed.status is OrderStatus.PENDING_SUBMIT and placed.raw_status == "Received"
    assert placed.client_order_id == request.client_order_id and placed.quantity == Decimal(2)
    [body] = sent(fake)
    assert body == {
        "time-in-force": "GTC", "order-type": "Limit", "external-identifier": request.client_order_id,
        "price": "150.00", "price-effect": "Debit",
        "legs": [{"instrument-type": "Equity", "symbol": "AAPL", "quantity": 2, "action": "Buy to Open"}],
    }  # fmt: skip
    resting = await broker.get_order(request.client_order_id)
    assert resting is not None and resting.status is OrderStatus.NEW and resting.raw_status == "Live"


async def test_option_round_trip_opens_then_closes_from_positions(
    fake: TastytradeFake, broker: TastytradeBroker
) -> None:
    buy = order(OPTION, Side.BUY, "2", OrderType.MARKET)
    await broker.place_order(buy)
    filled = await eventually(lambda: broker.get_order(buy.client_order_id), lambda o: o.status is OrderStatus.FILLED)
    assert (filled.symbol, filled.filled_quantity, filled.average_fill_price) == (OPTION, 2, Decimal("1.10"))
    [position] = await broker.positions()
    assert (position.symbol, position.quantity, position.average_cost) == (OPTION, 2, Decimal("1.10"))
    sell = order(OPTION, Side.SELL, "2", OrderType.MARKET)
    await broker.place_order(sell)
    await eventually(lambda: broker.get_order(sell.client_order_id), lambda o: o.status is OrderStatus.FILLED)
    assert await broker.positions() == []
    legs = [body["legs"][0] for body in sent(fake)]
    assert [(leg["symbol"], leg["instrument-type"], leg["action"]) for leg in legs] == [
        ("AAPL  250117C00150000", "Equity Option", "Buy to Open"),
        ("AAPL  250117C00150000", "Equity Option", "Sell to Close"),
    ]


async def test_sell_without_holding_opens_a_short(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    await broker.place_order(order("AAPL", Side.SELL, "1", OrderType.LIMIT, limit_price=Decimal("250")))
    assert sent(fake)[0]["legs"][0]["action"] == "Sell to Open"


async def test_stop_orders_carry_the_trigger_and_rest(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    stop = order("AAPL", Side.BUY, "1", OrderType.STOP, stop_price=Decimal("200"))
    stop_limit = order(
        "AAPL", Side.BUY, "1", OrderType.STOP_LIMIT, stop_price=Decimal("200"), limit_price=Decimal("201"),
        extended_hours=True,
    )  # fmt: skip
    for request in (stop, stop_limit):
        await broker.place_order(request)
    stop_body, stop_limit_body = sent(fake)
    assert (stop_body["order-type"], stop_body["stop-trigger"], "price" in stop_body) == ("Stop", "200", False)
    assert (stop_limit_body["order-type"], stop_limit_body["price"], stop_limit_body["time-in-force"]) == (
        "Stop Limit", "201", "Ext")  # fmt: skip
    listed = {o.client_order_id: o.status for o in await broker.list_orders()}
    assert listed == {stop.client_order_id: OrderStatus.NEW, stop_limit.client_order_id: OrderStatus.NEW}


async def test_preflight_failure_is_rejected_with_the_inner_reason(
    fake: TastytradeFake, broker: TastytradeBroker
) -> None:
    with pytest.raises(OrderRejected) as rejected:
        await broker.place_order(order("AAPL", Side.BUY, "5000", OrderType.MARKET))
    assert rejected.value.reason == "Account does not have sufficient buying power available for this order."
    assert fake.book.order_count == 0


async def test_missing_limit_price_is_refused_before_anything_is_sent(
    fake: TastytradeFake, broker: TastytradeBroker
) -> None:
    with pytest.raises(OrderRejected, match="limit price"):
        await broker.place_order(order("AAPL", Side.BUY, "1", OrderType.LIMIT))
    assert fake.requests_to(PLACE) == []


async def test_429_on_an_order_is_rate_limited_and_not_resent(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    fake.inject_fault("rate_limited", retry_after="1")
    with pytest.raises(RateLimited) as limited:
        await broker.place_order(order("AAPL", Side.BUY, "1", OrderType.LIMIT, limit_price=Decimal(100)))
    assert limited.value.retry_after == 1.0
    # Tastytrade's documented 429s carry no headers at all: a default wait applies.
    fake.inject_fault("rate_limited", retry_after=None)
    with pytest.raises(RateLimited) as bare:
        await broker.place_order(order("AAPL", Side.BUY, "1", OrderType.LIMIT, limit_price=Decimal(100)))
    assert bare.value.retry_after > 0
    assert len(fake.requests_to(PLACE)) == 2 and fake.book.order_count == 0


async def test_slow_answer_is_outcome_unknown_and_the_order_is_found(fake: TastytradeFake) -> None:
    broker = connect(fake, timeout=0.5)
    try:
        await broker.verify()
        fake.inject_fault("slow", delay=1.5)
        request = order("AAPL", Side.BUY, "1", OrderType.LIMIT, limit_price=Decimal(100))
        with pytest.raises(OutcomeUnknown) as unknown:
            await broker.place_order(request)
        assert unknown.value.client_order_id == request.client_order_id
        found = await broker.get_order(request.client_order_id)
    finally:
        await broker.close()
    assert found is not None and found.status is OrderStatus.NEW
    assert len(fake.requests_to(PLACE)) == 1 and fake.book.order_count == 1


async def test_server_error_on_an_order_is_outcome_unknown(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    fake.inject_fault("server_error")
    request = order("AAPL", Side.BUY, "1", OrderType.LIMIT, limit_price=Decimal(100))
    with pytest.raises(OutcomeUnknown):
        await broker.place_order(request)
    assert len(fake.requests_to(PLACE)) == 1
    assert await broker.get_order(request.client_order_id) is None


# --- preview ---------------------------------------------------------------------------------


async def test_preview_uses_the_dry_run_and_places_nothing(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    preview = await broker.preview_order(order(OPTION, Side.BUY, "2", OrderType.LIMIT, limit_price=Decimal("1.05")))
    assert preview.estimated_cost == Decimal("210.00")
    assert preview.commission == Decimal("2.2")  # $1 per contract opened + $0.10 clearing each
    assert preview.buying_power_effect == Decimal("-210")
    assert fake.book.order_count == 0 and len(fake.requests_to(r"/orders/dry-run$")) == 1
    with pytest.raises(OrderRejected, match="sufficient buying power"):
        await broker.preview_order(order("AAPL", Side.BUY, "5000", OrderType.MARKET))


# --- cancel and lookups ----------------------------------------------------------------------


async def test_cancel_passes_through_cancel_requested(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    request = order("AAPL", Side.BUY, "1", OrderType.LIMIT, limit_price=Decimal(100))
    placed = await broker.place_order(request)
    pending = await broker.cancel_order(OrderRef(request.client_order_id, placed.broker_order_id))
    assert pending.status is OrderStatus.PENDING_CANCEL and pending.raw_status == "Cancel Requested"
    done = await broker.get_order(request.client_order_id)
    assert done is not None and done.status is OrderStatus.CANCELED


async def test_cancel_by_our_id_alone(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    request = order("AAPL", Side.BUY, "1", OrderType.LIMIT, limit_price=Decimal(100))
    await broker.place_order(request)
    cancelled = await broker.cancel_order(OrderRef(request.client_order_id))
    assert cancelled.client_order_id == request.client_order_id
    with pytest.raises(OrderNotFound):
        await broker.cancel_order(OrderRef("tb-0000000000000-deadbeef"))


async def test_filled_order_can_no_longer_be_cancelled(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    request = order("AAPL", Side.BUY, "1", OrderType.MARKET)
    placed = await broker.place_order(request)
    await eventually(lambda: broker.get_order(request.client_order_id), lambda o: o.status is OrderStatus.FILLED)
    with pytest.raises(OrderRejected, match="Filled"):
        await broker.cancel_order(OrderRef.of(placed))


async def test_old_orders_are_found_in_the_paginated_history(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    with fake.book.lock:
        for age in range(60, 0, -1):  # the oldest order is on the second page of 50
            old = fake.book.add_order("5WT00001", {**RESTING, "external-identifier": f"tb-old-{age}"})
            old.received_at = datetime.now(UTC) - timedelta(days=2, minutes=age)
            old.set_status("Expired")
    found = await broker.get_order("tb-old-60")
    assert found is not None and found.status is OrderStatus.EXPIRED
    searches = fake.requests_to(r"^GET /accounts/5WT00001/orders$")
    assert [s.arg("page-offset") for s in searches] == [None, "1"]
    assert {s.arg("per-page") for s in searches} == {"50"}
    assert await broker.list_orders() == []  # nothing from today, nothing working


async def test_paginated_live_orders_are_read_to_the_end(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    fake.live_orders_page_size = 2
    with fake.book.lock:
        for i in range(5):
            fake.book.add_order("5WT00001", {**RESTING, "external-identifier": f"tb-live-{i}"})
    listed = await broker.list_orders()
    assert {o.client_order_id for o in listed} == {f"tb-live-{i}" for i in range(5)}
    assert {o.status for o in listed} == {OrderStatus.NEW}
    pages = [r.arg("page-offset") for r in fake.requests_to(r"/orders/live$")]
    assert pages == [None, "1", "2"]


# --- reads, faults, quotes -------------------------------------------------------------------


async def test_reads_retry_server_errors_then_give_up(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    fake.inject_fault("server_error", target=r"^GET .*/positions$")
    assert await broker.positions() == []
    fake.inject_fault("server_error", target=r"^GET .*/positions$", times=3)
    with pytest.raises(BrokerUnavailable):
        await broker.positions()
    assert len(fake.requests_to(r"/positions$")) == 5


async def test_reads_wait_out_a_429(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    fake.inject_fault("rate_limited", target=r"^GET .*/positions$", retry_after="1")
    started = time.monotonic()
    assert await broker.positions() == []
    assert time.monotonic() - started >= 1.0
    assert len(fake.requests_to(r"/positions$")) == 2


async def test_quotes_mix_equities_and_options_in_one_call(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    quotes = await broker.quotes(["AAPL", OPTION, "ZZZZQ", "not a symbol"])
    assert set(quotes) == {"AAPL", OPTION}
    option = quotes[OPTION]
    assert (option.bid, option.ask, option.last) == (Decimal("1.00"), Decimal("1.10"), Decimal("1.05"))
    assert quotes["AAPL"].bid_size == Decimal(100) and quotes["AAPL"].timestamp.tzinfo is not None
    [call] = fake.requests_to(r"/market-data/by-type$")
    assert call.query == {"equity": ["AAPL,ZZZZQ"], "equity-option": ["AAPL  250117C00150000"]}


async def test_quotes_go_in_batches_of_100(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    symbols = [f"Q{i:03d}" for i in range(150)]
    with fake.book.lock:
        for symbol in symbols:
            fake.book.set_quote(symbol, Decimal(1), Decimal(2), Decimal("1.5"))
    assert len(await broker.quotes(symbols)) == 150
    sizes = [len(call.arg("equity").split(",")) for call in fake.requests_to(r"/market-data/by-type$")]
    assert sizes == [100, 50]


async def test_quotes_refused_to_a_login_without_market_data(fake: TastytradeFake, broker: TastytradeBroker) -> None:
    fake.inject_fault("forbidden", target=r"/market-data/by-type$")
    with pytest.raises(BrokerUnavailable, match="not_permitted"):
        await broker.quotes(["AAPL"])
