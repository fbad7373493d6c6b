"""Keyring mode end to end: credentials sealed in SQLite, the key in the keyring, lost or replaced keys."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing

import pytest
from cryptography.fernet import Fernet

from app.security.vault import CredentialsUnreadable
from app.security.vault_service import CredentialState, VaultMode, VaultState
from app.storage.connections_repository import ConnectionDraft
from app.storage.worker import DatabaseWorker
from tests.security.conftest import make_vault
from tests.security.keyrings import MemoryKeyring

ALPACA = ConnectionDraft(broker="alpaca", environment="paper", label="Alpaca paper")
TRADIER = ConnectionDraft(broker="tradier", environment="live", label="Tradier live")


def _rows(worker: DatabaseWorker, sql: str, *params: object) -> list[tuple]:
    with closing(sqlite3.connect(worker.database.path)) as conn, conn:
        return conn.execute(sql, params).fetchall()


async def test_fresh_vault_is_ready_and_mints_its_key_on_first_save(
    worker: DatabaseWorker, private_keyring: MemoryKeyring
) -> None:
    vault = make_vault(worker)
    status = await vault.start()
    assert (status.state, status.mode) == (VaultState.READY, VaultMode.KEYRING)
    assert private_keyring.data_keys() == {}  # the probe left nothing behind, and no key yet

    record = await vault.save_connection(ALPACA, {"api_key": "PKTESTKEY0001", "api_secret": "s3cr3t-value-0001"})

    assert record.saved_fields == ("api_key", "api_secret")
    assert len(private_keyring.data_keys()) == 1
    credentials = await vault.credentials(record.id)
    assert dict(credentials) == {"api_key": "PKTESTKEY0001", "api_secret": "s3cr3t-value-0001"}
    assert repr(credentials) == "Credentials(api_key=***, api_secret=***)"
    stored = _rows(worker, "SELECT credentials FROM connections")[0][0]
    assert b"s3cr3t" not in stored and b"PKTESTKEY" not in stored
    key_row = _rows(worker, "SELECT mode, active_key_id FROM vault_meta")
    assert key_row[0][0] == "keyring"
    (key_value,) = private_keyring.data_keys().values()
    assert key_value.encode() not in worker.database.path.read_bytes()


async def test_restart_reads_the_key_back_and_listing_never_carries_secrets(
    worker: DatabaseWorker, private_keyring: MemoryKeyring
) -> None:
    first = make_vault(worker)
    await first.start()
    saved = await first.save_connection(TRADIER, {"token": "tradier-token-abcdef"})
    await first.mark_verified(saved.id, "6YA00005", "margin")

    second = make_vault(worker)
    status = await second.start()

    assert status.state is VaultState.READY and status.has_credentials
    (listed,) = await second.connections()
    assert listed.credentials is CredentialState.SAVED and listed.message == "Credentials saved."
    assert listed.record.account_last4 == "0005"
    assert "tradier-token" not in repr(listed) and "6YA0" not in repr(listed)
    assert (await second.credentials(saved.id))["token"] == "tradier-token-abcdef"


async def test_an_empty_field_keeps_the_saved_secret_when_a_connection_is_edited(worker: DatabaseWorker) -> None:
    vault = make_vault(worker)
    await vault.start()
    saved = await vault.save_connection(ALPACA, {"api_key": "PKTESTKEY0001", "api_secret": "first-secret-0001"})

    edited = ConnectionDraft(broker="alpaca", environment="paper", label="Renamed", id=saved.id)
    await vault.save_connection(edited, {"api_key": "PKTESTKEY0002", "api_secret": ""})

    credentials = await vault.credentials(saved.id)
    assert dict(credentials) == {"api_key": "PKTESTKEY0002", "api_secret": "first-secret-0001"}
    (listed,) = await vault.connections()
    assert listed.record.label == "Renamed"


@pytest.mark.parametrize("damage", ["deleted", "replaced"])
async def test_a_lost_or_replaced_key_makes_credentials_unreadable_but_the_app_starts(
    worker: DatabaseWorker, private_keyring: MemoryKeyring, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    vault = make_vault(worker)
    await vault.start()
    saved = await vault.save_connection(ALPACA, {"api_key": "PKTESTKEY0001", "api_secret": "lost-secret-0001"})
    token = _rows(worker, "SELECT credentials FROM connections")[0][0]
    (entry,) = [k for k in private_keyring.entries if k[1].startswith("vault-data-key-")]
    if damage == "deleted":
        del private_keyring.entries[entry]
    else:
        private_keyring.entries[entry] = Fernet.generate_key().decode()
    caplog.set_level(logging.DEBUG)
    keys_before_restart = private_keyring.data_keys()

    restarted = make_vault(worker)
    status = await restarted.start()

    assert status.state is VaultState.KEY_LOST
    assert private_keyring.data_keys() == keys_before_restart  # no new key over sealed rows
    assert "Re-enter a connection's credentials" in status.message
    (listed,) = await restarted.connections()
    assert listed.credentials is CredentialState.UNREADABLE
    assert listed.message.startswith("Needs re-entering")
    with pytest.raises(CredentialsUnreadable, match="can't be read"):
        await restarted.credentials(saved.id)
    # The blob is kept until the trader reconnects, and nothing of it reached the log.
    assert _rows(worker, "SELECT credentials FROM connections")[0][0] == token
    assert token.decode() not in caplog.text and token.decode()[:16] not in caplog.text

    # Re-entering the credentials saves them under a new key; a foreign value under the old name is removed.
    again = ConnectionDraft(broker="alpaca", environment="paper", label="Alpaca paper", id=saved.id)
    await restarted.save_connection(again, {"api_key": "PKTESTKEY0003", "api_secret": "new-secret-0003"})
    assert restarted.status.state is VaultState.READY
    assert dict(await restarted.credentials(saved.id))["api_secret"] == "new-secret-0003"
    assert len(private_keyring.data_keys()) == 1


async def test_one_corrupt_row_is_unreadable_and_the_others_still_work(worker: DatabaseWorker) -> None:
    vault = make_vault(worker)
    await vault.start()
    good = await vault.save_connection(ALPACA, {"api_key": "PKTESTKEY0001", "api_secret": "good-secret-0001"})
    bad = await vault.save_connection(TRADIER, {"token": "bad-token-0002"})
    foreign = Fernet(Fernet.generate_key()).encrypt(b"{}")
    _rows(worker, "UPDATE connections SET credentials = ? WHERE id = ?", foreign, bad.id)

    statuses = {s.record.id: s.credentials for s in await vault.connections()}

    assert statuses == {good.id: CredentialState.SAVED, bad.id: CredentialState.UNREADABLE}
    assert (await vault.credentials(good.id))["api_secret"] == "good-secret-0001"
    with pytest.raises(CredentialsUnreadable):
        await vault.credentials(bad.id)


async def test_a_key_missing_with_nothing_sealed_is_simply_made_again(
    worker: DatabaseWorker, private_keyring: MemoryKeyring
) -> None:
    vault = make_vault(worker)
    await vault.start()
    saved = await vault.save_connection(ALPACA, {"api_key": "PKTESTKEY0001", "api_secret": "short-lived-0001"})
    await vault.delete_connection(saved.id)
    private_keyring.entries.clear()

    status = await make_vault(worker).start()

    assert status.state is VaultState.READY
    assert _rows(worker, "SELECT count(*) FROM vault_meta") == [(0,)]


async def test_the_keyring_failing_outright_is_reported_and_retry_recovers(worker: DatabaseWorker) -> None:
    working = MemoryKeyring()
    vault = make_vault(worker, backend=working)
    await vault.start()
    saved = await vault.save_connection(ALPACA, {"api_key": "PKTESTKEY0001", "api_secret": "kept-secret-0001"})

    from keyring.backends.fail import Keyring as FailKeyring

    broken = make_vault(worker, backend=FailKeyring())
    status = await broken.start()
    assert status.state is VaultState.KEYRING_UNAVAILABLE and status.can_retry
    (listed,) = await broken.connections()
    assert listed.credentials is CredentialState.LOCKED

    recovered = make_vault(worker, backend=working)
    assert (await recovered.retry()).state is VaultState.READY
    assert (await recovered.credentials(saved.id))["api_secret"] == "kept-secret-0001"


async def test_sealed_rows_without_vault_bookkeeping_are_never_put_under_a_new_key(
    worker: DatabaseWorker, private_keyring: MemoryKeyring
) -> None:
    vault = make_vault(worker)
    await vault.start()
    saved = await vault.save_connection(ALPACA, {"api_key": "PKTESTKEY0001", "api_secret": "orphan-secret-0001"})
    _rows(worker, "DELETE FROM vault_keys")
    _rows(worker, "DELETE FROM vault_meta")
    private_keyring.entries.clear()

    restarted = make_vault(worker)
    status = await restarted.start()

    assert status.state is VaultState.KEY_LOST
    assert private_keyring.data_keys() == {}
    with pytest.raises(CredentialsUnreadable):
        await restarted.credentials(saved.id)
