"""Headless checks of a built or installed app: one broker connection (--smoke-connect) and the keyring (--keyring-check).

Both go through the code the trader's clicks go through: ``--smoke-connect`` hands a connection form to
``ConnectionController.connect`` (verify with the broker, encrypt into the vault, activate), and
``--keyring-check`` runs the vault's own keyring assessment. Packaging runs them against the built
executable to prove the SDKs, their data files and the keyring backends made it into the bundle.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.controller.connection_controller import ConnectionController
from app.controller.vault_controller import VaultController
from app.security.keystore import KeyringKeyStore, KeyStoreError
from app.security.vault_service import VaultState

#: The form file's optional key holding the master passphrase for a data folder without a usable keyring.
PASSPHRASE_KEY = "vault_passphrase"
EXIT_OK = 0
EXIT_FAILED = 1


class SmokeFormError(ValueError):
    """The --smoke-connect file can't be used; ``str()`` says why."""


def load_connect_form(path: Path) -> tuple[dict[str, object], str | None]:
    """The connection form (broker, environment, base_url, fields) and the optional vault passphrase."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SmokeFormError(f"the connection file {path} can't be read ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise SmokeFormError(f"the connection file {path} is not JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("broker"), str):
        raise SmokeFormError(f"the connection file {path} needs an object with at least a \"broker\" name")
    passphrase = raw.pop(PASSPHRASE_KEY, None)
    if passphrase is not None and not isinstance(passphrase, str):
        raise SmokeFormError(f"\"{PASSPHRASE_KEY}\" must be a string")
    raw.setdefault("fields", {})
    return raw, passphrase


async def smoke_connect(
    connections: ConnectionController,
    vault: VaultController,
    vault_started: asyncio.Future[Any] | None,
    form: Mapping[str, object],
    passphrase: str | None,
) -> int:
    """Open the vault (with the passphrase when it needs one), connect the form's broker, print the account."""
    problems: list[str] = []
    connections.test_failed.connect(problems.append)
    connections.error.connect(problems.append)
    connections.form_rejected.connect(lambda errors: problems.extend(f"{k}: {v}" for k, v in errors.items()))
    vault.error.connect(problems.append)
    vault.setup_failed.connect(problems.append)
    vault.unlock_failed.connect(problems.append)
    if vault_started is not None:
        await vault_started
    state = vault.status.state
    if state in (VaultState.SETUP_REQUIRED, VaultState.LOCKED):
        if not passphrase:
            print(f"TradeBridge: the vault is {state.value} and the connection file has no \"{PASSPHRASE_KEY}\".",
                  file=sys.stderr)
            return EXIT_FAILED
        if state is VaultState.SETUP_REQUIRED:
            await vault.setup_passphrase(passphrase)
        else:
            await vault.unlock(passphrase)
    view = await connections.connect(form)
    if view is None:
        print("TradeBridge: the connection failed: " + (" ".join(problems) or "no reason given"), file=sys.stderr)
        return EXIT_FAILED
    print(view.headline, flush=True)
    return EXIT_OK


async def keyring_report() -> tuple[bool, str]:
    """The keyring this computer gives the vault, and whether the vault can keep its key there."""
    try:
        assessment = await KeyringKeyStore().assess()
    except KeyStoreError as exc:
        return False, f"Keyring: not usable — {exc}"
    if assessment.usable:
        return True, f"Keyring: {assessment.backend} (usable)"
    return False, f"Keyring: {assessment.backend} (not usable — {assessment.reason})"


def keyring_check() -> int:
    """``--keyring-check``: print the keyring report; exit 0 when the vault could use the keyring."""
    usable, line = asyncio.run(keyring_report())
    print(line, flush=True)
    return EXIT_OK if usable else EXIT_FAILED
