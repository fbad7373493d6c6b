"""Helpers for the desktop tests: start and stop the whole app, find menu commands, fill the ticket."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLineEdit, QTableView

from app.main import AppServices, start_app


async def start(qtbot, app_paths, feed, clock, *, poll_interval: float = 0.05) -> AppServices:
    """The whole app on the test's data dir, quote feed and clock, its window shown."""
    services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=poll_interval)
    qtbot.addWidget(services.window)
    services.window.show()
    return services


async def stop(services: AppServices) -> None:
    services.window.close()
    await services.shutdown()


def action(window, name: str) -> QAction:
    found = window.menus.actions_by_name().get(name)
    assert found is not None, f"no menu command {name}"
    return found


def texts(table: QTableView, column: str) -> list[str]:
    model = table.model()
    return [model.text(row, column) for row in range(model.rowCount())]


def fill_ticket(qtbot, window, **fields: str) -> None:
    for name, value in fields.items():
        combo = window.findChild(QComboBox, f"ticket.{name}")
        if combo is not None:
            combo.setCurrentIndex(combo.findData(value))
            continue
        line = window.findChild(QLineEdit, f"ticket.{name}")
        assert line is not None, name
        line.clear()
        qtbot.keyClicks(line, value)
