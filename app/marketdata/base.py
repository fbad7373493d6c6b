"""The protocol every quote source implements for paper trading, and the one error it raises.

Contract (every quote source implements all of it):

==================  ===========================================================================
member              behaviour
==================  ===========================================================================
``name``            A label for the trader ("Cboe delayed quotes", "Tradier market data").
``delayed``         True when prices lag the market (Cboe's public feed runs about 15 minutes
                    behind); the UI says so next to every price from such a source.
``quotes(symbols)`` Latest quotes keyed by the canonical symbol (``parse_symbol(text).symbol``:
                    upper case, compact OCC for options). Text that is not a symbol and symbols
                    the source does not know are simply absent. A price the source does not
                    have is ``None``; no price is ever invented. ``Quote.timestamp`` is the
                    time the data describes, never the time it was fetched. Raises
                    ``QuoteUnavailable`` when the source cannot be reached or fails.
``close()``         Releases connections; the source can't be used afterwards.
==================  ===========================================================================

An absent symbol and a ``QuoteUnavailable`` mean different things to the trader: the first is
"no such symbol here", the second "prices are unreachable right now". Either way a paper market
order waits with that reason shown rather than filling at a guessed price.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Protocol, runtime_checkable

from app.domain.models import Quote


class QuoteUnavailable(Exception):
    """The source could not be reached or failed; ``str()`` is a message for the trader.

    When part of a request succeeded, ``partial`` holds the quotes that did arrive and ``failed``
    the canonical symbols whose fetch failed. Callers may use ``partial``; the ``failed`` symbols
    are of unknown status, not unknown symbols.
    """

    def __init__(
        self,
        message: str,
        *,
        partial: Mapping[str, Quote] | None = None,
        failed: Iterable[str] = (),
    ) -> None:
        super().__init__(message)
        self.partial: dict[str, Quote] = dict(partial or {})
        self.failed: tuple[str, ...] = tuple(failed)


@runtime_checkable
class QuoteSource(Protocol):
    """Where paper trading reads its prices. See the module docstring for the contract."""

    name: str
    delayed: bool

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]: ...

    async def close(self) -> None: ...


async def previous_closes(source: QuoteSource, symbols: Iterable[str]) -> dict[str, Decimal]:
    """The previous session's close of each symbol ``source`` gives one for (the reference of the day P&L)."""
    quotes = await source.quotes(symbols)
    return {s: q.prev_close for s, q in quotes.items() if q.prev_close is not None}
