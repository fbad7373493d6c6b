"""The one database worker: every SQLite read and write runs, in order, on a single thread.

The Qt thread never touches the disk: coroutines on the app's loop ``await worker.run(fn)`` and get
the result back when the worker has done it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.orm import Session

from app.storage.database import Database

log = logging.getLogger(__name__)
T = TypeVar("T")


class DatabaseWorker:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tradebridge-db")
        self._database: Database | None = None

    @property
    def database(self) -> Database:
        if self._database is None:
            raise RuntimeError("the database is not open")
        return self._database

    async def call(self, fn: Callable[..., T], *args: object) -> T:
        """Run a blocking function on the worker thread."""
        return await asyncio.wrap_future(self._executor.submit(fn, *args))

    async def open(self, opener: Callable[[], Database]) -> Database:
        self._database = await self.call(opener)
        return self._database

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in one transaction on the worker thread."""
        database = self.database
        return await self.call(database.transaction, work)

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run prepared writes ``work(connection)`` in one transaction on the worker thread (`Database.write`)."""
        database = self.database
        return await self.call(database.write, work)

    async def close(self) -> None:
        """Finish the work already queued, then close every connection; later calls are refused."""
        database, self._database = self._database, None
        if database is not None:
            await self.call(database.dispose)
        self._executor.shutdown(wait=True)
