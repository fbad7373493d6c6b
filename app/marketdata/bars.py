"""Where charts read their bars: the protocol every bar source follows, its error, and the broker-backed source.

Contract:

==========================  ======================================================================
member                      behaviour
==========================  ======================================================================
``name``                    A label for the trader ("Alpaca bars", "Cboe delayed charts"); also
                            the key bars are cached under, so two sources' bars never mix.
``delayed``                 True when the newest bar lags the market.
``bars(symbol, interval,``  Bars with ``start <= bar.start < end``, oldest first, each ``start``
``start, end)``             aligned as ``app.domain.bars.bucket_start`` aligns it. An unknown
                            symbol gives an empty list. Raises ``BarsUnavailable`` when the source
                            can't be reached, fails, or does not serve this kind of symbol or
                            interval (its message says which, for the trader).
``close()``                 Releases connections.
==========================  ======================================================================
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol, runtime_checkable

from app.brokers.base import Broker, BrokerError
from app.domain.models import Bar, BarInterval

log = logging.getLogger(__name__)


class BarsUnavailable(Exception):
    """No bars from this source right now (or ever, for this symbol or interval); ``str()`` says why."""


@runtime_checkable
class BarSource(Protocol):
    name: str
    delayed: bool

    async def bars(self, symbol: str, interval: BarInterval, start: datetime, end: datetime) -> list[Bar]: ...

    async def close(self) -> None: ...


class BrokerBars:
    """A connected broker's historical bars (``Broker.bars``); every ``BrokerError`` becomes ``BarsUnavailable``."""

    def __init__(self, broker: Broker, *, label: str = "", delayed: bool = False) -> None:
        self._broker = broker
        self.name = f"{label or broker.name} bars"
        self.delayed = delayed

    async def bars(self, symbol: str, interval: BarInterval, start: datetime, end: datetime) -> list[Bar]:
        try:
            found = await self._broker.bars(symbol, interval, start, end)
        except BrokerError as exc:
            log.warning("%s bars failed: %s", self._broker.name, type(exc).__name__)
            raise BarsUnavailable(str(exc)) from exc
        return sorted((b for b in found if start <= b.start < end), key=lambda b: b.start)

    async def close(self) -> None:
        # The connection belongs to whoever connected the broker.
        return None
