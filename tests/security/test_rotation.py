"""Key rotation: every row moves to the new key, the old key goes last, and a SIGKILL anywhere loses nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.security.vault import RotationBlocked
from app.security.vault_service import RotationStep, VaultState
from app.storage.connections_repository import ConnectionDraft
from app.storage.worker import DatabaseWorker
from tests.security.conftest import make_vault
from tests.security.keyrings import FILE_KEYRING_ENV, MemoryKeyring
from tests.security.rotation_child import expected_credentials

ROOT = Path(__file__).resolve().parents[2]
ROWS = 8


def _blobs(database: Path) -> dict[str, tuple[str | None, bytes]]:
    with closing(sqlite3.connect(database)) as conn:
        rows = conn.execute("SELECT label, credentials_key_id, credentials FROM connections").fetchall()
    return {label: (key_id, token) for label, key_id, token in rows}


async def _seed(worker: DatabaseWorker, vault_rows: int = 3) -> list[str]:
    vault = make_vault(worker)
    await vault.start()
    ids = []
    for index in range(vault_rows):
        draft = ConnectionDraft(broker="alpaca", environment="paper", label=f"Account {index}")
        ids.append((await vault.save_connection(draft, expected_credentials(index))).id)
    return ids


async def test_rotation_reseals_every_row_and_removes_the_old_key_last(
    worker: DatabaseWorker, private_keyring: MemoryKeyring
) -> None:
    ids = await _seed(worker)
    (old_key,) = private_keyring.data_keys().values()
    before = _blobs(worker.database.path)
    vault = make_vault(worker)
    await vault.start()
    steps: list[RotationStep] = []

    def watch(step: RotationStep) -> None:
        steps.append(step)
        if step.name == "switched":
            # Every row verified under the new key, and the old key is still there.
            assert old_key in private_keyring.data_keys().values()

    status = await vault.rotate_key(watch)

    assert status.state is VaultState.READY
    assert [s.name for s in steps] == ["recorded", "key_stored", "row", "row", "row", "switched", "retired"]
    assert [(s.done, s.total) for s in steps if s.name == "row"] == [(1, 3), (2, 3), (3, 3)]
    (new_key,) = private_keyring.data_keys().values()
    assert new_key != old_key
    after = _blobs(worker.database.path)
    for label, (key_id, token) in after.items():
        assert token != before[label][1] and key_id != before[label][0]
        with pytest.raises(InvalidToken):
            Fernet(old_key.encode()).decrypt(token)
    for index, connection_id in enumerate(ids):
        assert dict(await vault.credentials(connection_id)) == expected_credentials(index)

    # Finishing a finished rotation changes nothing.
    await vault.finish_rotation()
    assert _blobs(worker.database.path) == after and list(private_keyring.data_keys().values()) == [new_key]


async def test_passphrase_mode_rotates_without_asking_again(worker: DatabaseWorker, keyring_from_env) -> None:  # type: ignore[no-untyped-def]
    keyring_from_env("keyring.backends.fail.Keyring")
    vault = make_vault(worker)
    await vault.start()
    await vault.setup_passphrase("a long enough passphrase")
    saved = await vault.save_connection(ConnectionDraft("tradier", "paper", "Sandbox"), {"token": "sandbox-token-0001"})
    before = _blobs(worker.database.path)

    await vault.rotate_key()

    assert _blobs(worker.database.path)["Sandbox"] != before["Sandbox"]
    restarted = make_vault(worker)
    await restarted.start()
    await restarted.unlock("a long enough passphrase")
    assert (await restarted.credentials(saved.id))["token"] == "sandbox-token-0001"
    with closing(sqlite3.connect(worker.database.path)) as conn:
        assert conn.execute("SELECT count(*) FROM vault_keys").fetchone() == (1,)


async def test_rotation_refuses_while_a_row_is_unreadable_and_keeps_the_old_key(
    worker: DatabaseWorker, private_keyring: MemoryKeyring
) -> None:
    ids = await _seed(worker, 2)
    with closing(sqlite3.connect(worker.database.path)) as conn, conn:
        conn.execute("UPDATE connections SET credentials = ? WHERE id = ?", (Fernet(Fernet.generate_key()).encrypt(b"{}"), ids[1]))
    keys_before = private_keyring.data_keys()
    vault = make_vault(worker)
    await vault.start()

    with pytest.raises(RotationBlocked, match="can't be read"):
        await vault.rotate_key()

    assert private_keyring.data_keys() == keys_before
    assert dict(await vault.credentials(ids[0])) == expected_credentials(0)


# -- crash safety --------------------------------------------------------------------------------


def _child(data_dir: Path, keyring_file: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHON_KEYRING_BACKEND": "tests.security.keyrings.FileKeyring",
            FILE_KEYRING_ENV: str(keyring_file),
            "PYTHONPATH": str(ROOT),
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "tests.security.rotation_child", str(data_dir), *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(data_dir: Path, keyring_file: Path, *args: str) -> dict[str, object]:
    child = _child(data_dir, keyring_file, *args)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    (result,) = [line for line in out.splitlines() if line.startswith("RESULT ")]
    return json.loads(result.removeprefix("RESULT "))


def _data_keys(keyring_file: Path) -> dict[str, str]:
    entries = json.loads(keyring_file.read_text())
    return {name: value for name, value in entries.items() if "/vault-data-key-" in name}


#: Steps of a rotation over ROWS rows, in order: where the parent may pull the plug.
STEPS = ["recorded", "key_stored"] + [f"row {i}" for i in range(1, ROWS + 1)] + ["switched", "retired"]


def _kill_points() -> list[int]:
    """One kill per phase, plus random rows; the seed is in the test id for reproduction."""
    seed = int(os.environ.get("TRADEBRIDGE_ROTATION_SEED", "20261125"))
    rng = random.Random(seed)
    rows = [i for i, name in enumerate(STEPS) if name.startswith("row")]
    return sorted({0, 1, len(STEPS) - 2, len(STEPS) - 1, *rng.sample(rows, 2)})


@pytest.mark.subprocess
@pytest.mark.timeout(240)
@pytest.mark.parametrize("kill_at", _kill_points(), ids=lambda i: STEPS[i].replace(" ", "_"))
def test_rotation_killed_at_any_step_leaves_every_row_readable_and_finishes_idempotently(
    tmp_path: Path, kill_at: int
) -> None:
    data_dir, keyring_file = tmp_path / "data", tmp_path / "keyring.json"
    seeded = _run(data_dir, keyring_file, "seed", str(ROWS))
    expected = {f"Account {i}": expected_credentials(i) for i in range(ROWS)}
    assert seeded["credentials"] == expected
    (old_key,) = _data_keys(keyring_file).values()

    child = _child(data_dir, keyring_file, "rotate")
    assert child.stdin is not None and child.stdout is not None
    for index, name in enumerate(STEPS):
        line = child.stdout.readline().split()
        assert line[:2] == ["STEP", name.split()[0]], (line, name)
        if index == kill_at:
            os.kill(child.pid, signal.SIGKILL)
            break
        child.stdin.write("go\n")
        child.stdin.flush()
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL

    # Straight after the crash, the keys left in the keyring read every row (no app code involved).
    keys = [Fernet(value.encode()) for value in _data_keys(keyring_file).values()]
    for label, (_key_id, token) in _blobs(data_dir / "tradebridge.sqlite3").items():
        assert json.loads(MultiFernet(keys).decrypt(token)) == expected[label]

    # Restarting resumes and finishes the rotation: all rows decrypt, one new key remains.
    restarted = _run(data_dir, keyring_file, "check")
    assert restarted == {"state": "ready", "credentials": expected}
    remaining = _data_keys(keyring_file)
    assert len(remaining) == 1 and old_key not in remaining.values()
    (new_key,) = remaining.values()
    blobs = _blobs(data_dir / "tradebridge.sqlite3")
    for _label, (_key_id, token) in blobs.items():
        Fernet(new_key.encode()).decrypt(token)

    # Finishing again is a no-op.
    again = _run(data_dir, keyring_file, "finish")
    assert again == restarted
    assert _blobs(data_dir / "tradebridge.sqlite3") == blobs and _data_keys(keyring_file) == remaining
    with closing(sqlite3.connect(data_dir / "tradebridge.sqlite3")) as conn:
        state = conn.execute("SELECT rotation_state, pending_key_id, retiring_key_id FROM vault_meta").fetchone()
        assert state == ("idle", None, None)
        assert conn.execute("SELECT count(*) FROM vault_keys").fetchone() == (1,)
