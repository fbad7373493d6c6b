"""Where the vault's data keys live: the OS keyring, or a key derived from the trader's passphrase.

Keyring calls go through ``KeyringGateway``: one *daemon* thread runs them, and the caller waits
on its own loop with a timeout. A Secret Service unlock prompt that never returns can therefore
neither freeze the Qt thread nor keep the process alive at exit; after a timeout the stuck thread
is abandoned and the next call gets a fresh one.

A keyring is only trusted when it is a recommended, secure backend *and* gives back what was
written to it: the ``fail`` and ``null`` backends, ``keyrings.alt`` (plain or home-made encrypted
files) and anything keyring itself ranks below "recommended" (priority < 1) are refused.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import queue
import secrets
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.errors import KeyringError, KeyringLocked, NoKeyringError, PasswordDeleteError

from app.security.keyring_platform import current_keyring
from app.security.vault import VaultError
from app.storage.vault_repository import KdfRecord

log = logging.getLogger(__name__)
T = TypeVar("T")

SERVICE_NAME = "TradeBridge"
DEFAULT_KEYRING_TIMEOUT = 30.0
KEY_USERNAME_PREFIX = "vault-data-key-"

#: scrypt cost (RFC 7914; OWASP's recommended N=2^17, r=8, p=1): ~0.3 s and 128 MiB per derivation.
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSPHRASE_LENGTH = 8
#: zxcvbn's 0-4 scale; 3 is "safely unguessable: moderate protection from offline slow-hash attacks".
MIN_PASSPHRASE_SCORE = 3
#: zxcvbn's run time grows with length; what is past this adds strength it need not measure.
ESTIMATED_PREFIX = 100
#: Bounds on stored scrypt parameters: the database is not trusted to set the cost of an unlock.
SCRYPT_MIN_N = 2**14
SCRYPT_MAX_MEMORY = 256 * 1024 * 1024
SCRYPT_MAX_P = 4
SCRYPT_SALT_BYTES = (16, 64)


class KeyStoreError(Exception):
    """A key store could not do what was asked; ``str()`` is a message for the trader."""


class KeyringTimeout(KeyStoreError):
    """The keyring did not answer in time (often an unlock prompt waiting somewhere)."""


class KeyringUnavailable(KeyStoreError):
    """The keyring refused or failed the call."""


@dataclass(frozen=True, slots=True)
class KeyringAssessment:
    usable: bool
    backend: str
    reason: str = ""


def backend_label(backend: KeyringBackend) -> str:
    kind = type(backend)
    return f"{kind.__module__}.{kind.__name__}"


def refusal_reason(backend: KeyringBackend) -> str | None:
    """Why this backend can't hold the data key, or ``None`` when it may (a probe still follows)."""
    if isinstance(backend, chainer.ChainerBackend):
        members = list(backend.backends)
        if not members:
            return "No system keyring is available."
        # The chainer writes to its highest-priority member, so that one decides.
        backend = members[0]
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return "No system keyring is available."
    module = type(backend).__module__
    if module == "keyrings.alt" or module.startswith("keyrings.alt."):
        return "The only keyring available keeps secrets in a file of its own, which is not secure enough."
    try:
        priority = float(backend.priority)
    except Exception:  # noqa: BLE001 - a backend that can't even rank itself is not usable here
        return "The system keyring can't be used on this computer."
    if priority < 1:
        return "The available keyring is not one that is recommended for secrets."
    return None


class _Job:
    __slots__ = ("operation", "deliver", "cancelled")

    def __init__(self, operation: Callable[[KeyringBackend], Any], deliver: Callable[[bool, Any], None]) -> None:
        self.operation = operation
        self.deliver = deliver
        self.cancelled = False


class _KeyringThread(threading.Thread):
    def __init__(self, backend: Callable[[], KeyringBackend]) -> None:
        super().__init__(name="tradebridge-keyring", daemon=True)
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._backend = backend

    def run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            if job.cancelled:
                continue
            try:
                result = job.operation(self._backend())
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting coroutine
                job.deliver(False, exc)
            else:
                job.deliver(True, result)


class KeyringGateway:
    """Runs keyring calls on a daemon thread; the awaiting coroutine gives up after ``timeout``."""

    def __init__(self, *, timeout: float = DEFAULT_KEYRING_TIMEOUT, backend: KeyringBackend | None = None) -> None:
        self.timeout = timeout
        self._backend = backend
        self._thread: _KeyringThread | None = None
        self._guard = threading.Lock()

    def _current_backend(self) -> KeyringBackend:
        # Resolved on the keyring thread: the first resolution probes D-Bus and may itself hang.
        return self._backend if self._backend is not None else current_keyring()

    def _worker(self) -> _KeyringThread:
        with self._guard:
            if self._thread is None or not self._thread.is_alive():
                self._thread = _KeyringThread(self._current_backend)
                self._thread.start()
            return self._thread

    def _abandon(self, thread: _KeyringThread) -> None:
        with self._guard:
            if self._thread is thread:
                self._thread = None
        thread.jobs.put(None)

    def close(self) -> None:
        """Let the keyring thread end once it has finished the call it is in (if any); a later call starts a new one."""
        with self._guard:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.jobs.put(None)

    async def call(self, operation: Callable[[KeyringBackend], T], *, what: str) -> T:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()

        def settle(ok: bool, value: Any) -> None:
            if waiter.done():
                return
            if ok:
                waiter.set_result(value)
            else:
                waiter.set_exception(value)

        def deliver(ok: bool, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(settle, ok, value)
            except RuntimeError:
                pass  # the loop is closed: the caller gave up long ago

        job = _Job(operation, deliver)
        thread = self._worker()
        thread.jobs.put(job)
        try:
            return await asyncio.wait_for(waiter, self.timeout)
        except TimeoutError:
            job.cancelled = True
            self._abandon(thread)
            log.warning("The system keyring did not answer within %.1f s while %s", self.timeout, what)
            raise KeyringTimeout(
                f"The system keyring did not answer within {self.timeout:g} seconds. If it is asking to be "
                "unlocked, answer that prompt, then press Retry."
            ) from None


def _keyring_failure(exc: BaseException, what: str) -> KeyringUnavailable:
    # Only the type is logged and shown: a backend's message might quote what it was handed.
    log.warning("The system keyring failed while %s (%s)", what, type(exc).__name__)
    if isinstance(exc, KeyringLocked):
        return KeyringUnavailable("The system keyring is locked.")
    if isinstance(exc, NoKeyringError):
        return KeyringUnavailable("No system keyring is available.")
    return KeyringUnavailable(f"The system keyring failed ({type(exc).__name__}).")


class KeyringKeyStore:
    """Data keys in the OS keyring, one entry per key id, under the service ``TradeBridge``."""

    def __init__(self, gateway: KeyringGateway | None = None, *, service: str = SERVICE_NAME) -> None:
        self.gateway = gateway or KeyringGateway()
        self.service = service

    def close(self) -> None:
        self.gateway.close()

    def _username(self, key_id: str) -> str:
        return KEY_USERNAME_PREFIX + key_id

    async def _call(self, operation: Callable[[KeyringBackend], T], what: str) -> T:
        try:
            return await self.gateway.call(operation, what=what)
        except KeyStoreError:
            raise
        except (KeyringError, OSError, RuntimeError) as exc:
            raise _keyring_failure(exc, what) from None
        except Exception as exc:  # noqa: BLE001 - D-Bus and OS bindings raise their own types
            raise _keyring_failure(exc, what) from None

    async def assess(self) -> KeyringAssessment:
        """Is there a secure keyring that reads back what it stores? One round trip with a throwaway value."""
        service = self.service

        def probe(backend: KeyringBackend) -> KeyringAssessment:
            label = backend_label(backend)
            reason = refusal_reason(backend)
            if reason is not None:
                return KeyringAssessment(False, label, reason)
            username = f"probe-{secrets.token_hex(8)}"
            value = secrets.token_urlsafe(24)
            try:
                backend.set_password(service, username, value)
            except Exception as exc:  # noqa: BLE001 - any refusal means "not usable"
                log.info("The keyring %s refused a test value (%s)", label, type(exc).__name__)
                return KeyringAssessment(False, label, "The system keyring refused to store a value.")
            try:
                echoed = backend.get_password(service, username)
            finally:
                try:
                    backend.delete_password(service, username)
                except Exception:  # noqa: BLE001 - the probe value is worthless; leaving it is harmless
                    pass
            if echoed != value:
                return KeyringAssessment(False, label, "The system keyring does not give back what is stored in it.")
            return KeyringAssessment(True, label)

        return await self._call(probe, "checking the keyring")

    async def get(self, key_id: str) -> bytes | None:
        service, username = self.service, self._username(key_id)
        value = await self._call(lambda backend: backend.get_password(service, username), "reading a data key")
        return value.encode("ascii") if value else None

    async def put(self, key_id: str, key: bytes) -> None:
        """Store a key and read it back; raises unless the keyring returns exactly what was written."""
        service, username, text = self.service, self._username(key_id), key.decode("ascii")

        def store(backend: KeyringBackend) -> bool:
            backend.set_password(service, username, text)
            return backend.get_password(service, username) == text

        if not await self._call(store, "storing a data key"):
            raise KeyringUnavailable("The system keyring did not keep the encryption key.")

    async def delete(self, key_id: str) -> None:
        """Remove a key; a key that is already gone counts as removed."""
        service, username = self.service, self._username(key_id)

        def remove(backend: KeyringBackend) -> None:
            try:
                backend.delete_password(service, username)
            except PasswordDeleteError:
                pass

        await self._call(remove, "removing an old data key")


def passphrase_problem(passphrase: str) -> str | None:
    """Why a new passphrase is refused, or ``None``: too short, or easy to guess by zxcvbn's estimate."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        return f"Use at least {MIN_PASSPHRASE_LENGTH} characters."
    if not passphrase.strip():
        return "The passphrase can't be only spaces."
    # Loaded when a passphrase is chosen, not at every start (its word lists take a while to import).
    from zxcvbn import zxcvbn

    estimate = zxcvbn(passphrase[:ESTIMATED_PREFIX])
    if estimate["score"] < MIN_PASSPHRASE_SCORE:
        feedback = estimate.get("feedback") or {}
        warning = str(feedback.get("warning") or "").strip()
        why = f" ({warning.rstrip('.')})" if warning else ""
        return f"This passphrase is too easy to guess{why}. A few unrelated words make a strong one."
    return None


class KdfOutOfBounds(VaultError):
    """Stored scrypt parameters outside what the app accepts (a damaged or tampered database)."""


def check_kdf(kdf: KdfRecord) -> None:
    """Refuse parameters that would make an unlock take gigabytes or minutes, or that are too weak."""
    n, r, p = kdf.n, kdf.r, kdf.p
    power_of_two = n > 1 and n & (n - 1) == 0
    if (
        kdf.name != "scrypt"
        or not power_of_two
        or n < SCRYPT_MIN_N
        or not 1 <= r <= 32
        or not 1 <= p <= SCRYPT_MAX_P
        or 128 * n * r > SCRYPT_MAX_MEMORY
        or not SCRYPT_SALT_BYTES[0] <= len(kdf.salt) <= SCRYPT_SALT_BYTES[1]
    ):
        raise KdfOutOfBounds(
            "The passphrase settings stored in the database are outside what TradeBridge accepts "
            "(the file may be damaged or was changed). Nothing was unlocked."
        )


def new_kdf(*, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> KdfRecord:
    return KdfRecord(name="scrypt", salt=os.urandom(16), n=n, r=r, p=p)


def derive_passphrase_key(passphrase: str, kdf: KdfRecord) -> bytes:
    """The Fernet key wrapping the data keys in passphrase mode. Blocking (~0.3 s): run it off the loop."""
    check_kdf(kdf)
    # NFC so the same passphrase typed through different input methods derives the same key.
    material = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    raw = Scrypt(salt=kdf.salt, length=32, n=kdf.n, r=kdf.r, p=kdf.p).derive(material)
    return base64.urlsafe_b64encode(raw)
