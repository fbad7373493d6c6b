"""The vault through its controller and widgets, on a qasync loop as in the app."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.controller.vault_controller import VaultController
from app.paths import AppPaths
from app.security.keystore import KeyringGateway, KeyringKeyStore
from app.security.vault_service import VaultService, VaultState
from app.storage.connections_repository import ConnectionDraft
from app.storage.database import open_database
from app.storage.worker import DatabaseWorker
from app.ui.security_panel import SecurityPanel
from app.ui.vault_dialogs import VaultDialogs
from tests.conftest import QtLoop, until
from tests.security.conftest import cheap_kdf
from tests.security.keyrings import HangingKeyring, MemoryKeyring

PASSPHRASE = "tr0ub4dor & 3 more words"


@dataclass
class VaultApp:
    """The vault's part of the app: service, controller, dialogs and the Settings panel, wired."""

    worker: DatabaseWorker
    service: VaultService
    controller: VaultController
    dialogs: VaultDialogs
    panel: SecurityPanel
    window: QWidget


@pytest.fixture
def build_app(qtbot: QtBot, qt_loop: QtLoop, paths: AppPaths) -> Iterator[Callable[..., VaultApp]]:
    workers: list[DatabaseWorker] = []

    def build(backend: MemoryKeyring | None = None, timeout: float = 5.0) -> VaultApp:
        worker = DatabaseWorker()
        workers.append(worker)
        qt_loop.run(worker.open(lambda: open_database(paths.database, paths.backups)))
        service = VaultService(worker, KeyringKeyStore(KeyringGateway(timeout=timeout, backend=backend)), kdf_factory=cheap_kdf)
        controller = VaultController(service)
        window = QWidget()
        qtbot.addWidget(window)
        dialogs = VaultDialogs(window)
        dialogs.bind(controller)
        panel = SecurityPanel(window)
        panel.bind(controller, dialogs)
        return VaultApp(worker, service, controller, dialogs, panel, window)

    yield build
    for worker in workers:
        qt_loop.run(worker.close())


def test_a_hanging_keyring_shows_the_timeout_message_while_the_ui_keeps_running(
    build_app: Callable[..., VaultApp], qt_loop: QtLoop, qtbot: QtBot
) -> None:
    backend = HangingKeyring()
    app = build_app(backend, timeout=0.5)
    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(20)
    heartbeat.timeout.connect(lambda: ticks.append(time.monotonic()))
    heartbeat.start()
    try:
        app.controller.start()
        qt_loop.run(until(app.dialogs.keyring_timeout.isVisible, message="no timeout dialog"))
    finally:
        heartbeat.stop()

    assert backend.hung.is_set()
    assert "did not answer within 0.5 seconds" in app.dialogs.keyring_timeout.message.text()
    assert app.panel.state.text() == "Credential vault: Waiting for the system keyring"
    assert app.panel.retry.isVisibleTo(app.panel)
    # Qt kept delivering timer events all along: no gap anywhere near the keyring's hang.
    assert len(ticks) >= 10
    assert max(later - earlier for earlier, later in zip(ticks, ticks[1:])) < 0.25

    backend.release()
    qtbot.mouseClick(app.dialogs.keyring_timeout.retry, Qt.MouseButton.LeftButton)
    qt_loop.run(until(lambda: app.controller.status.state is VaultState.READY))
    qt_loop.run(until(lambda: not app.dialogs.keyring_timeout.isVisible()))
    assert app.panel.state.text() == "Credential vault: Unlocked"


def test_passphrase_mode_through_the_dialogs_when_there_is_no_keyring(
    build_app: Callable[..., VaultApp], qt_loop: QtLoop, qtbot: QtBot, keyring_from_env: Callable[[str], None]
) -> None:
    keyring_from_env("keyring.backends.fail.Keyring")
    first = build_app()
    first.controller.start()
    setup = first.dialogs.setup
    qt_loop.run(until(setup.isVisible, message="the set-up dialog was not offered"))
    assert "No system keyring is available." in setup.reason.text()

    qtbot.keyClicks(setup.passphrase, PASSPHRASE)
    qtbot.keyClicks(setup.confirm_field, PASSPHRASE + "x")
    qtbot.mouseClick(setup.submit, Qt.MouseButton.LeftButton)
    assert setup.error.text() == "The two passphrases differ." and setup.isVisible()
    setup.confirm_field.clear()
    qtbot.keyClicks(setup.confirm_field, PASSPHRASE)
    qtbot.mouseClick(setup.submit, Qt.MouseButton.LeftButton)
    qt_loop.run(until(lambda: not setup.isVisible(), message="the set-up dialog stayed open"))
    assert first.controller.status.state is VaultState.READY
    assert setup.passphrase.text() == "" and setup.confirm_field.text() == ""
    assert "master passphrase" in first.panel.mode.text()
    saved = qt_loop.run(first.service.save_connection(ConnectionDraft("tradier", "live", "Tradier"), {"token": "gui-token-0001"}))

    restarted = build_app()
    restarted.controller.start()
    unlock = restarted.dialogs.unlock
    qt_loop.run(until(unlock.isVisible, message="the unlock dialog was not shown"))
    qtbot.keyClicks(unlock.passphrase, "not it at all")
    qtbot.mouseClick(unlock.submit, Qt.MouseButton.LeftButton)
    qt_loop.run(until(lambda: bool(unlock.error.text())))
    assert unlock.error.text() == "That passphrase does not unlock your saved credentials."
    assert unlock.isVisible() and unlock.passphrase.text() == ""

    qtbot.keyClicks(unlock.passphrase, PASSPHRASE)
    qtbot.mouseClick(unlock.submit, Qt.MouseButton.LeftButton)
    qt_loop.run(until(lambda: not unlock.isVisible(), message="the unlock dialog stayed open"))
    assert restarted.controller.status.state is VaultState.READY
    assert qt_loop.run(restarted.service.credentials(saved.id))["token"] == "gui-token-0001"


def test_rotating_from_the_settings_panel(build_app: Callable[..., VaultApp], qt_loop: QtLoop, qtbot: QtBot, private_keyring: MemoryKeyring) -> None:
    app = build_app()
    app.controller.start()
    qt_loop.run(until(lambda: app.controller.status.state is VaultState.READY))
    for label in ("One", "Two"):
        qt_loop.run(app.service.save_connection(ConnectionDraft("alpaca", "paper", label), {"api_secret": f"secret-{label}-000"}))
    old_keys = set(private_keyring.data_keys().values())
    progress: list[tuple[int, int]] = []
    app.controller.rotation_progress.connect(lambda done, total: progress.append((done, total)))

    assert app.panel.rotate.isVisibleTo(app.panel) and app.panel.rotate.isEnabled()
    qtbot.mouseClick(app.panel.rotate, Qt.MouseButton.LeftButton)
    qt_loop.run(until(lambda: bool(app.panel.message.text())))

    assert app.panel.message.text().startswith("Every saved credential is now encrypted under a new key")
    assert progress == [(1, 2), (2, 2)]
    assert set(private_keyring.data_keys().values()).isdisjoint(old_keys)
    assert not app.panel.progress.isVisible() and app.panel.rotate.isEnabled()


def test_a_lost_key_is_shown_and_can_be_given_up_from_the_panel(
    build_app: Callable[..., VaultApp], qt_loop: QtLoop, qtbot: QtBot, private_keyring: MemoryKeyring
) -> None:
    first = build_app()
    first.controller.start()
    qt_loop.run(until(lambda: first.controller.status.state is VaultState.READY))
    saved = qt_loop.run(first.service.save_connection(ConnectionDraft("alpaca", "live", "Live"), {"api_secret": "lost-secret-0001"}))
    private_keyring.entries.clear()

    app = build_app()
    app.controller.start()
    qt_loop.run(until(lambda: app.panel.forget.isVisibleTo(app.panel)))
    assert app.panel.state.text() == "Credential vault: Saved credentials can't be read"
    assert "Re-enter a connection's credentials" in app.panel.status.text()
    app.panel.confirm = lambda _title, _text: True
    qtbot.mouseClick(app.panel.forget, Qt.MouseButton.LeftButton)
    qt_loop.run(until(lambda: app.controller.status.state is VaultState.READY))

    (listed,) = qt_loop.run(app.service.connections())
    assert listed.record.id == saved.id and listed.message == "No credentials saved."


def test_change_passphrase_from_the_panel(
    build_app: Callable[..., VaultApp], qt_loop: QtLoop, qtbot: QtBot, keyring_from_env: Callable[[str], None]
) -> None:
    keyring_from_env("keyring.backends.fail.Keyring")
    app = build_app()
    app.controller.start()
    qt_loop.run(until(app.dialogs.setup.isVisible))
    qt_loop.run(app.service.setup_passphrase(PASSPHRASE))
    app.controller.start()
    qt_loop.run(until(lambda: app.panel.change_passphrase.isVisibleTo(app.panel), message="no Change passphrase"))
    assert not app.panel.change_passphrase.isHidden()
    saved = qt_loop.run(app.service.save_connection(ConnectionDraft("tradier", "live", "Tradier"), {"token": "gui-token-0002"}))

    qtbot.mouseClick(app.panel.change_passphrase, Qt.MouseButton.LeftButton)
    change = app.dialogs.change
    assert change.isVisible()
    qtbot.keyClicks(change.current, "not the passphrase")
    qtbot.keyClicks(change.new, "purple elephant marmalade sunrise")
    qtbot.keyClicks(change.confirm_field, "purple elephant marmalade sunrise")
    qtbot.mouseClick(change.submit, Qt.MouseButton.LeftButton)
    qt_loop.run(until(lambda: bool(change.error.text())))
    assert "not your current passphrase" in change.error.text() and change.isVisible()

    change.current.clear()
    qtbot.keyClicks(change.current, PASSPHRASE)
    change.new.clear()
    change.confirm_field.clear()
    qtbot.keyClicks(change.new, "password")
    qtbot.keyClicks(change.confirm_field, "password")
    qtbot.mouseClick(change.submit, Qt.MouseButton.LeftButton)
    qt_loop.run(until(lambda: "too easy to guess" in change.error.text(), message=change.error.text()))

    change.new.clear()
    change.confirm_field.clear()
    qtbot.keyClicks(change.new, "purple elephant marmalade sunrise")
    qtbot.keyClicks(change.confirm_field, "purple elephant marmalade sunrise")
    qtbot.mouseClick(change.submit, Qt.MouseButton.LeftButton)
    qt_loop.run(until(lambda: not change.isVisible(), message=change.error.text()))
    assert app.panel.message.text() == "Your passphrase was changed."
    assert change.current.text() == "" and change.new.text() == ""

    restarted = build_app()
    qt_loop.run(restarted.service.start())
    qt_loop.run(restarted.service.unlock("purple elephant marmalade sunrise"))
    assert qt_loop.run(restarted.service.credentials(saved.id))["token"] == "gui-token-0002"


def test_the_number_of_backups_to_keep_is_a_setting(
    build_app: Callable[..., VaultApp], qt_loop: QtLoop, qtbot: QtBot, paths: AppPaths
) -> None:
    from app.storage import backups

    app = build_app()
    app.controller.start()
    qt_loop.run(until(lambda: app.controller.status.state is VaultState.READY))
    qt_loop.run(until(lambda: app.panel.backups_keep.value() == backups.DEFAULT_KEEP))
    app.panel.backups_keep.setValue(2)
    app.panel.backups_keep.editingFinished.emit()
    qt_loop.run(_until_kept(app, 2))
    for _ in range(4):
        backups.backup_database(paths.database, paths.backups, "before-0002_vault")
    qt_loop.run(app.worker.close())

    restarted = build_app()
    assert len(backups.before_migration(paths.backups)) == 2
    restarted.controller.start()
    qt_loop.run(until(lambda: restarted.panel.backups_keep.value() == 2))


async def _until_kept(app: VaultApp, count: int) -> None:
    import asyncio

    from app.storage.settings_repository import get_setting

    while await app.worker.run(lambda s: get_setting(s, "backups.keep", 0)) != count:
        await asyncio.sleep(0.02)
