"""Fixtures for the quote-source tests: recorded Cboe bodies, the fake Cboe CDN and a test clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.fakes.cboe import FIXTURES, FakeCboe


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str, *, exact: bool = True) -> dict[str, Any]:
    """A recorded body; ``exact`` reads numbers as Decimal, as the source does on the wire."""
    return json.loads(fixture_bytes(name), parse_float=Decimal if exact else float)


class FakeClock:
    """A monotonic clock the test moves by hand, so cache expiry needs no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def cboe_server() -> Iterator[FakeCboe]:
    fake = FakeCboe().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def cboe(cboe_server: FakeCboe) -> FakeCboe:
    cboe_server.reset()
    return cboe_server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
