"""A connected broker's market data as a quote source, replacing the delayed default while connected."""

from __future__ import annotations

import asyncio
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

    One asset class never takes another down: when a request mixing stocks and options fails, each
    class is asked for on its own, the quotes that arrive are kept (``QuoteUnavailable.partial``) and
    only the failing class is reported (``failed``). After such a failure the source keeps asking per
    class, so a broker that refuses one option does not cost three requests on every poll.
    """

    def __init__(self, broker: Broker, *, delayed: bool = False) -> None:
        self._broker = broker
        self.name = f"{broker.name} market data"
        self.delayed = delayed
        self._per_class = False

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        wanted: list[str] = []
        stocks: list[str] = []
        options: list[str] = []
        for text in symbols:
            try:
                instrument = parse_symbol(text)
            except SymbolError:
                log.debug("Not a symbol, left out of the broker request: %r", text)
                continue
            if instrument.symbol not in wanted:
                wanted.append(instrument.symbol)
                (options if instrument.is_option else stocks).append(instrument.symbol)
        if not wanted:
            return {}
        if not (stocks and options) or not self._per_class:
            try:
                return await self._ask(wanted)
            except QuoteUnavailable:
                if not (stocks and options):
                    raise
                self._per_class = True
        return await self._ask_per_class(stocks, options)

    async def _ask(self, wanted: list[str]) -> dict[str, Quote]:
        try:
            answer = await self._broker.quotes(wanted)
        except BrokerError as exc:
            log.warning("%s quotes failed: %s", self._broker.name, type(exc).__name__)
            # Connector messages are written for the trader and never carry secrets (Broker contract).
            raise QuoteUnavailable(str(exc)) from exc
        return {symbol: answer[symbol] for symbol in wanted if symbol in answer}

    async def _ask_per_class(self, stocks: list[str], options: list[str]) -> dict[str, Quote]:
        results = await asyncio.gather(self._ask(stocks), self._ask(options), return_exceptions=True)
        found: dict[str, Quote] = {}
        failed: list[str] = []
        errors: list[QuoteUnavailable] = []
        for group, result in zip((stocks, options), results, strict=True):
            if isinstance(result, QuoteUnavailable):
                failed.extend(group)
                errors.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                found.update(result)
        if errors:
            if not found:
                raise errors[0]
            raise QuoteUnavailable(str(errors[0]), partial=found, failed=failed) from errors[0]
        return found

    async def close(self) -> None:
        # The connection belongs to whoever connected the broker; disconnecting it is their call,
        # so swapping back to the default source never logs the trader out.
        return None
