"""Connector classes imported on first use, so start-up never pays for a broker SDK the trader may not use.

A ``LazyConnector`` stands in a ``BrokerSpec`` as its factory. ``await connector.load()`` imports the
connector module where its SDK allows: on a worker thread for the REST brokers (alpaca-py and its
pydantic/pandas imports take seconds and must not freeze the window), on the loop's own thread
for IBKR (ib_insync's event library binds to the event loop current at import time).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.brokers.base import Broker, BrokerFactory, Environment

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LazyConnector:
    """A ``BrokerFactory`` naming its connector class by module path and attribute."""

    module: str
    attribute: str
    #: Whether the import may run off the loop's thread (False when the SDK binds to the running loop).
    thread_safe_import: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @property
    def loaded(self) -> bool:
        return self.module in sys.modules

    def resolve(self) -> BrokerFactory:
        """The connector class, importing its module now if needed (blocking)."""
        with self._lock:
            module = importlib.import_module(self.module)
        factory: BrokerFactory = getattr(module, self.attribute)
        return factory

    async def load(self) -> BrokerFactory:
        """The connector class, imported without blocking the loop where the SDK allows it."""
        if self.thread_safe_import and not self.loaded:
            log.debug("Importing %s off the event loop", self.module)
            return await asyncio.to_thread(self.resolve)
        return self.resolve()

    def __call__(
        self, credentials: Mapping[str, str], environment: Environment, *, base_url: str | None = None
    ) -> Broker:
        return self.resolve()(credentials, environment, base_url=base_url)


async def load_factory(factory: BrokerFactory) -> BrokerFactory:
    """The concrete factory behind ``factory``: lazy connectors are imported, anything else is returned as is."""
    if isinstance(factory, LazyConnector):
        return await factory.load()
    return factory
