"""Key rotation and passphrase changes reach the audit log, and no passphrase or credential ever does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from pytestqt.qtbot import QtBot

from app.controller.audit_controller import AuditLog
from app.controller.vault_controller import VaultController
from app.domain.audit import AuditKind
from app.paths import AppPaths
from app.security import redaction
from app.security.keystore import KeyringGateway, KeyringKeyStore
from app.security.vault_service import VaultService, VaultState
from app.storage.audit_repository import read_audit
from app.storage.connections_repository import ConnectionDraft
from app.storage.database import open_database
from app.storage.worker import DatabaseWorker
from tests.conftest import QtLoop, until
from tests.security.conftest import cheap_kdf

PASSPHRASE = "tr0ub4dor & 3 more words"
NEW_PASSPHRASE = "purple elephant marmalade sunrise"
TOKEN = "audit-canary-token-7f3a9c"


@pytest.fixture(autouse=True)
def fresh_secret_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets registered by earlier tests in this process would mask 8-character pieces of these messages."""
    monkeypatch.setattr(redaction, "_known", redaction._Known())
    # The registry rebuilds _known from these on every new secret: they must start empty too.
    monkeypatch.setattr(redaction, "_values", set())
    monkeypatch.setattr(redaction, "_accounts", {})


def test_rotation_and_passphrase_change_are_audited_without_secrets(
    qt_loop: QtLoop, qtbot: QtBot, paths: AppPaths, keyring_from_env: Callable[[str], None]
) -> None:
    keyring_from_env("keyring.backends.fail.Keyring")
    worker = DatabaseWorker()
    qt_loop.run(worker.open(lambda: open_database(paths.database, paths.backups)))
    service = VaultService(worker, KeyringKeyStore(KeyringGateway(timeout=5.0)), kdf_factory=cheap_kdf)
    controller = VaultController(service)
    audit = AuditLog(worker, lambda: datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    audit.follow_vault(controller)
    try:
        controller.start()
        qt_loop.run(until(lambda: controller.status.state is VaultState.SETUP_REQUIRED))
        controller.setup_passphrase(PASSPHRASE)
        qt_loop.run(until(lambda: controller.status.state is VaultState.READY, message=controller.status.message))
        qt_loop.run(service.save_connection(ConnectionDraft("tradier", "live", "Tradier"), {"token": TOKEN}))

        controller.rotate_key()
        rotated: list[str] = []
        controller.rotation_finished.connect(rotated.append)
        qt_loop.run(until(lambda: bool(rotated), message="no rotation"))
        changed: list[str] = []
        controller.passphrase_changed.connect(changed.append)
        controller.change_passphrase(PASSPHRASE, NEW_PASSPHRASE)
        qt_loop.run(until(lambda: bool(changed), message="no passphrase change"))

        qt_loop.run(audit.flush())
        events = qt_loop.run(worker.run(lambda s: read_audit(s, limit=None)))
        kinds = [e.kind for e in reversed(events)]
        assert kinds == [AuditKind.PASSPHRASE_CHANGED, AuditKind.VAULT_KEY_ROTATED, AuditKind.PASSPHRASE_CHANGED]
        assert events[0].summary == "The master passphrase was changed."
        for event in events:
            for secret in (PASSPHRASE, NEW_PASSPHRASE, TOKEN):
                assert secret not in event.summary
    finally:
        qt_loop.run(worker.close())
    for path in paths.database.parent.glob(paths.database.name + "*"):
        content = path.read_bytes()
        assert PASSPHRASE.encode() not in content and NEW_PASSPHRASE.encode() not in content
