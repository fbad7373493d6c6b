"""Tastytrade connector against the fake over HTTP: OAuth token life cycle, headers, account choice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest

from app.brokers.base import AccountType, AuthError, BrokerUnavailable, Environment
from app.brokers.loader import load_factory
from app.brokers.tastytrade.connector import API_VERSION, TastytradeBroker
from app.brokers.tastytrade.spec import SPEC
from app.domain.models import OrderRequest, OrderType, Side
from app.domain.symbols import parse_symbol
from tests.fakes.tastytrade import CLIENT_SECRET, REFRESH_TOKEN, TastytradeFake
from tests.fakes.tastytrade_book import FakeAccount

Factory = Callable[..., TastytradeBroker]


@pytest.fixture
async def fake() -> AsyncIterator[TastytradeFake]:
    server = TastytradeFake().start()
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


@pytest.fixture
async def make(fake: TastytradeFake) -> AsyncIterator[Factory]:
    made: list[TastytradeBroker] = []

    def build(
        environment: Environment = Environment.PAPER, *, secret: str = CLIENT_SECRET, account: str = ""
    ) -> TastytradeBroker:
        credentials = {"client_secret": secret, "refresh_token": REFRESH_TOKEN, "account_number": account}
        broker = TastytradeBroker(credentials, environment, base_url=fake.url)
        made.append(broker)
        return broker

    yield build
    for broker in made:
        await broker.close()


async def test_headers_token_grant_and_bearer(fake: TastytradeFake, make: Factory) -> None:
    await make().verify()
    token_call, *api_calls = fake.server.requests
    assert token_call.path == "/oauth/token"
    assert "authorization" not in token_call.headers
    assert json.loads(token_call.body) == {
        "grant_type": "refresh_token",
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
    }
    assert [r.path for r in api_calls] == ["/customers/me/accounts", "/accounts/5WT00001/balances"]
    for call in fake.server.requests:
        assert call.header("user-agent") == "TradeBridge/0.1.0"
        assert "accept-version" not in call.headers  # the sandbox refuses it
    assert all(r.header("authorization").startswith("Bearer ") for r in api_calls)


async def test_production_pins_the_api_version_and_dates_order_searches() -> None:
    live = TastytradeFake(sandbox=False).start()
    broker = TastytradeBroker(
        {"client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}, Environment.LIVE, base_url=live.url
    )
    try:
        info = await broker.verify()
        assert info.is_paper is False
        # An unknown id falls through to the history search, which version 20261012 refuses without a date.
        assert await broker.get_order("tb-0000000000000-deadbeef") is None
    finally:
        await broker.close()
        await asyncio.to_thread(live.stop)
    assert {r.header("accept-version") for r in live.server.requests} == {API_VERSION}
    [search] = [r for r in live.server.requests if r.path == "/accounts/5WT00001/orders"]
    assert search.arg("start-date") and search.arg("sort") == "Desc"


async def test_one_token_serves_many_calls(fake: TastytradeFake, make: Factory) -> None:
    broker = make()
    # Concurrent first calls must share a single grant, not race three of them.
    await asyncio.gather(broker.positions(), broker.list_orders(), broker.quotes(["AAPL"]))
    await broker.verify()
    assert fake.book.token_requests == 1


async def test_token_renewed_when_less_than_a_minute_is_left(fake: TastytradeFake, make: Factory) -> None:
    fake.book.token_ttl = 61
    broker = make()
    await broker.verify()
    await broker.positions()
    assert fake.book.token_requests == 1
    await asyncio.sleep(1.1)  # the 61 s token now has under 60 s left
    await broker.positions()
    assert fake.book.token_requests == 2


async def test_expired_token_is_renewed_once_on_401(fake: TastytradeFake, make: Factory) -> None:
    broker = make()
    await broker.verify()
    fake.book.expire_tokens()
    assert await broker.positions() == []
    assert fake.book.token_requests == 2
    first, second = fake.requests_to(r"/positions$")
    assert first.header("authorization") != second.header("authorization")


async def test_second_401_is_auth_error_without_a_loop(fake: TastytradeFake, make: Factory) -> None:
    broker = make()
    await broker.verify()
    fake.inject_fault("unauthorized", target=r"^GET .*/positions$", times=10)
    with pytest.raises(AuthError):
        await broker.positions()
    assert fake.book.token_requests == 2
    assert len(fake.requests_to(r"/positions$")) == 2


async def test_refused_grant_is_never_retried_until_verify(fake: TastytradeFake, make: Factory) -> None:
    broker = make(secret="a-wrong-client-secret")
    with pytest.raises(AuthError) as refused:
        await broker.verify()
    assert "a-wrong-client-secret" not in str(refused.value) and REFRESH_TOKEN not in str(refused.value)
    assert "sandbox" in str(refused.value)
    for call in (broker.positions(), broker.list_orders(), broker.quotes(["AAPL"]), broker.get_order("tb-x")):
        with pytest.raises(AuthError):
            await call
    assert fake.book.token_requests == 1
    with pytest.raises(AuthError):
        await broker.verify()  # an explicit reconnect makes exactly one new attempt
    assert fake.book.token_requests == 2


async def test_token_server_error_is_unavailable_and_not_latched(fake: TastytradeFake, make: Factory) -> None:
    fake.inject_fault("server_error", target=r"^POST /oauth/token$")
    broker = make()
    with pytest.raises(BrokerUnavailable):
        await broker.verify()
    assert fake.book.token_requests == 0  # the fault answered before the grant was looked at
    assert len(fake.requests_to(r"/oauth/token$")) == 1  # a token request is never retried by itself
    await broker.verify()
    assert fake.book.token_requests == 1


async def test_order_refused_with_401_is_resent_once_with_a_new_token(fake: TastytradeFake, make: Factory) -> None:
    broker = make()
    await broker.verify()
    fake.inject_fault("unauthorized")
    request = OrderRequest(parse_symbol("AAPL"), Side.BUY, Decimal(1), OrderType.LIMIT, limit_price=Decimal(100))
    placed = await broker.place_order(request)
    assert placed.client_order_id == request.client_order_id
    assert fake.book.order_count == 1
    first, second = fake.requests_to(r"^POST /accounts/5WT00001/orders$")
    assert first.body == second.body and first.header("authorization") != second.header("authorization")


@pytest.mark.parametrize(
    ("kind", "cash_or_margin", "expected"),
    [("Roth IRA", "Cash", AccountType.IRA), ("Individual", "Cash", AccountType.CASH),
     ("Individual", "Margin", AccountType.MARGIN)],
)  # fmt: skip
async def test_account_type_reaches_account_info(kind: str, cash_or_margin: str, expected: AccountType) -> None:
    fake = TastytradeFake(accounts=[FakeAccount("5WT00042", kind, cash_or_margin, cash=Decimal("2500"))]).start()
    broker = TastytradeBroker({"client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}, Environment.PAPER,
                              base_url=fake.url)  # fmt: skip
    try:
        info = await broker.verify()
    finally:
        await broker.close()
        await asyncio.to_thread(fake.stop)
    assert info.account_type is expected and info.account_number == "5WT00042"
    assert info.cash == Decimal("2500") and info.equity == Decimal("2500")
    assert info.buying_power == Decimal("2500") * (2 if cash_or_margin == "Margin" else 1)


async def test_several_accounts_need_the_account_number() -> None:
    accounts = [
        FakeAccount("5WT00001"),
        FakeAccount("5WT00002", "Roth IRA", "Cash"),
        FakeAccount("5WT00003", closed=True),
    ]
    fake = TastytradeFake(accounts=accounts).start()

    def broker(account: str) -> TastytradeBroker:
        credentials = {"client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN, "account_number": account}
        return TastytradeBroker(credentials, Environment.PAPER, base_url=fake.url)

    unspecified, chosen, closed = broker(""), broker("5wt00002"), broker("5WT00003")
    try:
        with pytest.raises(AuthError, match="5WT00001, 5WT00002"):
            await unspecified.verify()
        assert (await chosen.verify()).account_type is AccountType.IRA
        assert "…0002" in repr(chosen)
        with pytest.raises(AuthError, match="5WT00003"):
            await closed.verify()
    finally:
        for b in (unspecified, chosen, closed):
            await b.close()
        await asyncio.to_thread(fake.stop)


async def test_repr_and_spec_never_expose_secrets(make: Factory) -> None:
    broker = make()
    assert CLIENT_SECRET not in repr(broker) and REFRESH_TOKEN not in repr(broker)
    assert repr(broker) == "TastytradeBroker(environment=paper, account=unverified)"
    await broker.verify()
    assert repr(broker) == "TastytradeBroker(environment=paper, account=…0001)"
    fields = {f.name: f for f in SPEC.fields}
    assert fields["client_secret"].secret and fields["refresh_token"].secret
    assert not fields["account_number"].secret and not fields["account_number"].required
    assert await load_factory(SPEC.factory) is TastytradeBroker and SPEC.docs == "docs/brokers/tastytrade.md"
