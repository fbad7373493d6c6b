"""No secure keyring: the passphrase is offered, nothing is stored before it is set, and it works end to end."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing

import pytest

from app.security.keystore import SCRYPT_N, KeyringGateway, KeyringKeyStore, new_kdf
from app.security.vault_service import (
    CredentialState,
    VaultLocked,
    VaultMode,
    VaultService,
    VaultState,
    WeakPassphrase,
    WrongPassphrase,
)
from app.storage.connections_repository import ConnectionDraft
from app.storage.worker import DatabaseWorker
from tests.security.conftest import make_vault
from tests.security.keyrings import ForgetfulKeyring, LowPriorityKeyring, MemoryKeyring, PlaintextLookalike

PASSPHRASE = "correct horse battery staple"
DRAFT = ConnectionDraft(broker="tastytrade", environment="live", label="Tastytrade")
SECRETS = {"client_secret": "tt-client-secret-0001", "refresh_token": "tt-refresh-token-0001"}


def _count(worker: DatabaseWorker, table: str) -> int:
    with closing(sqlite3.connect(worker.database.path)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize("backend", ["keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"])
async def test_no_keyring_offers_the_passphrase_and_it_works_end_to_end(
    worker: DatabaseWorker, keyring_from_env: Callable[[str], None], backend: str
) -> None:
    keyring_from_env(backend)
    vault = make_vault(worker)

    status = await vault.start()

    assert (status.state, status.mode) == (VaultState.SETUP_REQUIRED, None)
    assert "passphrase" in status.message and "nothing is saved" in status.message
    with pytest.raises(VaultLocked, match="passphrase"):
        await vault.save_connection(DRAFT, SECRETS)
    assert [_count(worker, t) for t in ("vault_meta", "vault_keys", "connections")] == [0, 0, 0]

    with pytest.raises(WeakPassphrase):
        await vault.setup_passphrase("short")
    assert _count(worker, "vault_meta") == 0

    status = await vault.setup_passphrase(PASSPHRASE)
    assert (status.state, status.mode) == (VaultState.READY, VaultMode.PASSPHRASE)
    saved = await vault.save_connection(DRAFT, SECRETS)

    restarted = make_vault(worker)
    status = await restarted.start()
    assert (status.state, status.mode, status.has_credentials) == (VaultState.LOCKED, VaultMode.PASSPHRASE, True)
    (listed,) = await restarted.connections()
    assert listed.credentials is CredentialState.LOCKED
    with pytest.raises(VaultLocked):
        await restarted.credentials(saved.id)
    with pytest.raises(WrongPassphrase):
        await restarted.unlock("not the passphrase at all")
    assert restarted.status.state is VaultState.LOCKED

    status = await restarted.unlock(PASSPHRASE)

    assert status.state is VaultState.READY
    assert dict(await restarted.credentials(saved.id)) == SECRETS


async def test_the_kdf_salt_and_parameters_are_stored_and_no_key_is(worker: DatabaseWorker) -> None:
    vault = VaultService(worker, KeyringKeyStore(KeyringGateway(timeout=5.0)), kdf_factory=new_kdf)
    await vault.setup_passphrase(PASSPHRASE)
    with closing(sqlite3.connect(worker.database.path)) as conn:
        name, salt, n, r, p = conn.execute("SELECT kdf_name, kdf_salt, kdf_n, kdf_r, kdf_p FROM vault_meta").fetchone()
        (wrapped,) = conn.execute("SELECT wrapped_key FROM vault_keys").fetchone()
    assert (name, len(salt), n, r, p) == ("scrypt", 16, SCRYPT_N, 8, 1)
    assert wrapped.startswith(b"gAAAAA")  # the data key exists only wrapped under the passphrase key
    assert vault._keys is not None
    assert vault._keys.keys[vault._keys.primary_id] not in worker.database.path.read_bytes()


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (ForgetfulKeyring, "does not give back"),
        (LowPriorityKeyring, "not one that is recommended"),
        (PlaintextLookalike, "file of its own"),
    ],
)
async def test_insecure_or_forgetful_keyrings_are_refused(
    worker: DatabaseWorker, backend: type[MemoryKeyring], reason: str
) -> None:
    instance = backend()
    vault = make_vault(worker, backend=instance)

    status = await vault.start()

    assert status.state is VaultState.SETUP_REQUIRED
    assert reason in status.message
    assert instance.data_keys() == {}


async def test_a_forgotten_passphrase_can_be_given_up_without_losing_the_connections(
    worker: DatabaseWorker, keyring_from_env: Callable[[str], None]
) -> None:
    keyring_from_env("keyring.backends.null.Keyring")
    vault = make_vault(worker)
    await vault.start()
    await vault.setup_passphrase(PASSPHRASE)
    saved = await vault.save_connection(DRAFT, SECRETS)
    restarted = make_vault(worker)
    await restarted.start()

    status = await restarted.forget_unreadable_credentials()

    assert status.state is VaultState.SETUP_REQUIRED
    (listed,) = await restarted.connections()
    assert listed.record.id == saved.id and listed.credentials is CredentialState.NONE
    assert [_count(worker, t) for t in ("vault_meta", "vault_keys")] == [0, 0]


async def test_setting_up_twice_is_refused(worker: DatabaseWorker, keyring_from_env: Callable[[str], None]) -> None:
    keyring_from_env("keyring.backends.fail.Keyring")
    vault = make_vault(worker)
    await vault.start()
    await vault.setup_passphrase(PASSPHRASE)
    with pytest.raises(Exception, match="already set up"):
        await vault.setup_passphrase("another passphrase")
