"""Vault fixtures: a private keyring per test (never the user's), a data dir, a database worker, a qasync loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import keyring
import keyring.core
import pytest

from app.paths import AppPaths
from app.security.keystore import KeyringGateway, KeyringKeyStore, new_kdf
from app.security.vault_service import VaultService
from app.storage.database import open_database
from app.storage.vault_repository import KdfRecord
from app.storage.worker import DatabaseWorker


#: A cheaper scrypt for the many unlocks in tests; the stored parameters drive every derivation.
TEST_SCRYPT_N = 2**14


def cheap_kdf() -> KdfRecord:
    return new_kdf(n=TEST_SCRYPT_N)


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
