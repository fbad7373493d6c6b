"""Fixtures and helpers shared by the Tradier connector tests: the fake on loopback and a connector aimed at it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.brokers.tradier.http import TradierLimits
from app.domain.models import OrderRequest, OrderType, Side
from app.domain.symbols import parse_symbol
from tests.fakes.tradier import TradierHarness

OPTION = "AAPL250117C00150000"
#: Client-side pacing far above the fake's windows, for tests that are about something else.
FAST = TradierLimits(standard=6000, market_data=6000, trading=6000)


def order(
    symbol: str,
    side: Side,
    qty: str,
    order_type: OrderType = OrderType.MARKET,
    limit: str | None = None,
    **kwargs: Any,
) -> OrderRequest:
    return OrderRequest(
        instrument=parse_symbol(symbol),
        side=side,
        quantity=Decimal(qty),
        order_type=order_type,
        limit_price=Decimal(limit) if limit else None,
        **kwargs,
    )


@pytest.fixture
async def harness():
    harness = TradierHarness()
    await harness.start()
    harness.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    harness.set_quote("MSFT", Decimal("410.10"), Decimal("410.30"), Decimal("410.20"))
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def broker(harness: TradierHarness):
    connector = harness.connector(limits=FAST)
    try:
        yield connector
    finally:
        await connector.close()


def posts(harness: TradierHarness) -> list[dict[str, str]]:
    assert harness.server is not None
    return [r.form() for r in harness.server.requests if r.method == "POST" and r.path.endswith("/orders")]


def statuses(harness: TradierHarness, method: str, suffix: str) -> list[int]:
    return [status for m, path, status in harness.fake.responses if m == method and path.endswith(suffix)]


async def raw_get(harness: TradierHarness, path: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=harness.base_url) as client:
        return await client.get(path, headers=headers)
