"""Options read as "AAPL 15 Jan 27 200 C" wherever they are shown; positions' marks go grey with their age; the setting."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QSpinBox, QTableView

from app.domain.order_history import OrderHistory
from app.ui.order_details import OrderDetailsDialog
from app.ui.table_model import MUTED
from tests.conftest import QtLoop, until
from tests.gui.conftest import FixedClock
from tests.gui.desktop_support import start, stop, texts

OPTION = "AAPL270115C00200000"
READABLE = "AAPL 15 Jan 27 200 C"


def _cell(table: QTableView, column: str, role: Qt.ItemDataRole, row: int = 0):
    model = table.model()
    keys = model.sourceModel().column_keys() if hasattr(model, "sourceModel") else model.column_keys()
    return model.index(row, keys.index(column)).data(role)


def test_an_option_reads_as_its_name_in_the_tables_details_and_notifications(qtbot, qt_loop: QtLoop, app_paths, stamped, clock: FixedClock):
    stamped.set(OPTION, bid="12.10", ask="12.30", last="12.20", at=clock.now - timedelta(seconds=2))
    stamped.set("AAPL", bid="189.50", ask="189.60", last="189.55", at=clock.now - timedelta(seconds=2))

    async def scenario() -> None:
        services = await start(qtbot, app_paths, stamped, clock)
        window = services.window
        order_id = await services.paper.submit({"symbol": OPTION, "side": "buy", "quantity": "2", "order_type": "market"})
        await services.paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "1", "order_type": "market"})
        orders = window.findChild(QTableView, "orders.table")
        positions = window.findChild(QTableView, "positions.table")
        fills = window.findChild(QTableView, "fills.table")
        await until(lambda: sorted(texts(positions, "symbol")) == ["AAPL", READABLE], message="positions not shown")
        await until(lambda: fills.model().rowCount() == 2 and orders.model().rowCount() == 2)
        assert sorted(texts(orders, "symbol")) == ["AAPL", READABLE]
        assert sorted(texts(fills, "symbol")) == ["AAPL", READABLE]
        option_row = texts(fills, "symbol").index(READABLE)
        assert _cell(fills, "symbol", Qt.ItemDataRole.ToolTipRole, option_row) == f"OCC {OPTION}"
        assert any(READABLE in text for _title, text in window.notifier.sent)

        # Sorting by symbol puts the stock before its options; the filter takes either form.
        positions.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        assert texts(positions, "symbol") == ["AAPL", READABLE]
        line = window.findChild(QLineEdit, "orders.filter")
        for text, expected in (("aapl 15 ja", [READABLE]), ("AAPL27", [READABLE]), ("AAPL 16", []), ("AAPL", None)):
            line.setText(text)
            line.editingFinished.emit()
            if expected is None:
                await until(lambda: orders.model().rowCount() == 2, message=f"filter {text!r}")
            else:
                await until(lambda e=expected: texts(orders, "symbol") == e, message=f"filter {text!r}")

        order = window.orders_pane.orders_model.record(order_id)
        assert order is not None
        dialog = OrderDetailsDialog()
        qtbot.addWidget(dialog)
        dialog.show_history(OrderHistory(order, (), ()))
        assert dialog.windowTitle() == f"Order details — {READABLE}"
        assert f"{READABLE} ({OPTION})" in dialog.summary.text()
        assert dialog.summary.toolTip() == f"OCC {OPTION}"
        await stop(services)

    qt_loop.run(scenario())


def test_position_marks_go_grey_with_their_age_and_the_setting_moves_the_line(qtbot, qt_loop: QtLoop, app_paths, stamped, clock: FixedClock):
    stamped.set("AAPL", bid="189.50", ask="189.60", last="189.55", at=clock.now - timedelta(seconds=5))

    async def first_run() -> None:
        services = await start(qtbot, app_paths, stamped, clock)
        window = services.window
        await services.paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "10", "order_type": "market"})
        positions = window.findChild(QTableView, "positions.table")
        await until(lambda: texts(positions, "mark") == ["189.55"], message="no mark")
        assert _cell(positions, "mark", Qt.ItemDataRole.ForegroundRole) is None

        clock.now += timedelta(seconds=40)  # 45 s old during the session: past the 30 s default
        await until(lambda: texts(positions, "mark") == ["189.55 (45 s old)"], message="the mark never went stale")
        assert _cell(positions, "mark", Qt.ItemDataRole.ForegroundRole) == MUTED
        assert _cell(positions, "market_value", Qt.ItemDataRole.ForegroundRole) == MUTED
        assert _cell(positions, "mark", Qt.ItemDataRole.ToolTipRole) == "Stale: the mark's quote is 45 s old"

        box = window.findChild(QSpinBox, "settings.stale_after")
        message = window.findChild(QLabel, "settings.market_data.message")
        assert box.value() == 30
        box.setValue(120)
        box.editingFinished.emit()
        await until(lambda: texts(positions, "mark") == ["189.55"], message="a longer setting left the mark stale")
        assert _cell(positions, "mark", Qt.ItemDataRole.ForegroundRole) is None

        box.setValue(0)
        box.editingFinished.emit()
        await until(lambda: "1 to 3600 seconds" in message.text(), message="a zero setting was not refused")
        assert box.value() == 120
        assert services.market.stale_after == timedelta(seconds=120)
        await stop(services)

    async def second_run() -> None:
        services = await start(qtbot, app_paths, stamped, clock)
        box = services.window.findChild(QSpinBox, "settings.stale_after")
        await until(lambda: box.value() == 120, message="the setting did not survive a restart")
        assert services.market.stale_after == timedelta(seconds=120)
        await stop(services)

    qt_loop.run(first_run())
    qt_loop.run(second_run())
