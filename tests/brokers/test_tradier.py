"""The Tradier connector against the fake Tradier API over loopback HTTP: quirks, errors and safety rules."""

from __future__ import annotations

import signal
import subprocess
import sys
from decimal import Decimal

import pytest

from app.brokers.base import (
    AccountType,
    AuthError,
    Broker,
    BrokerUnavailable,
    Environment,
    EnvironmentMismatch,
)
from app.brokers.tradier.connector import TRADIER_ENDPOINTS, TradierBroker
from app.brokers.tradier.spec import SPEC
from app.domain.models import OrderType, PositionEffect, Side
from tests.brokers.tradier_support import broker, harness, order, raw_get
from tests.fakes.tradier import ACCOUNT, LIVE_TOKEN, SANDBOX_TOKEN, TradierHarness
from tests.fakes.tradier_book import FakeAccount

__all__ = ["broker", "harness"]  # fixtures used by name

# ----------------------------------------------------------------------------- wire basics


async def test_every_request_sends_bearer_and_json_accept_and_orders_are_forms(
    broker: TradierBroker, harness: TradierHarness
) -> None:
    await broker.verify()
    request = order("MSFT", Side.BUY, "2", OrderType.LIMIT, "350.00")
    await broker.place_order(request)
    assert harness.server is not None
    for sent in harness.server.requests:
        assert sent.header("authorization") == f"Bearer {SANDBOX_TOKEN}"
        assert sent.header("accept") == "application/json"
    post = next(r for r in harness.server.requests if r.method == "POST")
    assert post.header("content-type") == "application/x-www-form-urlencoded"
    assert post.form()["tag"] == request.client_order_id
    order_reads = [r for r in harness.server.requests if r.method == "GET" and "/orders" in r.path]
    assert order_reads and all(r.arg("includeTags") == "true" for r in order_reads)


async def test_without_accept_the_fake_answers_xml_like_tradier(harness: TradierHarness) -> None:
    response = await raw_get(harness, "/user/profile", Authorization=f"Bearer {SANDBOX_TOKEN}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml"
    assert response.text.startswith("<?xml") and f"<account_number>{ACCOUNT}</account_number>" in response.text


async def test_tags_are_only_returned_when_asked_for(broker: TradierBroker, harness: TradierHarness) -> None:
    placed = await broker.place_order(order("MSFT", Side.BUY, "1", OrderType.LIMIT, "300"))
    bare = await raw_get(
        harness,
        f"/accounts/{ACCOUNT}/orders/{placed.broker_order_id}",
        Authorization=f"Bearer {SANDBOX_TOKEN}",
        Accept="application/json",
    )
    assert "tag" not in bare.json()["order"]
    assert placed.client_order_id  # the connector asked with includeTags=true


async def test_environment_resolves_to_the_documented_hosts() -> None:
    assert TRADIER_ENDPOINTS[Environment.PAPER] == "https://sandbox.tradier.com/v1"
    assert TRADIER_ENDPOINTS[Environment.LIVE] == "https://api.tradier.com/v1"
    creds = {"access_token": "t", "account_number": "VA1"}
    live = TradierBroker(creds, Environment.LIVE)
    paper = TradierBroker(creds, Environment.PAPER)
    override = TradierBroker(creds, Environment.LIVE, base_url="http://127.0.0.1:9/v1/")
    try:
        assert live.base_url == "https://api.tradier.com/v1"
        assert paper.base_url == "https://sandbox.tradier.com/v1"
        assert override.base_url == "http://127.0.0.1:9/v1"
    finally:
        for connector in (live, paper, override):
            await connector.close()


async def test_repr_and_errors_never_show_the_token(harness: TradierHarness) -> None:
    connector = harness.connector(valid_credentials=False)
    good = harness.connector()
    try:
        assert "token" not in repr(good).lower() and SANDBOX_TOKEN not in repr(good)
        assert repr(good).endswith("account=…0001)")
        with pytest.raises(AuthError) as raised:
            await connector.verify()
        assert "not-a-real-token" not in str(raised.value)
        assert ACCOUNT not in str(raised.value)
    finally:
        await connector.close()
        await good.close()


# ----------------------------------------------------------------------------- verify and auth


async def test_verify_margin_account(broker: TradierBroker) -> None:
    info = await broker.verify()
    assert info.account_number == ACCOUNT
    assert info.account_type is AccountType.MARGIN
    assert info.account_type_label == "Individual (margin)"
    assert info.buying_power == Decimal(200000)  # stock_buying_power
    assert info.cash == Decimal(100000) and info.equity == Decimal(100000)
    assert info.is_paper is True


async def test_verify_cash_and_ira_accounts(broker: TradierBroker, harness: TradierHarness) -> None:
    account = harness.fake.book.accounts[ACCOUNT]
    account.type, account.balances_kind, account.cash = "cash", "cash", Decimal("2500.50")
    info = await broker.verify()
    assert info.account_type is AccountType.CASH
    assert info.buying_power == Decimal("2500.5")  # cash.cash_available
    account.classification = "roth_ira"
    assert (await broker.verify()).account_type is AccountType.IRA


async def test_verify_picks_our_account_from_a_profile_array(broker: TradierBroker, harness: TradierHarness) -> None:
    harness.fake.book.accounts["VA20000002"] = FakeAccount("VA20000002", type="cash", balances_kind="cash")
    harness.fake.tokens[SANDBOX_TOKEN].insert(0, "VA20000002")
    auth = f"Bearer {SANDBOX_TOKEN}"
    profile = await raw_get(harness, "/user/profile", Authorization=auth, Accept="application/json")
    assert isinstance(profile.json()["profile"]["account"], list)
    info = await broker.verify()
    assert info.account_number == ACCOUNT and info.account_type is AccountType.MARGIN


async def test_account_not_on_the_token_is_an_auth_error(harness: TradierHarness) -> None:
    connector = TradierBroker(
        {"access_token": SANDBOX_TOKEN, "account_number": "va99998888"}, Environment.PAPER, base_url=harness.base_url
    )
    try:
        with pytest.raises(AuthError, match="…8888"):
            await connector.verify()
    finally:
        await connector.close()


async def test_closed_account_is_an_auth_error(broker: TradierBroker, harness: TradierHarness) -> None:
    harness.fake.book.accounts[ACCOUNT].status = "closed"
    with pytest.raises(AuthError, match="closed"):
        await broker.verify()


async def test_verify_without_profile_endpoint_relies_on_balances(
    broker: TradierBroker, harness: TradierHarness
) -> None:
    harness.fake.profile_unavailable = True
    info = await broker.verify()
    assert info.account_number == ACCOUNT and info.buying_power > 0


async def test_401_plain_text_body_is_an_auth_error(harness: TradierHarness) -> None:
    raw = await raw_get(harness, "/user/profile", Authorization="Bearer nope", Accept="application/json")
    assert raw.status_code == 401 and raw.headers["content-type"] == "text/plain"
    connector = harness.connector(valid_credentials=False)
    try:
        with pytest.raises(AuthError):
            await connector.verify()
    finally:
        await connector.close()


async def test_token_of_the_other_environment_is_an_environment_mismatch(harness: TradierHarness) -> None:
    connector = TradierBroker(
        {"access_token": LIVE_TOKEN, "account_number": ACCOUNT}, Environment.PAPER, base_url=harness.base_url
    )
    try:
        with pytest.raises(EnvironmentMismatch):
            await connector.verify()
    finally:
        await connector.close()


async def test_missing_credentials_are_refused_before_any_request() -> None:
    with pytest.raises(AuthError, match="access token"):
        TradierBroker({"account_number": "VA1"}, Environment.PAPER)
    with pytest.raises(AuthError, match="account number"):
        TradierBroker({"access_token": "x"}, Environment.PAPER)


async def test_revoked_token_on_order_is_auth_error_and_nothing_placed(
    broker: TradierBroker, harness: TradierHarness
) -> None:
    harness.fake.fail_auth = True
    with pytest.raises(AuthError):
        await broker.place_order(order("AAPL", Side.BUY, "1", position_effect=PositionEffect.OPEN))
    assert harness.order_count() == 0


async def test_closed_connector_refuses_calls(broker: TradierBroker) -> None:
    await broker.close()
    with pytest.raises(BrokerUnavailable, match="closed"):
        await broker.positions()


async def test_registry_spec() -> None:
    fields = {f.name: f for f in SPEC.fields}
    assert SPEC.key == "tradier" and SPEC.docs == "docs/brokers/tradier.md"
    assert fields["access_token"].secret is True and fields["account_number"].secret is False
    assert set(SPEC.environments) == {Environment.PAPER, Environment.LIVE}
    assert SPEC.capabilities.options and SPEC.capabilities.preview and not SPEC.capabilities.fractional
    built = SPEC.factory({"access_token": "t", "account_number": "VA1"}, Environment.PAPER)
    try:
        assert isinstance(built, Broker)
    finally:
        await built.close()


@pytest.mark.subprocess
async def test_standalone_fake_serves_a_connector_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.tradier", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(3)]
        base_url = banner[0].rsplit(" ", 1)[-1].strip()
        token = banner[1].split(":", 1)[1].strip()
        account = banner[2].split(":", 1)[1].strip()
        credentials = {"access_token": token, "account_number": account}
        connector = TradierBroker(credentials, Environment.PAPER, base_url=base_url)
        try:
            info = await connector.verify()
            assert info.account_number == account and info.is_paper
            assert (await connector.quotes(["AAPL"]))["AAPL"].ask == Decimal("189.60")
        finally:
            await connector.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
