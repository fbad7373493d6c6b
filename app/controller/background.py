"""Fire-and-forget work a controller must still be able to wait out (its ``flush``, at shutdown)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Future[object]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, work: Awaitable[T]) -> asyncio.Future[T]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def settle(self) -> None:
        """Wait until every task started so far, and every task those start, has finished.

        What has been waited for is dropped here, not only by its done callback: a finished task whose
        callback the loop has not run yet would otherwise be gathered again and again, and ``gather``
        over finished tasks returns without yielding (Python 3.12+), so the loop would never run it.
        """
        while self._tasks:
            waited = list(self._tasks)
            await asyncio.gather(*waited, return_exceptions=True)
            self._tasks.difference_update(waited)
