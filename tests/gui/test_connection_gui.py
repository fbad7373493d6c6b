"""Connecting a broker account in Settings: tested before it is saved, secrets never shown again.

Driven through the real form against the fake Alpaca server (developer setting: API address).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QTableView, QWidget

from app.main import AppServices, start_app
from app.marketdata.broker_quotes import BrokerQuoteSource
from app.marketdata.fallback import FallbackQuotes
from app.storage.vault_schema import ConnectionRow
from tests.conftest import until
from tests.fakes.alpaca import KEY_ID, PAPER_ACCOUNT, SECRET_KEY, FakeAlpaca


@pytest.fixture
def fake_alpaca() -> Iterator[FakeAlpaca]:
    fake = FakeAlpaca().start()
    fake.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    try:
        yield fake
    finally:
        fake.stop()


async def _start(qtbot, app_paths, feed, clock) -> AppServices:
    services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=0.05, developer_mode=True)
    qtbot.addWidget(services.window)
    await until(lambda: services.vault.status.state.value == "ready", message="vault did not open")
    return services


def _fill(qtbot, box, url: str, secret: str) -> None:
    box.broker_select.setCurrentIndex(box.broker_select.findData("alpaca"))
    box.environment.setCurrentIndex(box.environment.findData("paper"))
    for name, value in (("settings.base_url", url), ("settings.field.api_key_id", KEY_ID),
                        ("settings.field.api_secret_key", secret)):
        field = box.findChild(QLineEdit, name)
        field.clear()
        qtbot.keyClicks(field, value)


async def _connection_rows(services: AppServices) -> list[ConnectionRow]:
    """Read through the app's database worker, the only thread that owns SQLite connections."""
    return await services.worker.run(lambda s: list(s.query(ConnectionRow)))


def test_verified_connection_is_saved_and_shows_last_four(qtbot, qt_loop, app_paths, feed, clock, fake_alpaca):
    async def scenario() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        box = services.window.settings_pane.connections
        _fill(qtbot, box, fake_alpaca.url, SECRET_KEY)
        qtbot.mouseClick(box.findChild(QPushButton, "settings.test_connection"), Qt.MouseButton.LeftButton)
        status = box.findChild(QLabel, "settings.broker_status")
        await until(lambda: status.text().startswith("Connected"), message=status.text())

        assert f"…{PAPER_ACCOUNT[-4:]}" in status.text()
        assert PAPER_ACCOUNT not in status.text()
        assert box.findChild(QLineEdit, "settings.field.api_secret_key").text() == ""
        rows = await _connection_rows(services)
        assert len(rows) == 1 and rows[0].broker == "alpaca" and rows[0].account_last4 == PAPER_ACCOUNT[-4:]
        assert SECRET_KEY.encode() not in bytes(rows[0].credentials or b"")
        table = box.findChild(QTableView, "settings.connections_table")
        await until(lambda: table.model().rowCount() == 1)
        assert table.model().text(0, "account") == f"…{PAPER_ACCOUNT[-4:]}"
        assert isinstance(services.paper._quotes, FallbackQuotes)
        assert isinstance(services.paper._quotes.preferred, BrokerQuoteSource)
        assert services.paper._quotes.fallback is feed
        # Live opens only once the broker's orders and positions have been reconciled.
        await until(lambda: services.mode.live_available, message="live not offered after reconciliation")
        await _stop(services)

    qt_loop.run(scenario())


def test_bad_credentials_are_refused_and_nothing_is_saved(qtbot, qt_loop, app_paths, feed, clock, fake_alpaca):
    async def scenario() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        box = services.window.settings_pane.connections
        _fill(qtbot, box, fake_alpaca.url, "wrong-secret-value")
        qtbot.mouseClick(box.findChild(QPushButton, "settings.test_connection"), Qt.MouseButton.LeftButton)
        result = box.findChild(QLabel, "settings.connection_result")
        await until(lambda: "nothing was saved" in result.text(), message=result.text())
        assert "wrong-secret-value" not in result.text()
        assert await _connection_rows(services) == []
        assert box.findChild(QLabel, "settings.broker_status").text() == "No broker connected"
        assert services.paper._quotes is feed
        await _stop(services)

    qt_loop.run(scenario())


def test_saved_connection_reconnects_at_start_and_can_be_forgotten(qtbot, qt_loop, app_paths, feed, clock, fake_alpaca):
    async def first_run() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        box = services.window.settings_pane.connections
        _fill(qtbot, box, fake_alpaca.url, SECRET_KEY)
        qtbot.mouseClick(box.findChild(QPushButton, "settings.test_connection"), Qt.MouseButton.LeftButton)
        await until(lambda: box.status.text().startswith("Connected"))
        await _stop(services)

    async def second_run() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        box = services.window.settings_pane.connections
        await until(lambda: box.status.text().startswith("Connected"), message="no reconnect at start")
        asked: list[str] = []
        services.window.settings_pane.confirm = lambda _title, text: asked.append(text) or True
        table = box.findChild(QTableView, "settings.connections_table")
        table.selectRow(0)
        qtbot.mouseClick(box.findChild(QPushButton, "settings.remove_connection"), Qt.MouseButton.LeftButton)
        await until(lambda: table.model().rowCount() == 0)
        assert "saved credentials" in asked[0]
        assert box.status.text() == "No broker connected"
        assert await _connection_rows(services) == []
        assert services.paper._quotes is feed
        await _stop(services)

    qt_loop.run(first_run())
    qt_loop.run(second_run())


async def _stop(services: AppServices) -> None:
    services.window.close()
    await services.shutdown()


def test_ibkr_connection_through_the_form_against_a_fake_tws(qtbot, qt_loop, app_paths, feed, clock):
    from tests.fakes.tws import IbkrHarness

    harness = IbkrHarness()

    async def scenario() -> None:
        await harness.start()
        services = await _start(qtbot, app_paths, feed, clock)
        try:
            box = services.window.settings_pane.connections
            box.broker_select.setCurrentIndex(box.broker_select.findData("ibkr"))
            box.environment.setCurrentIndex(box.environment.findData("paper"))
            values = {"host": "127.0.0.1", "port": str(harness.tws.port), "client_id": "17", "account": harness.ACCOUNT}
            for name, value in values.items():
                widget = box.field(name)
                if isinstance(widget, QLineEdit):
                    widget.setText(value)
                else:
                    widget.setCurrentText(value)
            qtbot.mouseClick(box.findChild(QPushButton, "settings.test_connection"), Qt.MouseButton.LeftButton)
            await until(lambda: box.status.text().startswith("Connected"), timeout=20, message=box.status.text())
            assert "paper" in box.status.text()
            assert (await _connection_rows(services))[0].broker == "ibkr"
        finally:
            await _stop(services)
            await harness.stop()

    qt_loop.run(scenario(), timeout=60)


def test_without_a_secure_keyring_saving_asks_for_a_passphrase_first(
    qtbot, qt_loop, app_paths, feed, clock, fake_alpaca
):
    keyring.set_keyring(fail.Keyring())

    async def scenario() -> None:
        services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=0.05, developer_mode=True)
        qtbot.addWidget(services.window)
        try:
            await until(lambda: services.vault.status.state.value == "setup_required")
            setup = services.window.findChild(QWidget, "vault.setup_dialog")
            assert not setup.isVisible(), "a paper-only trader is not interrupted at start"
            box = services.window.settings_pane.connections
            # Said before the trader presses Test and save.
            note = box.findChild(QLabel, "settings.vault_note")
            await until(lambda: note.isVisibleTo(box), message="no word that a passphrase will be asked for")
            assert "master passphrase" in note.text()
            _fill(qtbot, box, fake_alpaca.url, SECRET_KEY)
            qtbot.mouseClick(box.findChild(QPushButton, "settings.test_connection"), Qt.MouseButton.LeftButton)
            await until(lambda: setup.isVisible(), message="the passphrase set-up was not offered")
            assert "master passphrase" in box.findChild(QLabel, "settings.connection_result").text()
            assert fake_alpaca.server.requests == []
            assert await _connection_rows(services) == []
        finally:
            await _stop(services)

    qt_loop.run(scenario())


def test_the_form_names_each_broker_shows_errors_by_their_fields_and_links_the_guide(
    qtbot, qt_loop, app_paths, feed, clock, fake_alpaca
):
    async def scenario() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        box = services.window.settings_pane.connections
        try:
            # A working keyring: nothing to warn about before saving.
            assert not box.findChild(QLabel, "settings.vault_note").isVisibleTo(box)
            name = box.findChild(QLineEdit, "settings.connection_label")
            guide = box.findChild(QLabel, "settings.broker_guide")
            examples = {}
            for key in ("alpaca", "tradier", "tastytrade", "ibkr"):
                box.broker_select.setCurrentIndex(box.broker_select.findData(key))
                examples[key] = name.placeholderText()
                link = guide.text().split('href="')[1].split('"')[0]
                assert link.endswith(f"docs/brokers/{key}.md") and QUrl(link).toLocalFile()
                assert Path(QUrl(link).toLocalFile()).is_file(), link
            assert examples == {
                "alpaca": "e.g. My Alpaca paper", "tradier": "e.g. My Tradier sandbox",
                "tastytrade": "e.g. My Tastytrade sandbox", "ibkr": "e.g. My Interactive Brokers paper",
            }
            box.broker_select.setCurrentIndex(box.broker_select.findData("alpaca"))
            box.environment.setCurrentIndex(box.environment.findData("live"))
            assert name.placeholderText() == "e.g. My Alpaca live"

            # Missing fields: each error under its own field, all at once, and nothing tested or saved.
            box.environment.setCurrentIndex(box.environment.findData("paper"))
            key_error = box.findChild(QLabel, "settings.error.field.api_key_id")
            secret_error = box.findChild(QLabel, "settings.error.field.api_secret_key")
            assert not key_error.isVisibleTo(box) and not secret_error.isVisibleTo(box)
            qtbot.mouseClick(box.findChild(QPushButton, "settings.test_connection"), Qt.MouseButton.LeftButton)
            await until(lambda: key_error.isVisibleTo(box), message=box.result.text())
            assert secret_error.isVisibleTo(box)
            assert key_error.text().startswith("⚠") and "#c62828" in key_error.styleSheet()
            assert "#c62828" in box.field("api_key_id").styleSheet()
            assert "Fix the fields marked above" in box.result.text()
            assert await _connection_rows(services) == []

            # A refused test is an error too (colour and sign), and the field errors are gone.
            _fill(qtbot, box, fake_alpaca.url, "wrong-secret-value")
            qtbot.mouseClick(box.findChild(QPushButton, "settings.test_connection"), Qt.MouseButton.LeftButton)
            await until(lambda: "nothing was saved" in box.result.text(), message=box.result.text())
            assert box.result.text().startswith("⚠") and "#c62828" in box.result.styleSheet()
            assert not key_error.isVisibleTo(box) and box.field("api_key_id").styleSheet() == ""
        finally:
            await _stop(services)

    qt_loop.run(scenario())
