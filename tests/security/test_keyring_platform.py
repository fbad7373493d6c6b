"""The keyring is chosen among the running platform's own backends, and an explicit choice still wins."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from app.security import keyring_platform
from app.security.keyring_platform import PLATFORM_BACKENDS, current_keyring, platform_family, platform_keyring
from tests.security.keyrings import MemoryKeyring


@pytest.mark.parametrize(
    ("platform", "family"),
    [("linux", "linux"), ("freebsd14", "linux"), ("win32", "win32"), ("darwin", "darwin")],
)
def test_platform_families(platform: str, family: str) -> None:
    assert platform_family(platform) == family


def test_each_platform_looks_only_at_its_own_backends() -> None:
    assert all("macOS" not in name and "Windows" not in name for name in PLATFORM_BACKENDS["linux"])
    assert PLATFORM_BACKENDS["darwin"] == ("keyring.backends.macOS",)
    assert PLATFORM_BACKENDS["win32"] == ("keyring.backends.Windows",)


def test_an_unknown_platform_gets_no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring.core, "load_config", lambda: None)
    assert isinstance(platform_keyring("plan9"), fail.Keyring)


def test_the_environment_variable_still_chooses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.security.keyrings.MemoryKeyring")
    assert isinstance(platform_keyring("plan9"), MemoryKeyring)


def test_a_keyring_already_set_is_kept(private_keyring: MemoryKeyring) -> None:
    assert current_keyring() is private_keyring


def test_nothing_set_detects_once_and_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = MemoryKeyring()
    calls: list[None] = []

    def detect() -> MemoryKeyring:
        calls.append(None)
        return chosen

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    monkeypatch.setattr(keyring_platform, "platform_keyring", detect)
    assert current_keyring() is chosen
    assert current_keyring() is chosen
    assert len(calls) == 1
