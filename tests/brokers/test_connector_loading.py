"""Connectors are imported on first use: off the loop's thread where the SDK allows, on it for IBKR."""

from __future__ import annotations

import asyncio
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.brokers.base import Environment
from app.brokers.loader import LazyConnector, load_factory
from app.brokers.registry import specs

CONNECTOR_SOURCE = '''
import threading

IMPORTED_ON = threading.current_thread().name


class Connector:
    def __init__(self, credentials, environment, *, base_url=None):
        self.credentials = dict(credentials)
        self.environment = environment
        self.base_url = base_url
'''


@pytest.fixture
def connector_module(tmp_path: Path) -> Iterator[str]:
    """A fresh, never-imported connector module on sys.path."""
    name = f"connector_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(CONNECTOR_SOURCE, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    yield name
    sys.path.remove(str(tmp_path))
    sys.modules.pop(name, None)


async def test_a_thread_safe_connector_is_imported_off_the_loop(connector_module: str) -> None:
    lazy = LazyConnector(connector_module, "Connector")
    assert connector_module not in sys.modules
    factory = await load_factory(lazy)
    assert sys.modules[connector_module].IMPORTED_ON != threading.current_thread().name
    broker = lazy({"key": "k"}, Environment.PAPER, base_url="http://127.0.0.1:1")
    assert isinstance(broker, factory)  # type: ignore[arg-type]
    assert broker.credentials == {"key": "k"} and broker.base_url == "http://127.0.0.1:1"  # type: ignore[attr-defined]


async def test_a_loop_bound_connector_is_imported_on_the_loops_thread(connector_module: str) -> None:
    lazy = LazyConnector(connector_module, "Connector", thread_safe_import=False)
    await load_factory(lazy)
    assert sys.modules[connector_module].IMPORTED_ON == threading.current_thread().name


async def test_concurrent_first_uses_import_once(connector_module: str) -> None:
    lazy = LazyConnector(connector_module, "Connector")
    first, second = await asyncio.gather(lazy.load(), lazy.load())
    assert first is second


async def test_a_plain_factory_is_used_as_is() -> None:
    def factory(credentials: object, environment: Environment, *, base_url: str | None = None) -> object:
        return (credentials, environment, base_url)

    assert await load_factory(factory) is factory  # type: ignore[arg-type]


async def test_every_broker_is_listed_lazily_and_ibkr_imports_on_the_loop() -> None:
    listed = specs()
    assert list(listed) == ["alpaca", "tradier", "tastytrade", "ibkr"]
    lazies = {key: spec.factory for key, spec in listed.items()}
    assert all(isinstance(factory, LazyConnector) for factory in lazies.values())
    assert {key for key, factory in lazies.items() if not factory.thread_safe_import} == {"ibkr"}  # type: ignore[attr-defined]
    for key, factory in lazies.items():
        assert factory.module == f"app.brokers.{key}.connector"  # type: ignore[attr-defined]
        assert (await load_factory(factory)).__name__ == factory.attribute  # type: ignore[attr-defined]
