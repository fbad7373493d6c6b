"""The session fields the watchlist reads from a recorded Cboe quote: previous close and volume."""

from __future__ import annotations

from decimal import Decimal

from app.marketdata.cboe import parse_cboe_quote
from tests.marketdata.conftest import fixture_json


def test_previous_close_is_the_price_less_its_change_and_volume_is_kept():
    quote = parse_cboe_quote(fixture_json("quote_AAPL.json"))
    assert quote is not None
    # quote_AAPL.json: current_price 212.8, price_change 4.18 (its prev_day_close already says 213.25, the close).
    assert quote.prev_close == Decimal("208.62")
    assert quote.volume == Decimal("66213186")


def test_without_a_change_the_previous_close_field_is_used():
    body = fixture_json("quote_AAPL.json")
    del body["data"]["price_change"]
    quote = parse_cboe_quote(body)
    assert quote is not None and quote.prev_close == Decimal("213.25")
