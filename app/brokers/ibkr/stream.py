"""IBKR market-data ticks as a quote stream: one ``reqMktData`` subscription per symbol on the connector's socket.

TWS pushes tickPrice/tickSize/tickString messages as prices change; ib_insync folds them into a ``Ticker``
per subscription and reports the changed tickers together (``pendingTickersEvent``) after each batch from
the socket. Each changed ticker becomes one ``Quote`` (``parse.ticker_quote``). A connection that leaves the
connected state ends the stream (``StreamDropped``); the runner reopens it once TWS is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from app.brokers.ibkr.parse import ticker_quote
from app.brokers.ibkr.session import ConnectionEvent, ConnectionState, IbkrSession
from app.brokers.streaming import StreamDropped
from app.domain.models import Instrument, Quote
from app.domain.symbols import SymbolError, parse_symbol

log = logging.getLogger(__name__)

_DROPPED = object()
#: IB's market-data types for delayed (3) and delayed-frozen (4) data.
DELAYED_TYPES = (3, 4)


class IbkrQuoteStream:
    """Market-data ticks from TWS/IB Gateway (see ``app/brokers/streaming.py`` for the contract)."""

    name = "IBKR market data, streaming"
    #: Whether the quotes ``receive`` just returned are delayed: IB sends delayed ticks (market-data type 3,
    #: after reqMarketDataType 3) where the trader has no subscription, so each batch is of one kind.
    delayed = False

    def __init__(self, ib: Any, session: IbkrSession, contract_for: Callable[[Instrument], Any]) -> None:
        self._ib = ib
        self._session = session
        self._contract_for = contract_for
        self._contracts: dict[str, Any] = {}
        self._symbols: dict[int, str] = {}
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._unlisten: list[Callable[[], None]] = []

    def serves(self, symbol: str) -> bool:
        try:
            parse_symbol(symbol)
        except SymbolError:
            return False
        return True

    async def open(self) -> None:
        try:
            await self._session.ready()
        except Exception as exc:
            raise StreamDropped(str(exc) or "TWS/IB Gateway is not connected.") from exc
        if (why := self._session.market_data_down) is not None:
            # Ticks from a broken farm would stop without a word: a price must age, not look current.
            raise StreamDropped(why)
        self._queue = asyncio.Queue()
        self._contracts.clear()
        self._symbols.clear()
        self._ib.pendingTickersEvent += self._on_tickers
        self._unlisten = [
            self._session.add_listener(self._on_connection),
            self._session.add_market_data_listener(self._on_market_data),
        ]

    async def subscribe(self, symbols: frozenset[str]) -> None:
        if not self._ib.isConnected():
            raise StreamDropped("The connection to TWS/IB Gateway was lost; prices are polled until it is back.")
        for symbol in [s for s in self._contracts if s not in symbols]:
            contract = self._contracts.pop(symbol)
            self._symbols.pop(id(contract), None)
            if self._ib.isConnected():
                self._ib.cancelMktData(contract)
        for symbol in sorted(symbols - self._contracts.keys()):
            contract = self._contract_for(parse_symbol(symbol))
            self._contracts[symbol] = contract
            self._symbols[id(contract)] = symbol
            # Not a snapshot: TWS keeps sending ticks until cancelMktData.
            self._ib.reqMktData(contract, "", False, False)

    async def receive(self) -> list[Quote]:
        item = await self._queue.get()
        if item is _DROPPED:
            raise StreamDropped("The connection to TWS/IB Gateway was lost; prices are polled until it is back.")
        if isinstance(item, str):
            raise StreamDropped(item)
        self.delayed, quotes = item  # type: ignore[misc]
        return quotes  # type: ignore[has-type]

    async def close(self) -> None:
        self._ib.pendingTickersEvent -= self._on_tickers
        for unlisten in self._unlisten:
            unlisten()
        self._unlisten = []
        if self._ib.isConnected():
            for contract in self._contracts.values():
                self._ib.cancelMktData(contract)
        self._contracts.clear()
        self._symbols.clear()

    def _on_tickers(self, tickers: Any) -> None:
        batches: dict[bool, list[Quote]] = {}
        for ticker in tickers:
            symbol = self._symbols.get(id(ticker.contract))
            if symbol is None:
                continue
            quote = ticker_quote(symbol, ticker)
            if quote is not None:
                batches.setdefault(ticker.marketDataType in DELAYED_TYPES, []).append(quote)
        for delayed, quotes in batches.items():
            self._queue.put_nowait((delayed, quotes))

    def _on_connection(self, event: ConnectionEvent) -> None:
        if event.state is not ConnectionState.CONNECTED:
            self._queue.put_nowait(_DROPPED)

    def _on_market_data(self, why: str | None) -> None:
        if why is not None:
            self._queue.put_nowait(why)
