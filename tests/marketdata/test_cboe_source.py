"""CboeDelayedQuotes against the fake Cboe CDN over loopback HTTP: fetching, caching, limits and failures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from app.marketdata.base import QuoteSource, QuoteUnavailable
from app.marketdata.cboe import CboeDelayedQuotes, parse_cboe_option_chain, parse_cboe_quote
from tests.fakes.cboe import FakeCboe
from tests.marketdata.conftest import FakeClock, fixture_bytes, fixture_json


@pytest.fixture
async def source(cboe: FakeCboe, clock: FakeClock) -> AsyncIterator[CboeDelayedQuotes]:
    cboe.serve_fixture("/quotes/AAPL.json", "quote_AAPL.json")
    cboe.serve_fixture("/quotes/CLX.json", "quote_CLX.json")
    cboe.serve_fixture("/options/CLX.json", "options_CLX.json")
    quotes = CboeDelayedQuotes(cboe.base_url, clock=clock)
    try:
        yield quotes
    finally:
        await quotes.close()


def underlying_only(fixture: str) -> bytes:
    """An options body without its chain: the shape of the quotes file of the same symbol."""
    body = json.loads(fixture_bytes(fixture))
    body["data"].pop("options")
    return json.dumps(body).encode()


def test_it_is_a_delayed_quote_source() -> None:
    quotes = CboeDelayedQuotes()
    assert isinstance(quotes, QuoteSource)
    assert quotes.delayed is True
    assert "Cboe" in quotes.name


async def test_stocks_and_options_in_one_call(source: CboeDelayedQuotes, cboe: FakeCboe) -> None:
    found = await source.quotes(["AAPL", "clx260821c00095000", "CLX260821P00055000", "CLX"])

    assert found == {
        "AAPL": parse_cboe_quote(fixture_json("quote_AAPL.json")),
        "CLX": parse_cboe_quote(fixture_json("quote_CLX.json")),
        "CLX260821C00095000": parse_cboe_option_chain(fixture_json("options_CLX.json"))["CLX260821C00095000"],
        "CLX260821P00055000": parse_cboe_option_chain(fixture_json("options_CLX.json"))["CLX260821P00055000"],
    }
    assert found["CLX260821C00095000"].bid == Decimal("3.4")
    assert cboe.hits == {"/quotes/AAPL.json": 1, "/quotes/CLX.json": 1, "/options/CLX.json": 1}


async def test_requests_say_who_is_asking(source: CboeDelayedQuotes, cboe: FakeCboe) -> None:
    await source.quotes(["AAPL"])

    (agent,) = cboe.user_agents
    assert agent.startswith("TradeBridge/")


async def test_unknown_symbols_are_absent(source: CboeDelayedQuotes, cboe: FakeCboe) -> None:
    cboe.serve_fixture("/quotes/MSFT.json", "quote_AAPL.json")
    cboe.status_overrides["/quotes/MSFT.json"] = 403

    found = await source.quotes(
        ["AAPL", "ZZZZ", "MSFT", "CLX260821C00100000", "ZZZZ260821C00100000", "not a symbol!", ""]
    )

    assert list(found) == ["AAPL"]
    assert cboe.hits["/quotes/ZZZZ.json"] == 1
    assert cboe.hits["/options/ZZZZ.json"] == 1


async def test_no_symbols_no_requests(source: CboeDelayedQuotes, cboe: FakeCboe) -> None:
    assert await source.quotes([]) == {}
    assert cboe.hits == {}


async def test_index_and_weekly_index_options_use_the_underscore_files(
    source: CboeDelayedQuotes, cboe: FakeCboe
) -> None:
    cboe.serve_fixture("/options/_SPX.json", "options_SPX_synthetic.json")
    cboe.serve("/quotes/_SPX.json", underlying_only("options_SPX_synthetic.json"))

    found = await source.quotes(["SPX", "SPXW260821C06400000", "SPX260821C06400000"])

    assert found["SPX"].symbol == "SPX" and found["SPX"].last == Decimal("6388.64")
    assert found["SPXW260821C06400000"].last == Decimal("61.9")
    assert found["SPX260821C06400000"].mark == Decimal("61.85")
    assert cboe.hits == {"/quotes/_SPX.json": 1, "/options/_SPX.json": 1}


async def test_a_class_share_is_keyed_as_typed(source: CboeDelayedQuotes, cboe: FakeCboe) -> None:
    cboe.serve_fixture("/quotes/BRK.B.json", "quote_AAPL.json")

    found = await source.quotes(["BRK/B"])

    assert list(found) == ["BRK/B"]
    assert found["BRK/B"].symbol == "BRK/B"


async def test_chain_is_cached_for_a_few_seconds(source: CboeDelayedQuotes, cboe: FakeCboe, clock: FakeClock) -> None:
    await source.quotes(["CLX260821C00095000"])
    clock.advance(4.9)
    again = await source.quotes(["CLX260821P00095000"])
    assert cboe.hits["/options/CLX.json"] == 1
    assert again["CLX260821P00095000"].ask == Decimal("4.6")

    clock.advance(0.2)
    await source.quotes(["CLX260821C00095000"])
    assert cboe.hits["/options/CLX.json"] == 2


async def test_concurrent_callers_share_one_chain_download(source: CboeDelayedQuotes, cboe: FakeCboe) -> None:
    first, second = await asyncio.gather(
        source.quotes(["CLX260821C00095000"]), source.quotes(["CLX260821P00095000", "CLX260821C00095000"])
    )

    assert cboe.hits["/options/CLX.json"] == 1
    assert first["CLX260821C00095000"] == second["CLX260821C00095000"]


async def test_stock_quotes_are_not_cached(source: CboeDelayedQuotes, cboe: FakeCboe) -> None:
    await source.quotes(["AAPL"])
    await source.quotes(["AAPL"])

    assert cboe.hits["/quotes/AAPL.json"] == 2


async def test_fetches_run_concurrently_up_to_the_cap(cboe: FakeCboe) -> None:
    symbols = [f"T{letter}" for letter in "ABCDEF"]
    for symbol in symbols:
        cboe.serve_fixture(f"/quotes/{symbol}.json", "quote_AAPL.json")
    # Parked requests wait for a fourth that a capped client never sends.
    cboe.hold_until_concurrent = 4
    cboe.hold_seconds = 0.3
    quotes = CboeDelayedQuotes(cboe.base_url, max_concurrency=3)
    try:
        found = await quotes.quotes(symbols)
    finally:
        await quotes.close()

    assert sorted(found) == symbols
    assert cboe.max_in_flight == 3


async def test_unreachable_cboe_raises_quote_unavailable(source: CboeDelayedQuotes, cboe: FakeCboe) -> None:
    cboe.fail = "drop"

    with pytest.raises(QuoteUnavailable) as raised:
        await source.quotes(["AAPL", "CLX260821C00095000", "clx260821c00095000"])

    assert "could not be reached" in str(raised.value)
    assert sorted(raised.value.failed) == ["AAPL", "CLX260821C00095000"]
    assert raised.value.partial == {}


async def test_server_error_raises_quote_unavailable(source: CboeDelayedQuotes, cboe: FakeCboe) -> None:
    cboe.fail = "error"

    with pytest.raises(QuoteUnavailable, match=r"\(503\)"):
        await source.quotes(["AAPL"])


async def test_failed_chain_is_not_cached(source: CboeDelayedQuotes, cboe: FakeCboe) -> None:
    cboe.fail = "error"
    with pytest.raises(QuoteUnavailable):
        await source.quotes(["CLX260821C00095000"])

    cboe.fail = None
    found = await source.quotes(["CLX260821C00095000"])

    assert "CLX260821C00095000" in found
    assert cboe.hits["/options/CLX.json"] == 2


async def test_partial_failure_keeps_what_arrived(source: CboeDelayedQuotes, cboe: FakeCboe) -> None:
    cboe.status_overrides["/quotes/CLX.json"] = 500

    with pytest.raises(QuoteUnavailable) as raised:
        await source.quotes(["AAPL", "CLX"])

    assert raised.value.failed == ("CLX",)
    assert list(raised.value.partial) == ["AAPL"]
    assert raised.value.partial["AAPL"].bid == Decimal("212.76")
    assert "CLX" in str(raised.value)


async def test_unreadable_body_raises_quote_unavailable(source: CboeDelayedQuotes, cboe: FakeCboe) -> None:
    cboe.serve("/quotes/AAPL.json", b"<html>maintenance</html>")
    cboe.serve("/options/CLX.json", b"[1, 2, 3]")

    with pytest.raises(QuoteUnavailable, match="could not be read") as raised:
        await source.quotes(["AAPL", "CLX260821C00095000"])

    assert sorted(raised.value.failed) == ["AAPL", "CLX260821C00095000"]


async def test_slow_answer_times_out(cboe: FakeCboe) -> None:
    cboe.serve_fixture("/quotes/AAPL.json", "quote_AAPL.json")
    cboe.stall_seconds = 2.0
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.1)) as client:
        quotes = CboeDelayedQuotes(cboe.base_url, client=client)

        with pytest.raises(QuoteUnavailable, match="ReadTimeout"):
            await quotes.quotes(["AAPL"])

        await quotes.close()
        # The caller's client stays the caller's to close.
        assert not client.is_closed
