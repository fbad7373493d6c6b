"""Streamed quotes a connector can offer: the ``QuoteStream`` protocol and the error that ends a stream.

Contract (a connector whose ``Capabilities.quote_stream`` is true returns one from ``quote_stream()``):

==================  ===========================================================================
member              behaviour
==================  ===========================================================================
``name``            A label for the trader ("IBKR market data, streaming").
``delayed``         True when the streamed prices lag the market.
``serves(symbol)``  Whether this stream can carry the symbol (Alpaca's stock stream: no options);
                    the rest are polled.
``open()``          Connects (and authenticates); raises ``StreamDropped`` when it can't.
``subscribe(set)``  The whole set of symbols wanted now: the stream adds and removes the difference.
``receive()``       Waits for the next quotes (one per symbol that changed, ``Quote.timestamp`` the
                    time the data describes). Raises ``StreamDropped`` when the feed ends; cancelling
                    it is safe.
``close()``         Ends the stream; ``open()`` may be called again afterwards.
==================  ===========================================================================

Nothing here reconnects by itself: ``app.marketdata.streaming.StreamRunner`` reopens a dropped stream
with backoff, and the market data falls back to polling meanwhile.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from app.domain.models import Quote


class StreamDropped(Exception):
    """The stream could not be opened or has ended; ``str()`` says why in the trader's words."""


@runtime_checkable
class QuoteStream(Protocol):
    name: str
    delayed: bool

    def serves(self, symbol: str) -> bool: ...

    async def open(self) -> None: ...

    async def subscribe(self, symbols: frozenset[str]) -> None: ...

    async def receive(self) -> list[Quote]: ...

    async def close(self) -> None: ...


@runtime_checkable
class StreamingBroker(Protocol):
    """A connector that can stream quotes (``Capabilities.quote_stream``)."""

    def quote_stream(self) -> QuoteStream: ...
