"""The keyring backend for this platform, chosen among that platform's own backends only.

``keyring.get_keyring()`` imports every backend it knows through entry points and asks each how
well it fits. On Linux that includes the macOS backend, whose import calls
``ctypes.util.find_library`` — which runs ``ldconfig``, ``gcc`` and ``ld`` to look for Apple
frameworks that can't exist there. The app therefore never lets keyring detect on its own: it
looks only at the backends that can serve the platform it runs on and spawns no process doing so.

An explicit choice still wins: ``keyring.set_keyring`` (tests), ``$PYTHON_KEYRING_BACKEND`` and
keyring's own ``keyringrc.cfg`` are honoured exactly as keyring honours them.
"""

from __future__ import annotations

import importlib
import logging
import sys

import keyring
import keyring.core
from keyring.backend import KeyringBackend
from keyring.backends import fail

log = logging.getLogger(__name__)

#: The keyring modules that can hold secrets on each platform, by ``sys.platform`` family.
PLATFORM_BACKENDS: dict[str, tuple[str, ...]] = {
    "linux": ("keyring.backends.SecretService", "keyring.backends.kwallet", "keyring.backends.libsecret"),
    "win32": ("keyring.backends.Windows",),
    "darwin": ("keyring.backends.macOS",),
}


def platform_family(platform: str | None = None) -> str:
    """``linux`` for every Unix with a freedesktop keyring, else ``sys.platform`` itself."""
    name = platform or sys.platform
    if name.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return "linux"
    return name


def platform_candidates(platform: str | None = None) -> list[type[KeyringBackend]]:
    """Every backend class of this platform that can work here now, best first."""
    found: list[type[KeyringBackend]] = []
    for module_name in PLATFORM_BACKENDS.get(platform_family(platform), ()):
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001 - a backend whose bindings are missing is simply absent
            log.info("Keyring backend %s is not available (%s)", module_name, type(exc).__name__)
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, KeyringBackend)
                and value.__module__ == module_name
                and value.viable
            ):
                found.append(value)
    return sorted(found, key=lambda kind: kind.priority, reverse=True)


def platform_keyring(platform: str | None = None) -> KeyringBackend:
    """The configured keyring if one is configured, else the best backend of this platform, else ``fail``."""
    configured = keyring.core.load_env() or keyring.core.load_config()
    if configured is not None:
        return configured
    candidates = platform_candidates(platform)
    if not candidates:
        return fail.Keyring()
    return candidates[0]()


def current_keyring() -> KeyringBackend:
    """The keyring every vault call uses: the one already chosen, else this platform's (chosen once).

    Blocking (it may probe D-Bus): call it on the keyring thread, never on the Qt thread.
    """
    if getattr(keyring.core, "_keyring_backend", None) is None:
        keyring.set_keyring(platform_keyring())
    return keyring.get_keyring()
