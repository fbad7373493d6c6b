"""A preferred quote source backed by another: what the first can't price, the second may.

Used while a broker is connected: its market data comes first, and symbols it does not cover
(or every symbol, when its data is unavailable, as in a sandbox without market data) fall back
to the delayed public quotes. Each quote keeps its own timestamp, so the paper engine's freshness
rules apply whatever source priced it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from app.domain.models import Quote
from app.marketdata.base import QuoteSource, QuoteUnavailable

log = logging.getLogger(__name__)


class FallbackQuotes:
    def __init__(self, preferred: QuoteSource, fallback: QuoteSource) -> None:
        self.preferred = preferred
        self.fallback = fallback
        self.name = f"{preferred.name} (else {fallback.name})"

    @property
    def delayed(self) -> bool:
        return self.preferred.delayed

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        wanted = list(dict.fromkeys(symbols))
        try:
            found = await self.preferred.quotes(wanted)
        except QuoteUnavailable as exc:
            log.info("Preferred quotes unavailable (%s); using %s", exc, self.fallback.name)
            found = dict(exc.partial)
        missing = [symbol for symbol in wanted if symbol not in found]
        if not missing:
            return found
        try:
            found.update(await self.fallback.quotes(missing))
        except QuoteUnavailable as exc:
            found.update(exc.partial)
            if not found:
                raise
            # Keep what arrived, and say which symbols are of unknown status (not unknown symbols).
            failed = [s for s in missing if s not in found and (not exc.failed or s in exc.failed)]
            if failed:
                raise QuoteUnavailable(str(exc), partial=found, failed=failed) from exc
        return found

    async def close(self) -> None:
        """Closes the preferred source only; the fallback belongs to whoever made it."""
        await self.preferred.close()
