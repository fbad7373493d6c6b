"""The orders table: pages from the journal, row-level events, sort and filter asked of the database."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QTableView

from app.controller.orders_table import OrdersTableController
from app.controller.views import OrdersPageView
from app.domain.models import Order, OrderStatus, TradingMode
from app.domain.order_query import OrderSort
from app.main import start_app
from app.storage.database import open_database
from app.storage.orders_repository import write_orders
from app.storage.worker import DatabaseWorker
from app.ui.orders_model import OrdersTableModel
from tests.conftest import QtLoop, until
from tests.storage.test_order_pages import START, make_order


class Spy:
    """Counts a model's structural signals, so a test can prove an event was a row change, not a reset."""

    def __init__(self, model: OrdersTableModel) -> None:
        self.resets = 0
        self.changed_rows: list[tuple[int, int]] = []
        self.inserted_rows: list[int] = []
        self.removed_rows: list[int] = []
        model.modelReset.connect(self._reset)
        model.dataChanged.connect(lambda top, bottom, *_: self.changed_rows.append((top.row(), bottom.row())))
        model.rowsInserted.connect(lambda _parent, first, _last: self.inserted_rows.append(first))
        model.rowsRemoved.connect(lambda _parent, first, _last: self.removed_rows.append(first))

    def _reset(self) -> None:
        self.resets += 1


def _loaded_model(orders: list[Order]) -> OrdersTableModel:
    model = OrdersTableModel()
    model.show_page(tuple(orders), has_more=False, first=True, sort=OrderSort())
    return model


def test_a_status_change_updates_one_row_and_never_resets(qapp) -> None:
    orders = [make_order(n, status=OrderStatus.NEW) for n in range(5000)]
    model = _loaded_model(orders)
    spy = Spy(model)
    target = orders[1234]
    filled = Order(**{**{f: getattr(target, f) for f in Order.__slots__}, "status": OrderStatus.FILLED})

    model.upsert([filled])

    row = model.row_of_key(target.client_order_id)
    assert spy.resets == 0
    assert spy.changed_rows == [(row, row)]
    assert model.row_at(row).status is OrderStatus.FILLED
    assert model.rowCount() == 5000


def test_a_new_order_is_inserted_where_the_sort_puts_it(qapp) -> None:
    model = _loaded_model([make_order(n) for n in range(100)])
    spy = Spy(model)

    model.upsert([make_order(500)])
    model.upsert([make_order(1000, minutes=50)])

    assert spy.resets == 0
    # Same time as order 50: ties are broken by id, so it goes right after it.
    assert spy.inserted_rows == [0, 51]
    assert model.key_at(0) == "tb-00000500"
    assert [model.key_at(50), model.key_at(51)] == ["tb-00000050", "tb-00001000"]


def test_a_change_of_the_sorted_value_moves_the_row(qapp) -> None:
    orders = [make_order(n, status=OrderStatus.FILLED) for n in range(10)]
    model = OrdersTableModel()
    sort = OrderSort("status", False)
    model.show_page(tuple(sorted(orders, key=sort.key)), has_more=False, first=True, sort=sort)
    spy = Spy(model)
    rejected = Order(**{**{f: getattr(orders[0], f) for f in Order.__slots__}, "status": OrderStatus.CANCELED})

    model.upsert([rejected])

    assert spy.resets == 0
    assert model.key_at(0) == orders[0].client_order_id
    assert [model.row_at(r).status for r in range(10)] == sorted((o.status for o in model.rows()), key=lambda s: s.value)


def _write_journal(app_paths, orders: list[Order]) -> None:
    database = open_database(app_paths.database, app_paths.backups)
    database.write(lambda c: write_orders(c, orders, "paper"))
    database.dispose()


def _journal_worker(qt_loop: QtLoop, app_paths, orders: list[Order]) -> DatabaseWorker:
    _write_journal(app_paths, orders)
    worker = DatabaseWorker()
    qt_loop.run(worker.open(lambda: open_database(app_paths.database, app_paths.backups)))
    return worker


def test_pages_load_as_the_table_scrolls_and_stop_at_the_end(qt_loop: QtLoop, app_paths) -> None:
    worker = _journal_worker(qt_loop, app_paths, [make_order(n) for n in range(120)])
    table = OrdersTableController(worker, lambda: START, page_size=50)
    model = OrdersTableModel()
    table.page_loaded.connect(
        lambda p: model.show_page(p.orders, has_more=p.has_more, first=p.first, sort=p.sort)
    )
    model.more_wanted.connect(table.fetch_more)

    async def scenario() -> None:
        await table.reload()
        assert model.rowCount() == 50 and model.canFetchMore()
        model.fetchMore()
        assert not model.canFetchMore(), "a second request while one is on its way"
        await until(lambda: model.rowCount() == 100)
        model.fetchMore()
        await until(lambda: model.rowCount() == 120)
        assert not model.canFetchMore()
        assert [model.key_at(r) for r in range(120)] == [f"tb-{n:08d}" for n in range(119, -1, -1)]
        await worker.close()

    qt_loop.run(scenario())


def test_events_outside_the_filter_or_beyond_the_loaded_rows_are_left_to_the_query(qt_loop: QtLoop, app_paths) -> None:
    worker = _journal_worker(qt_loop, app_paths, [make_order(n) for n in range(60)])
    table = OrdersTableController(worker, lambda: START, page_size=20)
    shown: list[list[str]] = []
    removed: list[list[str]] = []
    table.orders_changed.connect(lambda orders: shown.append([o.client_order_id for o in orders]))
    table.orders_removed.connect(removed.append)
    pages: list[OrdersPageView] = []
    table.page_loaded.connect(pages.append)

    async def scenario() -> None:
        await table.apply_filter({"mode": "paper", "status": "all", "symbol": "", "range": "all"})
        table.apply([make_order(100)])  # newest: at the top of what is shown
        table.apply([make_order(3)])  # far below the loaded page, finished: not loaded yet
        table.apply([make_order(4, status=OrderStatus.NEW)])  # below, but working: always shown
        table.apply([make_order(101, mode=TradingMode.LIVE)])  # the other mode
        await worker.close()

    qt_loop.run(scenario())
    assert len(pages[-1].orders) == 20
    assert shown == [["tb-00000100"], ["tb-00000004"]]
    assert removed == [["tb-00000003"], ["tb-00000101"]]


def test_header_click_and_filter_bar_query_the_journal(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    specs = [("AAPL", "9"), ("MSFT", "10"), ("AAPL", "100"), ("AMD", "2.5")]
    orders = [make_order(n, symbol=s, quantity=q) for n, (s, q) in enumerate(specs)]
    _write_journal(app_paths, orders)

    async def scenario() -> None:
        services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=60)
        qtbot.addWidget(services.window)
        window = services.window
        table = window.findChild(QTableView, "orders.table")
        model = table.model()
        spy = Spy(model)
        assert model.rowCount() == 4

        qty_section = [model.column_key(c) for c in range(model.columnCount())].index("qty")
        table.horizontalHeader().setSortIndicator(qty_section, Qt.SortOrder.AscendingOrder)
        await until(lambda: [model.text(r, "qty") for r in range(model.rowCount())] == ["2.5", "9", "10", "100"])

        window.findChild(QLineEdit, "orders.filter").setText("aapl")
        await until(lambda: model.rowCount() == 2)
        assert {model.text(r, "symbol") for r in range(2)} == {"AAPL"}

        mode = window.findChild(QComboBox, "orders.mode_filter")
        mode.setCurrentIndex(mode.findData("live"))
        await until(lambda: model.rowCount() == 0)
        assert spy.resets == 3, "one reload per query, nothing else"
        window.close()
        await services.shutdown()

    qt_loop.run(scenario())
    assert Decimal(orders[3].request.quantity) == Decimal("2.5")


def test_placing_and_cancelling_paper_orders_never_resets_the_table(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=0.05)
        qtbot.addWidget(services.window)
        model = services.window.findChild(QTableView, "orders.table").model()
        spy = Spy(model)
        ticket = {"symbol": "AAPL", "side": "buy", "quantity": "1", "order_type": "limit",
                  "limit_price": "175", "time_in_force": "gtc"}
        resting = await services.paper.submit(ticket)
        filled = await services.paper.submit({**ticket, "order_type": "market", "limit_price": ""})
        await services.paper.cancel(str(resting))
        await until(lambda: model.rowCount() == 2 and model.record(str(resting)).status is OrderStatus.CANCELED)
        assert model.record(str(filled)).status is OrderStatus.FILLED
        assert spy.resets == 0
        assert len(spy.inserted_rows) == 2
        services.window.close()
        await services.shutdown()

    qt_loop.run(scenario())
