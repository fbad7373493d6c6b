"""Tradier orders against the fake: tags, side words, rejections, lost answers, cancels, paging and rate limits."""

from __future__ import annotations

import dataclasses
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.brokers.base import (
    AuthError,
    BrokerUnavailable,
    Environment,
    OrderNotFound,
    OrderRef,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
)
from app.brokers.tradier.connector import TradierBroker
from app.brokers.tradier.http import TRADIER_LIMITS, TradierLimits, limiter_plan
from app.domain.models import (
    AssetClass,
    Instrument,
    OptionDetails,
    OptionRight,
    OrderStatus,
    OrderType,
    PositionEffect,
    Side,
    TimeInForce,
)
from tests.brokers.tradier_support import FAST, OPTION, broker, harness, order, posts, statuses
from tests.contract.harness import eventually
from tests.fakes.tradier import ACCOUNT, SANDBOX_TOKEN, TradierHarness
from tests.fakes.tradier_book import NO_BUYING_POWER

__all__ = ["broker", "harness"]  # fixtures used by name


def seed_orders(harness: TradierHarness, count: int, *, days_ago: int = 0, status: str = "open") -> list[str]:
    tags = []
    for n in range(count):
        tag = f"tb-seed-{days_ago}-{status}-{n}"
        form = {
            "class": "equity", "symbol": "MSFT", "side": "buy", "quantity": "1",
            "type": "limit", "duration": "gtc", "price": "1.00", "tag": tag,
        }
        seeded = harness.fake.book.new_order(ACCOUNT, form, status=status)
        seeded.created -= timedelta(days=days_ago)
        tags.append(tag)
    return tags


# ----------------------------------------------------------------------------- placing


async def test_market_buy_returns_the_filled_order(broker: TradierBroker) -> None:
    request = order("AAPL", Side.BUY, "3")
    placed = await broker.place_order(request)
    assert placed.client_order_id == request.client_order_id
    assert placed.status is OrderStatus.FILLED
    assert placed.average_fill_price == Decimal("189.60")
    assert placed.filled_quantity == Decimal(3)


async def test_side_words_resolved_from_positions(broker: TradierBroker, harness: TradierHarness) -> None:
    await broker.place_order(order("AAPL", Side.BUY, "3"))
    await broker.place_order(order("AAPL", Side.SELL, "1"))
    await broker.place_order(order("MSFT", Side.SELL, "2"))
    await broker.place_order(order("MSFT", Side.BUY, "1"))
    assert [p["side"] for p in posts(harness)] == ["buy", "sell", "sell_short", "buy_to_cover"]
    held = {p.symbol: p.quantity for p in await broker.positions()}
    assert held == {"AAPL": Decimal(2), "MSFT": Decimal(-1)}


async def test_option_orders_use_class_option_and_close_what_is_held(
    broker: TradierBroker, harness: TradierHarness
) -> None:
    harness.set_quote(OPTION, Decimal("1.10"), Decimal("1.20"), Decimal("1.15"))
    bought = await broker.place_order(order(OPTION, Side.BUY, "2"))
    assert bought.symbol == OPTION and bought.status is OrderStatus.FILLED
    position = next(p for p in await broker.positions() if p.symbol == OPTION)
    assert position.asset_class is AssetClass.OPTION
    assert position.average_cost == Decimal("1.2")  # per contract share; Tradier's cost_basis was 240
    await broker.place_order(order(OPTION, Side.SELL, "1"))
    first, second = posts(harness)
    assert first == {
        "class": "option", "symbol": "AAPL", "option_symbol": OPTION, "side": "buy_to_open", "quantity": "2",
        "type": "market", "duration": "day", "tag": bought.client_order_id,
    }
    assert second["side"] == "sell_to_close"


async def test_explicit_position_effect_skips_the_positions_read(
    broker: TradierBroker, harness: TradierHarness
) -> None:
    closing = order(OPTION, Side.SELL, "1", OrderType.LIMIT, "5.00", position_effect=PositionEffect.CLOSE)
    await broker.place_order(closing)
    assert posts(harness)[0]["side"] == "sell_to_close"
    assert statuses(harness, "GET", "/positions") == []


async def test_downstream_rejection_in_a_200_errors_payload(broker: TradierBroker, harness: TradierHarness) -> None:
    harness.inject_fault("reject")
    with pytest.raises(OrderRejected) as raised:
        await broker.place_order(order("AAPL", Side.BUY, "1"))
    assert raised.value.reason == NO_BUYING_POWER
    assert statuses(harness, "POST", "/orders") == [200]
    assert harness.order_count() == 0


async def test_buying_power_is_checked_by_the_broker(broker: TradierBroker, harness: TradierHarness) -> None:
    with pytest.raises(OrderRejected, match="buying power"):
        await broker.place_order(order("AAPL", Side.BUY, "5000"))


async def test_rejection_reported_on_the_order_reads_reason_description(
    broker: TradierBroker, harness: TradierHarness
) -> None:
    harness.inject_fault("reject_async")
    request = order("AAPL", Side.BUY, "1")
    with pytest.raises(OrderRejected) as raised:
        await broker.place_order(request)
    assert raised.value.reason == NO_BUYING_POWER
    found = await broker.get_order(request.client_order_id)
    assert found is not None and found.status is OrderStatus.REJECTED and found.reason == NO_BUYING_POWER


async def test_400_errors_body_is_a_rejection_with_the_broker_words(
    broker: TradierBroker, harness: TradierHarness
) -> None:
    # An instrument whose parts disagree is the one way to get a form past our checks that Tradier refuses.
    mismatched = Instrument(
        symbol=OPTION,
        asset_class=AssetClass.OPTION,
        option=OptionDetails("MSFT", date(2025, 1, 17), OptionRight.CALL, Decimal(150)),
    )
    request = order("AAPL", Side.BUY, "1", OrderType.LIMIT, "1.00", position_effect=PositionEffect.OPEN)
    request = dataclasses.replace(request, instrument=mismatched)
    with pytest.raises(OrderRejected, match="Invalid parameter, option_symbol"):
        await broker.place_order(request)
    assert statuses(harness, "POST", "/orders") == [400]


async def test_invalid_tag_never_reaches_the_broker(broker: TradierBroker, harness: TradierHarness) -> None:
    request = order("AAPL", Side.BUY, "1", client_order_id="tb_with_underscore")
    with pytest.raises(OrderRejected, match="Tradier tag"):
        await broker.place_order(request)
    assert posts(harness) == []


async def test_lost_answer_is_outcome_unknown_and_found_by_tag(broker: TradierBroker, harness: TradierHarness) -> None:
    harness.inject_fault("drop_response")
    request = order("MSFT", Side.BUY, "1", OrderType.LIMIT, "100.00")
    with pytest.raises(OutcomeUnknown) as raised:
        await broker.place_order(request)
    assert raised.value.client_order_id == request.client_order_id
    assert len(posts(harness)) == 1 and harness.order_count() == 1
    found = await broker.get_order(request.client_order_id)
    assert found is not None and found.status is OrderStatus.NEW
    assert len(posts(harness)) == 1


async def test_server_error_on_order_is_unknown_and_sent_once(broker: TradierBroker, harness: TradierHarness) -> None:
    harness.inject_fault("server_error")
    request = order("MSFT", Side.BUY, "1", OrderType.LIMIT, "100.00")
    with pytest.raises(OutcomeUnknown):
        await broker.place_order(request)
    assert statuses(harness, "POST", "/orders") == [500]
    assert await broker.get_order(request.client_order_id) is None


async def test_slow_answer_past_the_timeout_is_unknown_then_found(harness: TradierHarness) -> None:
    impatient = harness.connector(limits=FAST, timeout=0.3)
    patient = harness.connector(limits=FAST)
    request = order("MSFT", Side.BUY, "1", OrderType.LIMIT, "100.00", position_effect=PositionEffect.OPEN)
    try:
        harness.slow(0.8)
        with pytest.raises(OutcomeUnknown):
            await impatient.place_order(request)
        harness.slow(0)
        found = await eventually(lambda: patient.get_order(request.client_order_id), lambda o: o is not None)
        assert found.status is OrderStatus.NEW
        assert harness.order_count() == 1
    finally:
        await impatient.close()
        await patient.close()


async def test_slow_reads_past_the_timeout_become_unavailable(harness: TradierHarness) -> None:
    connector = harness.connector(limits=FAST, timeout=0.2)
    try:
        harness.slow(0.5)
        with pytest.raises(BrokerUnavailable):
            await connector.positions()

        async def served() -> int:
            return len(statuses(harness, "GET", "/positions"))

        # Let the fake finish the abandoned requests inside this test rather than during the next one.
        assert await eventually(served, lambda n: n == 3) == 3
    finally:
        harness.slow(0)
        await connector.close()


async def test_failed_read_back_after_placement_still_reports_the_order(
    broker: TradierBroker, harness: TradierHarness
) -> None:
    harness.fake.read_errors = 3  # every attempt of the read-back GET
    request = order("MSFT", Side.BUY, "1", OrderType.LIMIT, "100.00", position_effect=PositionEffect.OPEN)
    placed = await broker.place_order(request)
    assert placed.broker_order_id and placed.status is OrderStatus.PENDING_SUBMIT
    assert (await broker.get_order(request.client_order_id)).status is OrderStatus.NEW


async def test_pending_while_market_closed_then_partial_fill(broker: TradierBroker, harness: TradierHarness) -> None:
    harness.fake.book.market_open = False
    request = order("AAPL", Side.BUY, "4", OrderType.LIMIT, "180.00", time_in_force=TimeInForce.GTC)
    placed = await broker.place_order(request)
    assert placed.status is OrderStatus.PENDING_SUBMIT and placed.raw_status == "pending"
    fake_order = harness.fake.book.find(ACCOUNT, placed.broker_order_id)
    assert fake_order is not None
    harness.fake.book.fill(fake_order, Decimal(1), Decimal("179.90"))
    partial = await broker.get_order(request.client_order_id)
    assert partial.status is OrderStatus.PARTIALLY_FILLED
    assert partial.filled_quantity == Decimal(1) and partial.average_fill_price == Decimal("179.9")


async def test_preview_places_nothing(broker: TradierBroker, harness: TradierHarness) -> None:
    harness.inject_fault("reject")  # armed for the next real order, untouched by previews
    preview = await broker.preview_order(order("AAPL", Side.BUY, "10", OrderType.LIMIT, "100.00"))
    assert preview.estimated_cost == Decimal(1000)
    assert preview.commission == Decimal(0)
    assert harness.order_count() == 0 and harness.fake.book.orders == []
    assert posts(harness)[0]["preview"] == "true"
    with pytest.raises(OrderRejected, match="buying power"):
        await broker.preview_order(order("AAPL", Side.BUY, "5000"))
    with pytest.raises(OrderRejected, match=NO_BUYING_POWER):
        await broker.place_order(order("AAPL", Side.BUY, "1"))


# ----------------------------------------------------------------------------- cancelling


async def test_cancel_then_cancel_again_is_finalized(broker: TradierBroker) -> None:
    placed = await broker.place_order(order("MSFT", Side.BUY, "2", OrderType.LIMIT, "350.00"))
    cancelled = await broker.cancel_order(OrderRef.of(placed))
    assert cancelled.status is OrderStatus.CANCELED
    with pytest.raises(OrderRejected, match="order already in finalized state: canceled"):
        await broker.cancel_order(OrderRef.of(placed))


async def test_cancel_of_a_filled_order_is_rejected(broker: TradierBroker) -> None:
    filled = await broker.place_order(order("AAPL", Side.BUY, "1"))
    with pytest.raises(OrderRejected, match="finalized state: filled"):
        await broker.cancel_order(OrderRef.of(filled))


async def test_unknown_order_401_is_not_found_but_a_bad_token_is_auth(harness: TradierHarness) -> None:
    good, bad = harness.connector(limits=FAST), harness.connector(valid_credentials=False, limits=FAST)
    try:
        with pytest.raises(OrderNotFound):
            await good.cancel_order(OrderRef("tb-x", "424242"))
        assert statuses(harness, "DELETE", "/orders/424242") == [401]
        with pytest.raises(AuthError):
            await bad.cancel_order(OrderRef("tb-x", "424242"))
    finally:
        await good.close()
        await bad.close()


async def test_cancel_by_client_order_id_alone_from_a_new_session(
    broker: TradierBroker, harness: TradierHarness
) -> None:
    request = order("MSFT", Side.BUY, "1", OrderType.LIMIT, "300.00")
    await broker.place_order(request)
    later = harness.connector(limits=FAST)
    try:
        cancelled = await later.cancel_order(OrderRef(request.client_order_id))
        assert cancelled.status is OrderStatus.CANCELED
        assert cancelled.client_order_id == request.client_order_id
    finally:
        await later.close()


# ----------------------------------------------------------------------------- finding and listing


async def test_lookup_by_tag_pages_through_todays_orders(broker: TradierBroker, harness: TradierHarness) -> None:
    tags = seed_orders(harness, 130)
    found = await broker.get_order(tags[-1])
    assert found is not None and found.client_order_id == tags[-1]
    assert harness.server is not None
    listings = [r for r in harness.server.requests if r.path.endswith("/orders")]
    pages = [(r.arg("page"), r.arg("limit"), r.arg("filter")) for r in listings]
    assert pages == [("1", "100", "intraday"), ("2", "100", "intraday")]
    assert len(await broker.list_orders()) == 130


async def test_earlier_sessions_come_from_a_rare_history_scan(broker: TradierBroker, harness: TradierHarness) -> None:
    (working,) = seed_orders(harness, 1, days_ago=3, status="open")
    (done,) = seed_orders(harness, 1, days_ago=3, status="filled")
    listed = {o.client_order_id: o for o in await broker.list_orders()}
    assert working in listed and done not in listed  # open GTC orders only, not old finished ones
    assert (await broker.get_order(done)).status is OrderStatus.FILLED
    assert await broker.get_order("tb-never-placed") is None
    assert await broker.get_order("tb-never-placed-either") is None
    history = [r for r in harness.server.requests if r.arg("filter") == "all"]
    assert len(history) == 1


async def test_empty_and_single_collections(broker: TradierBroker, harness: TradierHarness) -> None:
    assert await broker.list_orders() == []
    assert await broker.positions() == []
    await broker.place_order(order("AAPL", Side.BUY, "1"))
    assert [p.symbol for p in await broker.positions()] == ["AAPL"]
    assert len(await broker.list_orders()) == 1


async def test_quotes_skip_unmatched_and_chunk_long_lists(broker: TradierBroker, harness: TradierHarness) -> None:
    assert await broker.quotes(["ZZZZQ"]) == {}
    quotes = await broker.quotes(["AAPL", "aapl", "ZZZZQ"])
    assert set(quotes) == {"AAPL"} and quotes["AAPL"].last == Decimal("189.55")
    many = [f"Q{n:03d}" for n in range(150)] + ["MSFT"]
    assert set(await broker.quotes(many)) == {"MSFT"}
    assert len([r for r in harness.server.requests if r.path.endswith("/markets/quotes")]) == 4


# ----------------------------------------------------------------------------- rate limits


def test_client_pacing_stays_within_the_published_limits() -> None:
    assert TRADIER_LIMITS[Environment.PAPER] == TradierLimits(standard=60, market_data=60, trading=60)
    assert TRADIER_LIMITS[Environment.LIVE] == TradierLimits(standard=120, market_data=120, trading=60)
    for limits in TRADIER_LIMITS.values():
        for per_minute in (limits.standard, limits.market_data, limits.trading):
            refill, burst = limiter_plan(per_minute)
            assert burst >= 1 and refill + burst <= per_minute


async def test_used_up_window_pauses_instead_of_hitting_429(broker: TradierBroker, harness: TradierHarness) -> None:
    harness.fake.limits = TradierLimits(standard=3, market_data=60, trading=60)
    harness.fake.window_seconds = 0.8
    started = time.monotonic()
    for _ in range(4):
        await broker.positions()
    assert time.monotonic() - started >= 0.5
    assert statuses(harness, "GET", "/positions") == [200, 200, 200, 200]


async def test_429_on_reads_is_retried_after_retry_after(broker: TradierBroker, harness: TradierHarness) -> None:
    harness.fake.throttle_count, harness.fake.throttle_retry_after = 1, "0.2"
    assert await broker.positions() == []
    assert statuses(harness, "GET", "/positions") == [429, 200]


async def test_429_on_an_order_is_rate_limited_and_nothing_sent_again(
    broker: TradierBroker, harness: TradierHarness
) -> None:
    request = order("AAPL", Side.BUY, "1", position_effect=PositionEffect.OPEN)
    harness.fake.throttle_count, harness.fake.throttle_retry_after = 1, "0.2"
    with pytest.raises(RateLimited) as raised:
        await broker.place_order(request)
    assert raised.value.retry_after == pytest.approx(0.2)
    assert statuses(harness, "POST", "/orders") == [429]
    assert harness.order_count() == 0


async def test_server_errors_on_reads_are_retried_then_reported(broker: TradierBroker, harness: TradierHarness) -> None:
    harness.fake.read_errors = 1
    assert await broker.positions() == []
    harness.fake.read_errors = 3
    with pytest.raises(BrokerUnavailable):
        await broker.positions()


async def test_sandbox_pacing_holds_a_burst_to_the_bucket_size(harness: TradierHarness) -> None:
    connector = TradierBroker(
        {"access_token": SANDBOX_TOKEN, "account_number": ACCOUNT}, Environment.PAPER, base_url=harness.base_url
    )
    try:
        refill, burst = limiter_plan(TRADIER_LIMITS[Environment.PAPER].market_data)
        started = time.monotonic()
        for _ in range(burst + 1):
            await connector.quotes(["AAPL"])
        assert time.monotonic() - started >= 0.9 * 60 / refill
    finally:
        await connector.close()
