"""The Orders pane: ticket, account, the filtered, paged orders table and positions as dockable panes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.controller.quote_views import QuoteView
from app.domain.models import AccountSummary, Order, TradingMode
from app.domain.order_query import StatusGroup
from app.domain.symbol_display import describe_symbol
from app.ui.account_box import AccountSummaryBox
from app.ui.confirm import ask_confirmation
from app.ui.formatting import fmt_money, fmt_price, fmt_qty, fmt_signed_money, fmt_signed_percent, fmt_time
from app.ui.fills_pane import FillsPane
from app.ui.fitting_scroll import FittingScrollArea
from app.ui.order_ticket import OrderTicket
from app.ui.order_modify import ModifyOrderDialog
from app.ui.orders_menus import order_menu, order_result, position_menu
from app.ui.orders_model import OrdersTableModel
from app.ui.table_menus import attach_row_menu
from app.ui.table_model import Column, RecordTableModel, symbol_column
from app.ui.table_sort import RecordSortProxy
from app.ui.steady_label import SteadyLabel
from app.ui.view_throttle import PaintThrottle

if TYPE_CHECKING:
    from app.controller.views import OrdersPageView, PositionView

#: The ticket column's first width; the tables take the rest.
TICKET_WIDTH = 320
#: Rows sampled to size columns to their contents.
SAMPLE_ROWS = 50
#: A long option name ("SPXW 15 Dec 27 6125.5 C") the symbol column makes room for.
WIDE_OPTION = "SPXW271215C06125500"

def _mark_text(position: PositionView) -> str:
    """The mark, with its age while it is stale: "189.50 (35 s old)"."""
    text = fmt_price(position.mark)
    return f"{text} ({position.mark_age} old)" if position.mark_stale and position.mark is not None else text


def _stale(position: PositionView) -> bool:
    return position.mark_stale


POSITION_COLUMNS: tuple[Column[PositionView], ...] = (
    symbol_column(lambda p: p.symbol),
    Column("qty", "Qty", lambda p: p.position.quantity, fmt_qty, align_right=True),
    Column("avg_cost", "Avg cost", lambda p: p.position.average_cost, fmt_price, align_right=True),
    Column(
        "mark",
        "Mark",
        lambda p: p,
        _mark_text,
        align_right=True,
        tip=lambda p: f"Stale: the mark's quote is {p.mark_age} old" if p.mark_stale else "",
        sort=lambda p: (p.mark is not None, p.mark or Decimal(0)),
        muted=lambda p: p.mark_stale,
    ),
    Column("market_value", "Market value", lambda p: p.market_value, fmt_money, align_right=True, muted=_stale),
    Column("day_pnl", "Day P&L", lambda p: p.day_pnl, fmt_signed_money, align_right=True, muted=_stale),
    Column("day_pct", "Day %", lambda p: p.day_change_pct, fmt_signed_percent, align_right=True, muted=_stale),
    Column(
        "unrealized", "Unrealized P&L", lambda p: p.unrealized_pnl, fmt_signed_money, align_right=True, muted=_stale
    ),
    Column("realized", "Realized P&L", lambda p: p.position.realized_pnl, fmt_signed_money, align_right=True),
)

def _table(name: str, model: RecordTableModel) -> QTableView:  # type: ignore[type-arg]
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    # Widths come from a sample of rows once, never from every row on every change.
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setResizeContentsPrecision(SAMPLE_ROWS)
    header.setStretchLastSection(True)
    return view


class OrdersFilterBar(QWidget):
    """Symbol, mode, status and date range of the orders shown; emits the whole filter on each change."""

    changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.symbol = QLineEdit(objectName="orders.filter", placeholderText="Filter by symbol")
        self.symbol.setClearButtonEnabled(True)
        self.mode = QComboBox(objectName="orders.mode_filter")
        for label, value in (("Paper and live", "all"), ("Paper only", "paper"), ("Live only", "live")):
            self.mode.addItem(label, value)
        self.status = QComboBox(objectName="orders.status_filter")
        for group in StatusGroup:
            self.status.addItem("All statuses" if group is StatusGroup.ALL else group.value.capitalize(), group.value)
        self.range = QComboBox(objectName="orders.date_filter")
        for label, value in (("All dates", "all"), ("Today", "today"), ("Last 7 days", "7d"), ("Last 30 days", "30d")):
            self.range.addItem(label, value)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.symbol, 1)
        for combo in (self.mode, self.status, self.range):
            # Lists may shorten their shown text in a narrow pane rather than push the pane wider.
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(7)
            layout.addWidget(combo)
            combo.currentIndexChanged.connect(self._emit)
        # Typing is debounced so a query runs once the trader pauses, not on every key.
        self._typing = QTimer(self, singleShot=True, interval=250)
        self._typing.timeout.connect(self._emit)
        self.symbol.textChanged.connect(lambda _text: self._typing.start())

    def values(self) -> dict[str, str]:
        return {
            "symbol": self.symbol.text().strip().upper(),
            "mode": self.mode.currentData(),
            "status": self.status.currentData(),
            "range": self.range.currentData(),
        }

    def _emit(self) -> None:
        self._typing.stop()
        self.changed.emit(self.values())


class OrdersPane(QMainWindow):
    """Each part is a ``QDockWidget`` (``dock.<key>``) that can be moved, stacked, floated or hidden."""

    order_submitted = Signal(dict)
    cancel_requested = Signal(str)
    cancel_all_requested = Signal()
    filter_changed = Signal(dict)
    #: A table to write to CSV as shown (the model) and the name the file is offered under.
    export_requested = Signal(object, str)
    #: The client order id whose details and full history the trader asked for.
    details_requested = Signal(str)
    #: A working order to change: (client order id, the modify form's values as typed).
    modify_requested = Signal(str, dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("orders_pane")
        self.confirm: Callable[[str, str], bool] = lambda title, text: ask_confirmation(self, title, text)
        self.ticket = OrderTicket()
        self.modify_dialog = ModifyOrderDialog(self)
        #: Why an order's quantity can't be changed where it was placed ('' when it can); set by the app.
        self.quantity_fixed: Callable[[Order], str] = lambda _order: ""
        self.modify_dialog.submitted.connect(self.modify_requested)
        self.account = AccountSummaryBox()
        self.orders_model = OrdersTableModel()
        self.positions_model: RecordTableModel[PositionView] = RecordTableModel(POSITION_COLUMNS, lambda p: p.symbol)
        #: Age of the stale quote behind each symbol's mark ("35 s"); absent while the quote is current.
        self._mark_ages: dict[str, str] = {}
        self.orders_table = _table("orders.table", self.orders_model)
        self.positions_proxy = RecordSortProxy(self.positions_model, self)
        self.positions_table = _table("positions.table", self.positions_proxy)  # type: ignore[arg-type]
        self.fills = FillsPane()
        # A burst of orders redraws the orders, the positions and the account at most once per interval.
        self.paint_throttles = (PaintThrottle(self.orders_table), PaintThrottle(self.positions_table), PaintThrottle(self.account))
        self.paint_throttles[0].watch(self.orders_model)
        self.paint_throttles[1].watch(self.positions_model)
        self.export_button = QPushButton("Export…", objectName="orders.export")
        self.export_button.setToolTip("Write the orders shown, in their order, to a CSV file")
        self.positions_export = QPushButton("Export…", objectName="positions.export")
        self.filter_bar = OrdersFilterBar()
        self.cancel_button = QPushButton("Cancel order", objectName="orders.cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_all_button = QPushButton("Cancel all…", objectName="orders.cancel_all")
        self.count = SteadyLabel("orders.count")
        self.message = SteadyLabel("orders.message", word_wrap=True)
        self._mode = TradingMode.PAPER
        self._announced = ""
        self._sized = False

        left = QVBoxLayout()
        left.addWidget(self.ticket)
        left.addWidget(self.account)
        left.addStretch(1)
        left_widget = QWidget()
        left_widget.setLayout(left)
        ticket_scroll = FittingScrollArea(left_widget, "ticket.scroll")

        orders_box = QWidget()
        orders_layout = QVBoxLayout(orders_box)
        orders_layout.addWidget(self.filter_bar)
        orders_layout.addWidget(self.orders_table)
        buttons = QHBoxLayout()
        buttons.addWidget(self.count, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.cancel_all_button)
        buttons.addWidget(self.export_button)
        orders_layout.addLayout(buttons)
        # The last result gets a line of its own, wrapping rather than squeezing the buttons.
        orders_layout.addWidget(self.message)
        positions_box = QWidget()
        positions_layout = QVBoxLayout(positions_box)
        positions_layout.addWidget(self.positions_table)
        positions_buttons = QHBoxLayout()
        positions_buttons.addStretch(1)
        positions_buttons.addWidget(self.positions_export)
        positions_layout.addLayout(positions_buttons)

        self.setDockNestingEnabled(True)
        self.panes: dict[str, QDockWidget] = {}
        self._docks_sized = False
        self.add_pane("ticket", "Ticket && account", ticket_scroll, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.add_pane("orders", "Orders", orders_box, Qt.DockWidgetArea.RightDockWidgetArea)
        self.add_pane("positions", "Positions", positions_box, Qt.DockWidgetArea.RightDockWidgetArea)
        self.add_pane("fills", "Fills", self.fills, stack_with="positions")

        header = self.orders_table.horizontalHeader()
        # One line per order; the time column fits a whole time with its zone.
        self.orders_table.setWordWrap(False)
        self._fit_time_column()
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        self.orders_table.setSortingEnabled(True)
        # Positions are bounded by holdings, so their columns can follow their contents.
        self.positions_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.positions_table.horizontalHeader().setStretchLastSection(True)
        self.positions_table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.positions_table.setSortingEnabled(True)

        self.ticket.submitted.connect(self.order_submitted)
        self.filter_bar.changed.connect(self.filter_changed)
        self.cancel_button.clicked.connect(self._cancel_selected)
        self.cancel_all_button.clicked.connect(self._cancel_all)
        self.orders_table.selectionModel().selectionChanged.connect(self._sync_cancel)
        self.orders_model.dataChanged.connect(self._sync_cancel)
        self.orders_model.rowsInserted.connect(self._show_count)
        self.orders_model.rowsRemoved.connect(self._show_count)
        self.orders_model.modelReset.connect(self._show_count)
        self.export_button.clicked.connect(self.export_orders)
        self.positions_export.clicked.connect(self.export_positions)
        self.fills.export_requested.connect(lambda: self.export_requested.emit(self.fills.proxy, "fills"))
        self.fills.details_requested.connect(self.details_requested)
        self.orders_table.doubleClicked.connect(
            lambda index: self.details_requested.emit(self.orders_model.key_at(index.row()))
        )
        attach_row_menu(self.orders_table, lambda row: order_menu(self, row))
        attach_row_menu(self.positions_table, lambda row: position_menu(self, row))

    def export_orders(self) -> None:
        self.export_requested.emit(self.orders_model, "orders")

    def export_positions(self) -> None:
        self.export_requested.emit(self.positions_proxy, "positions")

    def add_pane(
        self,
        key: str,
        title: str,
        widget: QWidget,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
        *,
        stack_with: str | None = None,
    ) -> QDockWidget:
        """Add a dockable pane (stacked as a tab with ``stack_with`` if given); its objectName
        (``dock.<key>``) keys the saved layout."""
        dock = QDockWidget(title, self, objectName=f"dock.{key}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        dock.toggleViewAction().setObjectName(f"menu.view.pane.{key}")
        dock.toggleViewAction().setText(title)
        self.addDockWidget(area, dock)
        if stack_with in self.panes:
            self.tabifyDockWidget(self.panes[stack_with], dock)
            self.panes[stack_with].raise_()
        self.panes[key] = dock
        return dock

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._docks_sized:
            self._docks_sized = True
            # Once laid out, the first arrangement gives the ticket column what it needs, the tables the rest.
            QTimer.singleShot(0, self._size_docks)

    def _size_docks(self) -> None:
        width = max(TICKET_WIDTH, self.panes["ticket"].widget().minimumSizeHint().width())
        rest = max(self.width() - width, 1)
        self.resizeDocks([self.panes["ticket"], self.panes["orders"]], [width, rest], Qt.Orientation.Horizontal)

    def mark_arranged(self) -> None:
        """A restored layout is the trader's own: the first show must not resize it."""
        self._docks_sized = True

    # ---- orders --------------------------------------------------------------------------------

    @Slot(object)
    def show_page(self, page: OrdersPageView) -> None:
        """A page of the journal: the first replaces the rows (selection kept if still shown)."""
        selected = self.selected_order_id()
        self.orders_model.show_page(page.orders, has_more=page.has_more, first=page.first, sort=page.sort)
        if page.first and selected is not None:
            row = self.orders_model.row_of_key(selected)
            if row is not None:
                self.orders_table.selectRow(row)
        if not self._sized:
            # Sized once from the first rows (or the titles alone when there are none yet).
            self._sized = bool(page.orders)
            self.orders_table.resizeColumnsToContents()
            self._fit_time_column()
        self._sync_cancel()

    def _fit_time_column(self) -> None:
        """Times and option names are wide whatever the first rows held: room for a full one of each."""
        metrics = self.orders_table.fontMetrics()
        header = self.orders_table.horizontalHeader()
        samples = {
            0: fmt_time(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)),
            self.orders_model.column_keys().index("symbol"): describe_symbol(WIDE_OPTION),
        }
        for section, sample in samples.items():
            width = metrics.horizontalAdvance(sample) + 24
            header.resizeSection(section, max(width, header.sectionSize(section)))

    @Slot(list)
    def apply_orders(self, orders: list[Order]) -> None:
        """Orders that changed: each is updated in its row or inserted where the sort puts it."""
        self.orders_model.upsert(orders)
        for order in orders:
            if order.client_order_id == self._announced:
                self.show_message(order_result(order))
                self._announced = order.client_order_id if not order.status.is_terminal else ""

    @Slot(list)
    def remove_orders(self, client_order_ids: list[str]) -> None:
        self.orders_model.remove(client_order_ids)

    @Slot(list)
    def show_positions(self, positions: list[PositionView]) -> None:
        self.positions_model.sync([replace(p, mark_age=self._mark_ages.get(p.symbol, "")) for p in positions])

    @Slot(object)
    def show_quote(self, view: QuoteView) -> None:
        """A symbol's quote changed: a position in it greys its mark, with its age, while the quote is stale."""
        age = view.age if view.stale else ""
        if age:
            self._mark_ages[view.symbol] = age
        else:
            self._mark_ages.pop(view.symbol, None)
        held = self.positions_model.record(view.symbol)
        if held is not None and held.mark_age != age:
            self.positions_model.upsert([replace(held, mark_age=age)])

    @Slot(object)
    def show_account(self, summary: AccountSummary) -> None:
        self.paint_throttles[2].changed()
        self.account.show_summary(summary)

    @Slot(dict)
    def show_ticket_errors(self, errors: dict[str, str]) -> None:
        self.ticket.show_errors(errors)

    @Slot(str)
    def order_accepted(self, client_order_id: str) -> None:
        self.ticket.clear()
        self.show_message(f"Order {client_order_id} placed.")
        #: The order the result line speaks of: it is kept up to date until the order is finished.
        self._announced = client_order_id
        known = self.orders_model.record(client_order_id)
        if known is not None and known.status.value not in ("new", "pending_submit"):
            # It changed before the acceptance was heard of (a market order filled at once).
            self.apply_orders([known])

    @Slot()
    def submission_finished(self) -> None:
        self.ticket.set_busy(False)

    @Slot(str)
    def show_message(self, text: str) -> None:
        self.message.setText(text)

    @Slot(object)
    def set_mode(self, mode: TradingMode) -> None:
        self._mode = mode
        self.ticket.set_mode(mode)

    def selected_order_id(self) -> str | None:
        rows = self.orders_table.selectionModel().selectedRows()
        return self.orders_model.key_at(rows[0].row()) if rows else None

    def _show_count(self) -> None:
        shown = self.orders_model.rowCount()
        more = "; scroll down for older orders" if self.orders_model.has_more else ""
        self.count.setText(f"{shown:,} order{'s' if shown != 1 else ''} shown{more}")

    def _sync_cancel(self) -> None:
        selected = self.selected_order_id()
        order = self.orders_model.record(selected) if selected is not None else None
        self.cancel_button.setEnabled(order is not None and order.status.is_cancelable)

    def _cancel_selected(self) -> None:
        selected = self.selected_order_id()
        if selected is not None:
            self.cancel_requested.emit(selected)

    def modify_order(self, order: Order) -> None:
        """Open the modify dialog on a working order, prefilled with its current size and prices."""
        self.modify_dialog.ask(order, self.quantity_fixed(order))

    @Slot(dict)
    def show_modify_errors(self, errors: dict[str, str]) -> None:
        self.modify_dialog.show_errors(errors)

    @Slot(str)
    def modify_done(self, client_order_id: str) -> None:
        self.modify_dialog.finish(client_order_id)

    def _cancel_all(self) -> None:
        kind = "LIVE orders at your broker" if self._mode is TradingMode.LIVE else "paper orders"
        if self.confirm("Cancel all orders", f"Cancel all working {kind}?"):
            self.cancel_all_requested.emit()
