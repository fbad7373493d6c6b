"""Keeps a broker's quote stream open: subscribes what is on screen, hands quotes on, reopens after a drop with backoff.

While the stream is down its symbols are polled like any other (``live`` is False), so a dropped stream
shows its last prices ageing into stale, never a crash and never a frozen "current" price.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from app.brokers.streaming import QuoteStream, StreamDropped
from app.domain.models import Quote

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds to wait before reopening: ``first``, doubling after each failure up to ``most``."""

    first: float = 1.0
    most: float = 60.0

    def delay(self, failures: int) -> float:
        return min(self.most, self.first * 2 ** max(0, failures - 1))


class StreamRunner:
    """Runs one ``QuoteStream`` until stopped.

    ``on_quotes(quotes)`` receives each batch; ``on_state(live, reason)`` hears when the stream comes up
    (``True, ""``) and when it drops (``False`` and why). ``stop`` comes before the task is cancelled:
    a stream library may swallow the cancellation (Python 3.11's ``wait_for`` can), the flag can't be
    missed, so the runner still closes the stream and ends at its next turn.
    """

    def __init__(
        self,
        stream: QuoteStream,
        on_quotes: Callable[[list[Quote]], None],
        on_state: Callable[[bool, str], None],
        *,
        backoff: Backoff = Backoff(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.stream = stream
        self._on_quotes = on_quotes
        self._on_state = on_state
        self._backoff = backoff
        self._sleep = sleep
        self._wanted: frozenset[str] = frozenset()
        self._changed = asyncio.Event()
        self.live = False
        self.failures = 0
        self._stopped = False

    def serves(self, symbol: str) -> bool:
        return self.stream.serves(symbol)

    def want(self, symbols: Iterable[str]) -> None:
        """The symbols on screen now; those the stream serves are (un)subscribed on its next turn."""
        wanted = frozenset(s for s in symbols if self.stream.serves(s))
        if wanted != self._wanted:
            self._wanted = wanted
            self._changed.set()

    def stop(self) -> None:
        """End ``run`` at its next turn (the stream is closed on the way out)."""
        self._stopped = True
        self._changed.set()

    async def run(self) -> None:
        while not self._stopped:
            try:
                await self.stream.open()
                if not self._stopped:
                    self.live, self.failures = True, 0
                    self._on_state(True, "")
                    await self._pump()
            except asyncio.CancelledError:
                await self._close()
                raise
            except Exception as exc:
                reason = str(exc) if isinstance(exc, StreamDropped) else f"the stream failed ({type(exc).__name__})"
                if not isinstance(exc, StreamDropped):
                    log.exception("%s stream failed", self.stream.name)
                was_live, self.live = self.live, False
                self.failures += 1
                await self._close()
                if was_live or self.failures == 1:
                    self._on_state(False, reason)
                delay = self._backoff.delay(self.failures)
                log.info("%s stream down (%s); reopening in %.1f s", self.stream.name, reason, delay)
                await self._sleep(delay)
            else:
                # Stopped: the pump returns only then.
                self.live = False
                await self._close()

    async def _pump(self) -> None:
        subscribed: frozenset[str] | None = None
        while not self._stopped:
            if subscribed != self._wanted:
                subscribed = self._wanted
                self._changed.clear()
                await self.stream.subscribe(subscribed)
            receive = asyncio.ensure_future(self.stream.receive())
            changed = asyncio.ensure_future(self._changed.wait())
            try:
                await asyncio.wait({receive, changed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                changed.cancel()
                if not receive.done():
                    receive.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await receive
            if receive.done() and not receive.cancelled():
                quotes = receive.result()  # raises StreamDropped when the feed ended
                if quotes:
                    self._on_quotes(quotes)

    async def _close(self) -> None:
        try:
            await self.stream.close()
        except Exception:
            log.debug("Closing the %s stream failed", self.stream.name, exc_info=True)
