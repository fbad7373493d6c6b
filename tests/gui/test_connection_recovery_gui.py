"""Settings after the vault key was lost, and the checks made before anything is sent to a broker."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QTableView

from app.main import AppServices, start_app
from app.storage.connections_repository import ConnectionDraft
from app.storage.vault_schema import ConnectionRow
from tests.conftest import until
from tests.fakes.alpaca import KEY_ID, SECRET_KEY, FakeAlpaca
from tests.security.keyrings import HangingKeyring, MemoryKeyring

TRADIER = ConnectionDraft(broker="tradier", environment="live", label="Tradier live")


@pytest.fixture
def fake_alpaca() -> Iterator[FakeAlpaca]:
    fake = FakeAlpaca().start()
    fake.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    try:
        yield fake
    finally:
        fake.stop()


async def _start(qtbot, app_paths, feed, clock, state: str = "ready") -> AppServices:
    services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=0.05, developer_mode=True)
    qtbot.addWidget(services.window)
    await until(lambda: services.vault.status.state.value == state, message=f"vault not {state}")
    return services


async def _stop(services: AppServices) -> None:
    services.window.close()
    await services.shutdown()


def _fill(qtbot, box, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = box.findChild(QLineEdit, name)
        field.clear()
        qtbot.keyClicks(field, value)


def _new_alpaca(qtbot, box, url: str) -> None:
    box.broker_select.setCurrentIndex(box.broker_select.findData("alpaca"))
    box.environment.setCurrentIndex(box.environment.findData("paper"))
    _fill(qtbot, box, {"settings.base_url": url, "settings.field.api_key_id": KEY_ID,
                       "settings.field.api_secret_key": SECRET_KEY})


def _test_button(box) -> QPushButton:
    return box.findChild(QPushButton, "settings.test_connection")


def test_a_lost_key_is_recovered_by_re_entering_one_connection(
    qtbot, qt_loop, app_paths, feed, clock, fake_alpaca, private_keyring: MemoryKeyring
):
    async def first_run() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        box = services.window.settings_pane.connections
        _new_alpaca(qtbot, box, fake_alpaca.url)
        qtbot.mouseClick(_test_button(box), Qt.MouseButton.LeftButton)
        await until(lambda: box.status.text().startswith("Connected"))
        tradier = await services.vault.service.save_connection(TRADIER, {"access_token": "tradier-token-0002"})
        await services.vault.service.mark_verified(tradier.id, "VA12345678", "margin")
        await _stop(services)

    async def after_the_key_is_lost() -> None:
        services = await _start(qtbot, app_paths, feed, clock, state="key_lost")
        box = services.window.settings_pane.connections
        table = box.findChild(QTableView, "settings.connections_table")
        await services.connections.refresh()
        model = table.model()
        rows = {model.text(r, "label"): r for r in range(model.rowCount())}
        assert set(rows) == {"Alpaca paper", "Tradier live"}
        for row in rows.values():
            assert model.text(row, "credentials").startswith("Needs re-entering")
        assert model.text(rows["Tradier live"], "account") == "…5678"

        # Editing the connection without its secrets is refused before anything reaches the broker.
        table.selectRow(rows["Alpaca paper"])
        qtbot.mouseClick(box.findChild(QPushButton, "settings.edit_connection"), Qt.MouseButton.LeftButton)
        result = box.findChild(QLabel, "settings.connection_result")
        assert "enter all of them again" in result.text()
        _fill(qtbot, box, {"settings.base_url": fake_alpaca.url})
        sent_before = len(fake_alpaca.server.requests)
        qtbot.mouseClick(_test_button(box), Qt.MouseButton.LeftButton)
        await until(lambda: "can't be read" in result.text(), message=result.text())
        assert len(fake_alpaca.server.requests) == sent_before

        _fill(qtbot, box, {"settings.field.api_key_id": KEY_ID, "settings.field.api_secret_key": SECRET_KEY})
        qtbot.mouseClick(_test_button(box), Qt.MouseButton.LeftButton)
        await until(lambda: box.status.text().startswith("Connected"), message=result.text())
        assert services.vault.status.state.value == "ready"
        await until(lambda: model.text(rows["Alpaca paper"], "credentials") == "Credentials saved.")
        labels = {model.text(r, "label"): model.text(r, "credentials") for r in range(model.rowCount())}
        assert labels["Tradier live"].startswith("Needs re-entering")
        rows_in_db = await services.worker.run(lambda s: list(s.query(ConnectionRow)))
        assert len(rows_in_db) == 2
        await _stop(services)

    qt_loop.run(first_run())
    private_keyring.entries.clear()
    qt_loop.run(after_the_key_is_lost())


def test_adding_a_lost_connection_again_does_not_duplicate_it(
    qtbot, qt_loop, app_paths, feed, clock, fake_alpaca, private_keyring: MemoryKeyring
):
    async def first_run() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        box = services.window.settings_pane.connections
        _new_alpaca(qtbot, box, fake_alpaca.url)
        qtbot.mouseClick(_test_button(box), Qt.MouseButton.LeftButton)
        await until(lambda: box.status.text().startswith("Connected"))
        await _stop(services)

    async def add_again() -> None:
        services = await _start(qtbot, app_paths, feed, clock, state="key_lost")
        box = services.window.settings_pane.connections
        _new_alpaca(qtbot, box, fake_alpaca.url)
        qtbot.mouseClick(_test_button(box), Qt.MouseButton.LeftButton)
        await until(lambda: box.status.text().startswith("Connected"))
        rows_in_db = await services.worker.run(lambda s: list(s.query(ConnectionRow)))
        assert len(rows_in_db) == 1
        (status,) = await services.vault.service.connections()
        assert status.credentials.value == "saved"
        await _stop(services)

    qt_loop.run(first_run())
    private_keyring.entries.clear()
    qt_loop.run(add_again())


def test_a_keyring_that_does_not_answer_is_said_before_the_broker_is_asked(
    qtbot, qt_loop, app_paths, feed, clock, fake_alpaca, monkeypatch: pytest.MonkeyPatch
):
    import keyring

    from app.security import keystore

    hanging = HangingKeyring()
    keyring.set_keyring(hanging)
    monkeypatch.setattr(keystore.KeyringGateway.__init__, "__kwdefaults__", {"timeout": 0.2, "backend": None})

    async def scenario() -> None:
        services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=0.05, developer_mode=True)
        qtbot.addWidget(services.window)
        try:
            await until(lambda: services.vault.status.state.value == "keyring_timeout", timeout=40)
            box = services.window.settings_pane.connections
            _new_alpaca(qtbot, box, fake_alpaca.url)
            qtbot.mouseClick(_test_button(box), Qt.MouseButton.LeftButton)
            result = box.findChild(QLabel, "settings.connection_result")
            await until(lambda: "Nothing was sent to the broker" in result.text(), message=result.text())
            assert "can't be saved until it answers" in result.text()
            assert fake_alpaca.server.requests == []
        finally:
            hanging.release()
            await _stop(services)

    qt_loop.run(scenario(), timeout=60)


def test_a_plain_http_address_off_this_computer_is_refused(qtbot, qt_loop, app_paths, feed, clock, fake_alpaca):
    async def scenario() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        box = services.window.settings_pane.connections
        hint = box.findChild(QLabel, "settings.base_url_hint")
        assert "http:// only for this computer" in hint.text() and hint.isVisibleTo(box)
        _new_alpaca(qtbot, box, "http://broker.example.com:5000")
        qtbot.mouseClick(_test_button(box), Qt.MouseButton.LeftButton)
        # Said under the address field itself.
        error = box.findChild(QLabel, "settings.error.base_url")
        await until(lambda: "unencrypted" in error.text(), message=box.result.text())
        assert error.isVisibleTo(box)
        assert fake_alpaca.server.requests == []
        assert await services.worker.run(lambda s: list(s.query(ConnectionRow))) == []
        await _stop(services)

    qt_loop.run(scenario())
