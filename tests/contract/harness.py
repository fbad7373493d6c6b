"""What every fake broker offers the contract suite: start it, build a connector against it, steer it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Protocol, TypeVar

from app.brokers.base import Broker
from tests.fakes.control import FakeBroker

T = TypeVar("T")

#: Faults every fake can inject into the *next order request* it receives.
FAULTS = ("reject", "drop_response", "server_error")


class BrokerHarness(Protocol):
    """A running fake broker plus the means to build a connector pointed at it.

    Fill rules every fake follows: a market order fills at once at the ask (buy) or bid (sell) of
    the quote set with ``set_quote``; a limit order that crosses fills at the limit; any other
    limit or stop order rests until cancelled.
    """

    name: str
    #: The fake itself, with the test API every fake shares (tests/fakes/__init__.py).
    fake: FakeBroker

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def connector(self, *, valid_credentials: bool = True) -> Broker:
        """A paper-environment connector for the fake; with bad credentials when asked."""
        ...

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal) -> None: ...

    def inject_fault(self, fault: str) -> None:
        """Make the next order request fail the named way (one of ``FAULTS``)."""
        ...

    def order_count(self) -> int:
        """How many orders the fake has accepted since it started."""
        ...


async def eventually(
    fetch: Callable[[], Awaitable[T]], predicate: Callable[[T], bool], timeout: float = 10.0
) -> T:
    """Poll ``fetch`` until ``predicate`` holds; return the value or fail with the last one seen."""
    deadline = asyncio.get_running_loop().time() + timeout
    value = await fetch()
    while not predicate(value):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(0.05)
        value = await fetch()
    return value
