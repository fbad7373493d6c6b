"""Keyring backends for tests: in memory, in a JSON file (shared with a child process), hanging, forgetful.

Each is a real ``keyring.backend.KeyringBackend`` subclass, loadable through
``PYTHON_KEYRING_BACKEND=tests.security.keyrings.<Name>`` or installed with ``keyring.set_keyring``.
None of them is ever the user's real keyring.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FILE_KEYRING_ENV = "TRADEBRIDGE_TEST_KEYRING_FILE"


class MemoryKeyring(KeyringBackend):
    """A secure-looking keyring that keeps entries in a dict."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.calls: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.calls.append("get")
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append("set")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.calls.append("delete")
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")

    def data_keys(self) -> dict[str, str]:
        return {user: value for (_service, user), value in self.entries.items() if user.startswith("vault-data-key-")}


class FileKeyring(KeyringBackend):
    """Entries in the JSON file named by ``$TRADEBRIDGE_TEST_KEYRING_FILE``, so two processes share them."""

    priority = 1  # type: ignore[assignment]

    def _path(self) -> Path:
        return Path(os.environ[FILE_KEYRING_ENV])

    def _load(self) -> dict[str, str]:
        path = self._path()
        return json.loads(path.read_text()) if path.exists() else {}

    def _store(self, entries: dict[str, str]) -> None:
        path = self._path()
        temporary = path.with_suffix(".tmp")
        with open(temporary, "w") as handle:
            json.dump(entries, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = self._load()
        entries[f"{service}/{username}"] = password
        self._store(entries)

    def delete_password(self, service: str, username: str) -> None:
        entries = self._load()
        if entries.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("not found")
        self._store(entries)


class HangingKeyring(MemoryKeyring):
    """``get_password`` blocks until ``release()``, like a Secret Service unlock prompt nobody answers."""

    def __init__(self) -> None:
        super().__init__()
        self.released = threading.Event()
        self.hung = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.hung.set()
        self.released.wait()
        return super().get_password(service, username)

    def release(self) -> None:
        self.released.set()


class ForgetfulKeyring(MemoryKeyring):
    """Accepts every write and gives nothing back."""

    def get_password(self, service: str, username: str) -> str | None:
        self.calls.append("get")
        return None


class LowPriorityKeyring(MemoryKeyring):
    """Works, but ranks itself below what keyring calls recommended (as plaintext backends do)."""

    priority = 0.5  # type: ignore[assignment]


class PlaintextLookalike(MemoryKeyring):
    """Pretends to come from keyrings.alt, whose backends keep secrets in files of their own."""

    priority = 5  # type: ignore[assignment]


PlaintextLookalike.__module__ = "keyrings.alt.file"
