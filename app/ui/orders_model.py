"""The orders table's model: journal pages in the query's order, order events applied row by row.

Sorting and paging are asked of the controller (the journal answers them): a header click emits
``sort_wanted``, scrolling to the end emits ``more_wanted``. Events never reset the model.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal, Slot

from app.domain.models import Order, TradingMode
from app.domain.order_query import SORT_VALUES, OrderSort
from app.ui.formatting import fmt_enum, fmt_price, fmt_qty, fmt_time
from app.ui.table_model import Column, RecordTableModel, symbol_column

Index = QModelIndex | QPersistentModelIndex


def fmt_account(order: Order) -> str:
    if order.mode is TradingMode.PAPER:
        return "Paper"
    name = order.broker.capitalize() if order.broker else "Broker"
    account = f" …{order.account_last4}" if order.account_last4 else ""
    return f"{name}{account}{' (external)' if order.external else ''}"


ORDER_COLUMNS: tuple[Column[Order], ...] = (
    Column("created", "Time", lambda o: o.created_at, fmt_time),
    Column("mode", "Mode", lambda o: o.mode, fmt_enum),
    Column("broker", "Account", lambda o: o, fmt_account),
    symbol_column(lambda o: o.symbol),
    Column("side", "Side", lambda o: o.request.side, fmt_enum),
    Column("qty", "Qty", lambda o: o.request.quantity, fmt_qty, align_right=True),
    Column("type", "Type", lambda o: o.request.order_type, fmt_enum),
    Column("limit", "Limit", lambda o: o.request.limit_price, fmt_price, align_right=True),
    Column("stop", "Stop", lambda o: o.request.stop_price, fmt_price, align_right=True),
    Column("tif", "TIF", lambda o: o.request.time_in_force, fmt_enum),
    Column("status", "Status", lambda o: o.status, fmt_enum),
    Column("filled", "Filled", lambda o: o.filled_quantity, fmt_qty, align_right=True),
    Column("avg_price", "Avg price", lambda o: o.average_fill_price, fmt_price, align_right=True),
    Column("reason", "Details", lambda o: o.status_reason),
    Column("id", "Order id", lambda o: o.client_order_id),
)


class OrdersTableModel(RecordTableModel[Order]):
    more_wanted = Signal()
    sort_wanted = Signal(str, bool)

    def __init__(self, parent: object = None) -> None:
        super().__init__(ORDER_COLUMNS, lambda o: o.client_order_id, parent, sort_key=OrderSort().key)
        self._has_more = False
        self._waiting = False
        self.current_sort = OrderSort()

    def show_page(self, orders: tuple[Order, ...], *, has_more: bool, first: bool, sort: OrderSort) -> None:
        self._has_more = has_more
        self._waiting = False
        if first:
            self.current_sort = sort
            self.set_sort_key(sort.key)
            self.set_rows(orders)
        else:
            self.append_rows(orders)

    @property
    def has_more(self) -> bool:
        return self._has_more

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008 - Qt's signature
        return not parent.isValid() and self._has_more and not self._waiting

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008 - Qt's signature
        if self.canFetchMore(parent):
            self._waiting = True
            self.more_wanted.emit()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = self.column_key(column)
        if key in SORT_VALUES:
            self.sort_wanted.emit(key, order == Qt.SortOrder.DescendingOrder)

    @Slot(list)
    def apply(self, orders: list[Order]) -> None:
        self.upsert(orders)
