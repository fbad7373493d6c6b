"""Parametrises the contract suite over every broker's fake."""

from __future__ import annotations

import importlib

import pytest

HARNESSES = {
    "alpaca": "tests.fakes.alpaca:AlpacaHarness",
    "tradier": "tests.fakes.tradier:TradierHarness",
    "tastytrade": "tests.fakes.tastytrade:TastytradeHarness",
    "ibkr": "tests.fakes.tws:IbkrHarness",
}


@pytest.fixture(params=sorted(HARNESSES))
async def harness(request: pytest.FixtureRequest):
    module_name, class_name = HARNESSES[request.param].split(":")
    harness = getattr(importlib.import_module(module_name), class_name)()
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
