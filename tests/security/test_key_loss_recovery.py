"""A lost vault key: one connection re-entered goes under a new key, the others wait to be re-entered or forgotten."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from app.security.keystore import KdfOutOfBounds
from app.security.vault_service import (
    CredentialState,
    VaultLocked,
    VaultMode,
    VaultState,
    WeakPassphrase,
    WrongPassphrase,
)
from app.storage import vault_repository
from app.storage.connections_repository import ConnectionDraft
from app.storage.worker import DatabaseWorker
from tests.security.conftest import make_vault
from tests.security.keyrings import HangingKeyring, MemoryKeyring

ALPACA = ConnectionDraft(broker="alpaca", environment="paper", label="Alpaca paper")
TRADIER = ConnectionDraft(broker="tradier", environment="live", label="Tradier live")
PASSPHRASE = "correct horse battery staple"


def _rows(worker: DatabaseWorker, sql: str, *params: object) -> list[tuple]:
    with closing(sqlite3.connect(worker.database.path)) as conn, conn:
        return conn.execute(sql, params).fetchall()


async def _two_connections_then_lose_the_key(worker: DatabaseWorker, keyring: MemoryKeyring):
    vault = make_vault(worker)
    await vault.start()
    alpaca = await vault.save_connection(ALPACA, {"api_key": "PKTESTKEY0001", "api_secret": "alpaca-secret-0001"})
    await vault.mark_verified(alpaca.id, "PA3FAKE0001", "margin")
    tradier = await vault.save_connection(TRADIER, {"token": "tradier-token-0002", "account_number": "VA12345678"})
    await vault.mark_verified(tradier.id, "VA12345678", "margin")
    lost = dict(keyring.data_keys())
    keyring.entries.clear()
    restarted = make_vault(worker)
    assert (await restarted.start()).state is VaultState.KEY_LOST
    return restarted, alpaca, tradier, lost


async def test_reentering_one_connection_saves_it_under_a_new_key_and_keeps_the_other_waiting(
    worker: DatabaseWorker, private_keyring: MemoryKeyring
) -> None:
    vault, alpaca, tradier, lost = await _two_connections_then_lose_the_key(worker, private_keyring)
    tradier_token = _rows(worker, "SELECT credentials FROM connections WHERE id = ?", tradier.id)[0][0]
    assert await vault.readable_credentials(alpaca.id) is None

    edited = ConnectionDraft("alpaca", "paper", "Alpaca paper", id=alpaca.id)
    await vault.save_connection(edited, {"api_key": "PKTESTKEY0003", "api_secret": "alpaca-secret-0003"})

    assert vault.status.state is VaultState.READY and vault.status.mode is VaultMode.KEYRING
    assert (await vault.credentials(alpaca.id))["api_secret"] == "alpaca-secret-0003"
    new_keys = private_keyring.data_keys()
    assert len(new_keys) == 1 and not set(new_keys) & set(lost)
    listed = {s.record.id: s for s in await vault.connections()}
    assert listed[alpaca.id].credentials is CredentialState.SAVED
    waiting = listed[tradier.id]
    assert waiting.credentials is CredentialState.UNREADABLE
    assert waiting.message.startswith("Needs re-entering")
    assert (waiting.record.label, waiting.record.account_last4) == ("Tradier live", "5678")
    # Nothing was dropped without the trader's say-so, and no row was added.
    assert _rows(worker, "SELECT credentials FROM connections WHERE id = ?", tradier.id)[0][0] == tradier_token
    assert _rows(worker, "SELECT count(*) FROM connections") == [(2,)]

    # The next start is an ordinary one: ready, with the other connection still waiting.
    again = make_vault(worker)
    assert (await again.start()).state is VaultState.READY
    states = {s.record.id: s.credentials for s in await again.connections()}
    assert states == {alpaca.id: CredentialState.SAVED, tradier.id: CredentialState.UNREADABLE}


async def test_adding_the_same_account_again_fills_its_row_instead_of_a_duplicate(
    worker: DatabaseWorker, private_keyring: MemoryKeyring
) -> None:
    vault, alpaca, tradier, _ = await _two_connections_then_lose_the_key(worker, private_keyring)

    target = await vault.reentry_target("tradier", "live", "5678")
    assert target == tradier.id
    assert await vault.reentry_target("tradier", "paper", "5678") is None
    assert await vault.reentry_target("alpaca", "paper", "9999") is None
    draft = ConnectionDraft("tradier", "live", "Tradier again", id=target)
    await vault.save_connection(draft, {"token": "tradier-token-0004", "account_number": "VA12345678"})

    assert _rows(worker, "SELECT count(*) FROM connections") == [(2,)]
    assert (await vault.credentials(tradier.id))["token"] == "tradier-token-0004"
    states = {s.record.id: s.credentials for s in await vault.connections()}
    assert states == {alpaca.id: CredentialState.UNREADABLE, tradier.id: CredentialState.SAVED}
    # A connection whose credentials read fine is never a target: adding it again is the trader's choice.
    assert await vault.reentry_target("tradier", "live", "5678") is None


async def test_a_waiting_connection_can_be_forgotten_alone(worker: DatabaseWorker, private_keyring: MemoryKeyring) -> None:
    vault, alpaca, tradier, _ = await _two_connections_then_lose_the_key(worker, private_keyring)
    await vault.save_connection(
        ConnectionDraft("alpaca", "paper", "Alpaca paper", id=alpaca.id),
        {"api_key": "PKTESTKEY0003", "api_secret": "alpaca-secret-0003"},
    )
    await vault.delete_connection(tradier.id)
    (left,) = await vault.connections()
    assert left.record.id == alpaca.id and left.credentials is CredentialState.SAVED


async def test_a_lost_key_that_comes_back_reads_what_it_sealed_again(
    worker: DatabaseWorker, private_keyring: MemoryKeyring
) -> None:
    vault, alpaca, tradier, lost = await _two_connections_then_lose_the_key(worker, private_keyring)
    await vault.save_connection(
        ConnectionDraft("alpaca", "paper", "Alpaca paper", id=alpaca.id),
        {"api_key": "PKTESTKEY0003", "api_secret": "alpaca-secret-0003"},
    )
    for username, value in lost.items():
        private_keyring.set_password("TradeBridge", username, value)

    again = make_vault(worker)
    assert (await again.start()).state is VaultState.READY
    assert (await again.credentials(tradier.id))["token"] == "tradier-token-0002"
    assert (await again.credentials(alpaca.id))["api_secret"] == "alpaca-secret-0003"


async def test_a_keyring_that_does_not_answer_is_reported_before_anything_is_sent(worker: DatabaseWorker) -> None:
    hanging = HangingKeyring()
    vault = make_vault(worker, timeout=0.2, backend=hanging)
    try:
        await vault.start()
        assert vault.status.state is VaultState.KEYRING_TIMEOUT
        with pytest.raises(VaultLocked, match="can't be saved until it answers"):
            await vault.ready_to_save()
    finally:
        hanging.release()


async def test_ready_to_save_asks_the_keyring_only_when_a_new_key_is_needed(
    worker: DatabaseWorker, private_keyring: MemoryKeyring
) -> None:
    vault = make_vault(worker)
    await vault.start()
    await vault.ready_to_save()
    await vault.save_connection(ALPACA, {"api_key": "PKTESTKEY0001", "api_secret": "alpaca-secret-0001"})
    calls = []
    original = private_keyring.set_password
    private_keyring.set_password = lambda *a: (calls.append(a), original(*a))  # type: ignore[method-assign]
    await vault.ready_to_save()
    assert calls == []


async def test_change_passphrase_rewraps_the_key_and_only_the_new_one_unlocks(worker: DatabaseWorker) -> None:
    vault = make_vault(worker)
    await vault.setup_passphrase(PASSPHRASE)
    saved = await vault.save_connection(ALPACA, {"api_key": "PKTESTKEY0001", "api_secret": "alpaca-secret-0001"})
    token = _rows(worker, "SELECT credentials FROM connections")[0][0]
    salt_before = _rows(worker, "SELECT kdf_salt FROM vault_meta")[0][0]

    with pytest.raises(WrongPassphrase):
        await vault.change_passphrase("not the passphrase", "purple elephant marmalade sunrise")
    with pytest.raises(WeakPassphrase, match="too easy to guess"):
        await vault.change_passphrase(PASSPHRASE, "password")
    assert _rows(worker, "SELECT kdf_salt FROM vault_meta")[0][0] == salt_before

    status = await vault.change_passphrase(PASSPHRASE, "purple elephant marmalade sunrise")
    assert status.state is VaultState.READY and "changed" in status.message
    assert _rows(worker, "SELECT credentials FROM connections")[0][0] == token
    assert _rows(worker, "SELECT kdf_salt FROM vault_meta")[0][0] != salt_before

    restarted = make_vault(worker)
    await restarted.start()
    with pytest.raises(WrongPassphrase):
        await restarted.unlock(PASSPHRASE)
    await restarted.unlock("purple elephant marmalade sunrise")
    assert (await restarted.credentials(saved.id))["api_secret"] == "alpaca-secret-0001"


async def test_a_passphrase_change_that_fails_midway_leaves_the_old_passphrase_working(
    worker: DatabaseWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = make_vault(worker)
    await vault.setup_passphrase(PASSPHRASE)
    saved = await vault.save_connection(ALPACA, {"api_key": "PKTESTKEY0001", "api_secret": "alpaca-secret-0001"})
    real = vault_repository.rewrap_keys

    def crash_after_writing(session, kdf, wrapped, now):  # type: ignore[no-untyped-def]
        real(session, kdf, wrapped, now)
        session.flush()
        raise OSError("disk I/O error")

    monkeypatch.setattr(vault_repository, "rewrap_keys", crash_after_writing)
    with pytest.raises(OSError):
        await vault.change_passphrase(PASSPHRASE, "purple elephant marmalade sunrise")
    monkeypatch.undo()

    restarted = make_vault(worker)
    await restarted.start()
    await restarted.unlock(PASSPHRASE)
    assert (await restarted.credentials(saved.id))["api_secret"] == "alpaca-secret-0001"


@pytest.mark.parametrize(
    ("column", "value"),
    [("kdf_n", 2**30), ("kdf_r", 4096), ("kdf_p", 1000), ("kdf_n", 1000), ("kdf_n", 2**10)],
)
async def test_tampered_scrypt_parameters_are_refused_before_any_work(
    worker: DatabaseWorker, column: str, value: int
) -> None:
    vault = make_vault(worker)
    await vault.setup_passphrase(PASSPHRASE)
    await vault.save_connection(ALPACA, {"api_key": "PKTESTKEY0001", "api_secret": "alpaca-secret-0001"})
    _rows(worker, f"UPDATE vault_meta SET {column} = ?", value)

    restarted = make_vault(worker)
    await restarted.start()
    with pytest.raises(KdfOutOfBounds, match="outside what TradeBridge accepts"):
        await restarted.unlock(PASSPHRASE)
    assert restarted.status.state is VaultState.LOCKED


@pytest.mark.parametrize("weak", ["password", "password1234", "qwertyuiop", "aaaaaaaaaaaa", "tradebridge1"])
def test_common_passphrases_are_refused_by_the_estimator(weak: str) -> None:
    from app.security.keystore import passphrase_problem

    assert "too easy to guess" in (passphrase_problem(weak) or "")
