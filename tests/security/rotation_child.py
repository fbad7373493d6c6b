"""A child process for the rotation crash test: seeds a vault, rotates step by step on command, checks it.

Run as ``python -m tests.security.rotation_child <data_dir> <seed|rotate|check|finish> [rows]`` with
``PYTHON_KEYRING_BACKEND=tests.security.keyrings.FileKeyring`` so the keyring outlives the process.
In ``rotate`` every rotation step is announced on stdout as ``STEP <name> <done> <total>`` and the
child waits for ``go`` on stdin before going on, so the parent can SIGKILL it at an exact step.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from app.paths import AppPaths
from app.security.keystore import KeyringGateway, KeyringKeyStore
from app.security.vault_service import RotationStep, VaultService, VaultState
from app.storage.connections_repository import ConnectionDraft
from app.storage.database import open_database
from app.storage.worker import DatabaseWorker


def expected_credentials(index: int) -> dict[str, str]:
    return {"api_key": f"PKROTATE{index:04d}", "api_secret": f"rotation-secret-{index:04d}-xyzzy"}


def _announce(step: RotationStep) -> None:
    print(f"STEP {step.name} {step.done} {step.total}", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("parent stopped answering")


async def _main(data_dir: Path, action: str, rows: int) -> dict[str, object]:
    paths = AppPaths(data_dir).ensure()
    worker = DatabaseWorker()
    await worker.open(lambda: open_database(paths.database, paths.backups))
    try:
        vault = VaultService(worker, KeyringKeyStore(KeyringGateway(timeout=10.0)))
        status = await vault.start()
        if status.state is not VaultState.READY:
            return {"state": status.state.value, "message": status.message}
        if action == "seed":
            for index in range(rows):
                draft = ConnectionDraft(broker="alpaca", environment="paper", label=f"Account {index}")
                await vault.save_connection(draft, expected_credentials(index))
        elif action == "rotate":
            await vault.rotate_key(_announce)
        elif action == "finish":
            await vault.finish_rotation()
        listed = await vault.connections()
        credentials = {s.record.label: dict(await vault.credentials(s.record.id)) for s in listed}
        return {"state": vault.status.state.value, "credentials": credentials}
    finally:
        await worker.close()


if __name__ == "__main__":
    directory, verb = Path(sys.argv[1]), sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    print("RESULT " + json.dumps(asyncio.run(_main(directory, verb, count))), flush=True)
