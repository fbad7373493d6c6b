"""Keyring access: a daemon thread with a timeout, honest failures, backend vetting, the passphrase KDF."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from keyring.backends import chainer, fail, null
from keyring.errors import KeyringLocked, PasswordSetError

from app.security.keystore import (
    KeyringGateway,
    KeyringKeyStore,
    KeyringTimeout,
    KeyringUnavailable,
    derive_passphrase_key,
    new_kdf,
    passphrase_problem,
    refusal_reason,
)
from tests.security.keyrings import HangingKeyring, LowPriorityKeyring, MemoryKeyring, PlaintextLookalike

ROOT = Path(__file__).resolve().parents[2]


async def test_a_hanging_keyring_times_out_while_the_loop_keeps_running() -> None:
    backend = HangingKeyring()
    store = KeyringKeyStore(KeyringGateway(timeout=0.3, backend=backend))
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.create_task(heartbeat())
    started = time.monotonic()
    try:
        with pytest.raises(KeyringTimeout, match="did not answer within 0.3 seconds"):
            await store.get("abc")
    finally:
        beat.cancel()
    assert 0.3 <= time.monotonic() - started < 2.0
    assert ticks >= 10  # the loop ran the heartbeat the whole time
    assert backend.hung.is_set()

    # The stuck thread is abandoned; once the keyring answers again, a fresh thread serves calls.
    backend.release()
    await store.put("abc", b"a2V5LWJ5dGVz")
    assert await store.get("abc") == b"a2V5LWJ5dGVz"


async def test_closing_the_store_ends_its_keyring_thread_and_a_later_call_starts_a_fresh_one() -> None:
    store = KeyringKeyStore(KeyringGateway(timeout=5.0, backend=MemoryKeyring()))
    await store.put("abc", b"a2V5LWJ5dGVz")
    first = store.gateway._thread
    assert first is not None and first.is_alive()

    store.close()
    await asyncio.to_thread(first.join, 5)
    assert not first.is_alive()

    assert await store.get("abc") == b"a2V5LWJ5dGVz"
    assert store.gateway._thread is not first
    store.close()


def test_a_keyring_call_stuck_forever_does_not_keep_the_app_from_exiting(tmp_path: Path) -> None:
    script = (
        "import asyncio, sys\n"
        "from app.security.keystore import KeyringGateway, KeyringKeyStore, KeyringTimeout\n"
        "from tests.security.keyrings import HangingKeyring\n"
        "async def main():\n"
        "    store = KeyringKeyStore(KeyringGateway(timeout=0.2, backend=HangingKeyring()))\n"
        "    try:\n"
        "        await store.get('x')\n"
        "    except KeyringTimeout:\n"
        "        print('timed out', flush=True)\n"
        "asyncio.run(main())\n"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "timed out"
    assert time.monotonic() - started < 30


class _Refusing(MemoryKeyring):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def get_password(self, service: str, username: str) -> str | None:
        raise self.error

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.error


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (KeyringLocked("collection locked"), "The system keyring is locked."),
        (PasswordSetError("echo sekret-value-123"), "The system keyring failed (PasswordSetError)."),
        (OSError("dbus said sekret-value-123"), "The system keyring failed (OSError)."),
    ],
)
async def test_backend_failures_become_a_plain_message_without_the_backends_words(
    error: Exception, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = KeyringKeyStore(KeyringGateway(timeout=2.0, backend=_Refusing(error)))
    with pytest.raises(KeyringUnavailable) as raised:
        await store.put("k", b"a2V5")
    assert str(raised.value) == message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert "sekret" not in caplog.text


async def test_a_keyring_that_does_not_keep_a_key_is_caught_by_the_read_back() -> None:
    from tests.security.keyrings import ForgetfulKeyring

    store = KeyringKeyStore(KeyringGateway(timeout=2.0, backend=ForgetfulKeyring()))
    with pytest.raises(KeyringUnavailable, match="did not keep"):
        await store.put("k", b"a2V5")


async def test_deleting_a_missing_key_counts_as_deleted() -> None:
    backend = MemoryKeyring()
    store = KeyringKeyStore(KeyringGateway(timeout=2.0, backend=backend))
    await store.put("k", b"a2V5")
    await store.delete("k")
    await store.delete("k")
    assert backend.entries == {}


def test_backend_vetting() -> None:
    assert refusal_reason(MemoryKeyring()) is None
    assert refusal_reason(fail.Keyring()) == "No system keyring is available."
    assert refusal_reason(null.Keyring()) == "No system keyring is available."
    assert "file of its own" in (refusal_reason(PlaintextLookalike()) or "")
    assert "not one that is recommended" in (refusal_reason(LowPriorityKeyring()) or "")


def test_a_chained_keyring_is_judged_by_the_member_that_receives_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [PlaintextLookalike(), MemoryKeyring()])
    assert "file of its own" in (refusal_reason(chainer.ChainerBackend()) or "")
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [MemoryKeyring(), LowPriorityKeyring()])
    assert refusal_reason(chainer.ChainerBackend()) is None
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    assert refusal_reason(chainer.ChainerBackend()) == "No system keyring is available."


def test_passphrase_keys_depend_on_salt_and_unicode_form_only() -> None:
    kdf = new_kdf(n=2**14)
    composed, decomposed = "caf\u00e9 au lait!", "cafe\u0301 au lait!"
    assert derive_passphrase_key(composed, kdf) == derive_passphrase_key(decomposed, kdf)
    assert derive_passphrase_key(composed, kdf) != derive_passphrase_key(composed, new_kdf(n=2**14))
    assert derive_passphrase_key(composed, kdf) != derive_passphrase_key("cafe au lait!", kdf)
    assert passphrase_problem("short") and passphrase_problem("        ")
    assert passphrase_problem("correct horse battery staple") is None
