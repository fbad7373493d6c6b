"""Client-side request pacing: a token bucket per connector, kept under the broker's published limit."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """Allows ``rate`` requests per ``per`` seconds, with bursts of up to ``burst``.

    ``acquire()`` waits (without blocking the loop) until a token is free. ``pause(seconds)`` holds
    every caller back, used when the broker answers 429 with a retry-after.
    """

    def __init__(self, rate: int, per: float, burst: int | None = None) -> None:
        if rate <= 0 or per <= 0:
            raise ValueError("rate and per must be positive")
        self._capacity = float(burst if burst is not None else rate)
        self._refill_per_second = rate / per
        self._tokens = self._capacity
        self._updated = time.monotonic()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._refill_per_second)
        self._updated = now

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                self._refill(now)
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._refill_per_second)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + max(0.0, seconds))
