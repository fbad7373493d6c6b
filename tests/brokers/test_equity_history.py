"""Each connector's account history against its fake over loopback: served where the API has it, else not offered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.brokers.alpaca.connector import AlpacaBroker
from app.brokers.base import AuthError, BrokerUnavailable, Environment, HistoryNotOffered
from app.brokers.registry import get_spec
from app.brokers.tastytrade.connector import TastytradeBroker
from tests.fakes import make_fake
from tests.fakes.alpaca import LIVE_ACCOUNT, FakeAlpaca
from tests.fakes.tastytrade import CLIENT_SECRET, REFRESH_TOKEN, TastytradeFake

D = Decimal
NOW = datetime.now(UTC).replace(microsecond=0)
DAYS = [NOW - timedelta(days=n) for n in (40, 3, 2, 1)]


@pytest.fixture
async def alpaca() -> AsyncIterator[FakeAlpaca]:
    fake = FakeAlpaca(account_number=LIVE_ACCOUNT).start()
    try:
        yield fake
    finally:
        await asyncio.to_thread(fake.stop)


def _alpaca_broker(fake: FakeAlpaca) -> AlpacaBroker:
    credentials = {"api_key_id": fake.key_id, "api_secret_key": fake.secret_key}
    return AlpacaBroker(credentials, Environment.LIVE, base_url=fake.url, timeout=(2.0, 3.0), retry_backoff=0.01)


async def test_alpaca_serves_its_portfolio_history_from_since_on(alpaca: FakeAlpaca) -> None:
    alpaca.equity_history.set([(DAYS[0], D("24000")), (DAYS[1], None), (DAYS[2], D("25312.47")), (DAYS[3], D("25001.5"))])
    broker = _alpaca_broker(alpaca)
    try:
        points = await broker.equity_history(NOW - timedelta(days=30))
    finally:
        await broker.close()
    assert [(p.at, p.equity, p.cash) for p in points] == [(DAYS[2], D("25312.47"), None), (DAYS[3], D("25001.5"), None)]
    (query,) = alpaca.equity_history.requests
    assert query == {"period": ["1M"], "timeframe": ["1D"]}


async def test_alpaca_history_of_a_new_account_is_empty(alpaca: FakeAlpaca) -> None:
    alpaca.equity_history.set([(DAYS[3], None)])
    broker = _alpaca_broker(alpaca)
    try:
        assert await broker.equity_history(datetime.now(UTC) - timedelta(days=364)) == []
    finally:
        await broker.close()
    assert alpaca.equity_history.requests[0]["period"] == ["1A"]


async def test_alpaca_history_with_bad_keys_is_an_auth_error(alpaca: FakeAlpaca) -> None:
    credentials = {"api_key_id": alpaca.key_id, "api_secret_key": "wrong"}
    broker = AlpacaBroker(credentials, Environment.LIVE, base_url=alpaca.url, timeout=(2.0, 3.0))
    try:
        with pytest.raises(AuthError):
            await broker.equity_history(NOW - timedelta(days=30))
    finally:
        await broker.close()
    assert alpaca.equity_history.requests == []


def _tastytrade_broker(fake: TastytradeFake, environment: Environment) -> TastytradeBroker:
    return TastytradeBroker(
        {"client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}, environment, base_url=fake.url
    )


async def test_tastytrade_serves_the_net_liq_history_in_production() -> None:
    fake = TastytradeFake(sandbox=False).start()
    fake.equity_history.set([(DAYS[0], D("9000")), (DAYS[2], D("10210.50")), (DAYS[3], D("10044.75"))])
    broker = _tastytrade_broker(fake, Environment.LIVE)
    try:
        points = await broker.equity_history(NOW - timedelta(days=30))
    finally:
        await broker.close()
        await asyncio.to_thread(fake.stop)
    assert [(p.at, p.equity) for p in points] == [(DAYS[2], D("10210.50")), (DAYS[3], D("10044.75"))]
    (query,) = fake.equity_history.requests
    assert query == {"time-back": ["1m"]}


async def test_tastytrade_sandbox_refusal_reads_as_no_history() -> None:
    fake = TastytradeFake(sandbox=True).start()
    fake.equity_history.set([(DAYS[3], D("10044.75"))])
    broker = _tastytrade_broker(fake, Environment.PAPER)
    try:
        with pytest.raises(HistoryNotOffered, match="no net-liq history"):
            await broker.equity_history(NOW - timedelta(days=30))
    finally:
        await broker.close()
        await asyncio.to_thread(fake.stop)


@pytest.mark.parametrize("key", ["tradier", "ibkr"])
async def test_brokers_without_a_history_say_so_without_asking(key: str) -> None:
    fake = make_fake(key).serve_in_background()
    spec = get_spec(key)
    assert spec is not None and spec.capabilities.equity_history is False
    broker = spec.factory(fake.credentials(), Environment.PAPER, base_url=fake.address if key != "ibkr" else None)
    try:
        with pytest.raises(HistoryNotOffered):
            await broker.equity_history(NOW - timedelta(days=30))
    finally:
        await broker.close()
        await asyncio.to_thread(fake.shut_down)
    with pytest.raises(BrokerUnavailable, match="closed"):
        await broker.equity_history(NOW - timedelta(days=30))


def test_the_brokers_with_a_history_declare_it() -> None:
    assert get_spec("alpaca").capabilities.equity_history is True
    assert get_spec("tastytrade").capabilities.equity_history is True
