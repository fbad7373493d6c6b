"""A connected broker's market data as a quote source, replacing the delayed default while connected."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from app.brokers.base import Broker, BrokerError
from app.domain.models import Quote
from app.domain.symbols import SymbolError, parse_symbol
from app.marketdata.base import QuoteUnavailable

log = logging.getLogger(__name__)


class BrokerQuoteSource:
    """Adapts ``Broker.quotes()`` to ``QuoteSource``; every ``BrokerError`` becomes ``QuoteUnavailable``.

    ``delayed`` defaults to False; pass True for feeds the broker itself delays, such as Tradier's
    sandbox ("paper money and delayed market data") or Tastytrade's cert environment.
    """

    def __init__(self, broker: Broker, *, delayed: bool = False) -> None:
        self._broker = broker
        self.name = f"{broker.name} market data"
        self.delayed = delayed

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        wanted: list[str] = []
        for text in symbols:
            try:
                symbol = parse_symbol(text).symbol
            except SymbolError:
                log.debug("Not a symbol, left out of the broker request: %r", text)
                continue
            if symbol not in wanted:
                wanted.append(symbol)
        if not wanted:
            return {}
        try:
            answer = await self._broker.quotes(wanted)
        except BrokerError as exc:
            log.warning("%s quotes failed: %s", self._broker.name, type(exc).__name__)
            # Connector messages are written for the trader and never carry secrets (Broker contract).
            raise QuoteUnavailable(str(exc)) from exc
        return {symbol: answer[symbol] for symbol in wanted if symbol in answer}

    async def close(self) -> None:
        # The connection belongs to whoever connected the broker; disconnecting it is their call,
        # so swapping back to the default source never logs the trader out.
        return None
