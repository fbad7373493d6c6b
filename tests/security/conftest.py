"""Vault fixtures: a private keyring per test (never the user's), a data dir, a database worker, a qasync loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import keyring
import keyring.core
import pytest
import qasync

from app.paths import AppPaths
from app.security.keystore import KeyringGateway, KeyringKeyStore, new_kdf
from app.security.vault_service import VaultService
from app.storage.database import open_database
from app.storage.vault_repository import KdfRecord
from app.storage.worker import DatabaseWorker
from tests.security.keyrings import MemoryKeyring

T = TypeVar("T")

#: A cheaper scrypt for the many unlocks in tests; the stored parameters drive every derivation.
TEST_SCRYPT_N = 2**14


def cheap_kdf() -> KdfRecord:
    return new_kdf(n=TEST_SCRYPT_N)


@pytest.fixture(autouse=True)
def private_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """Every test starts on an empty in-memory keyring and leaves keyring as it found it."""
    previous = keyring.core._keyring_backend
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.core._keyring_backend = previous


@pytest.fixture
def keyring_from_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Choose the keyring the way a user would: ``PYTHON_KEYRING_BACKEND``, then keyring's own detection."""

    def choose(name: str) -> None:
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", name)
        keyring.core.init_backend()

    return choose


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths(tmp_path / "data").ensure()


@pytest.fixture
async def worker(paths: AppPaths) -> AsyncIterator[DatabaseWorker]:
    db_worker = DatabaseWorker()
    await db_worker.open(lambda: open_database(paths.database, paths.backups))
    yield db_worker
    await db_worker.close()


def make_vault(worker: DatabaseWorker, *, timeout: float = 5.0, backend: keyring.backend.KeyringBackend | None = None) -> VaultService:
    store = KeyringKeyStore(KeyringGateway(timeout=timeout, backend=backend))
    return VaultService(worker, store, kdf_factory=cheap_kdf)


class QtLoop:
    """Runs coroutines on a qasync loop, so async slots, Qt events and awaits interleave as in the app."""

    def __init__(self, loop: qasync.QEventLoop) -> None:
        self.loop = loop

    def run(self, awaitable: Awaitable[T], timeout: float = 30.0) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))


@pytest.fixture
def qt_loop(qapp) -> Iterator[QtLoop]:  # type: ignore[no-untyped-def]
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield QtLoop(loop)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)


async def until(predicate: Callable[[], bool], timeout: float = 10.0, message: str = "") -> None:
    """Wait on the running loop (Qt keeps processing events) until ``predicate()`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(message or f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)
