"""The orders table's window onto the journal: filter, sort and pages from the database, events applied in place.

The journal may hold 100,000s of orders. The table never holds them all: the database answers a
filtered, sorted query one page at a time (off the Qt thread), and every order event from the paper
or live controller is checked against the same filter and sort in Python and handed to the view as a
row-level change. A reload (a new filter or sort, a paper reset) is the only time rows are replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import qasync
from PySide6.QtCore import QObject, Signal, Slot

from app.controller.views import OrdersPageView
from app.domain.models import Order, TradingMode
from app.domain.order_query import OrderFilter, OrderSort, StatusGroup
from app.storage.orders_repository import OrderPage, query_orders
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

PAGE_SIZE = 200
DATE_RANGES = ("all", "today", "7d", "30d")


class OrdersTableController(QObject):
    page_loaded = Signal(object)
    #: Orders to show or update in place (they match the filter and fall inside the loaded rows).
    orders_changed = Signal(list)
    #: Client order ids to take out of the table (they no longer match the filter).
    orders_removed = Signal(list)
    error = Signal(str)

    def __init__(
        self,
        worker: DatabaseWorker,
        clock: Callable[[], datetime],
        *,
        page_size: int = PAGE_SIZE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._clock = clock
        self._page_size = page_size
        self._filter = OrderFilter()
        self._sort = OrderSort()
        self._generation = 0
        self._offset = 0
        self._has_more = False
        self._boundary: object | None = None
        self._window: set[str] = set()
        self._loading_more = False

    @property
    def order_filter(self) -> OrderFilter:
        return self._filter

    @property
    def sort(self) -> OrderSort:
        return self._sort

    # ---- queries -------------------------------------------------------------------------------

    @qasync.asyncSlot(dict)
    async def set_filter(self, values: dict[str, object]) -> None:
        await self.apply_filter(values)

    async def apply_filter(self, values: Mapping[str, object]) -> None:
        self._filter = self.filter_from(values)
        await self.reload()

    def filter_from(self, values: Mapping[str, object]) -> OrderFilter:
        mode_text = str(values.get("mode", "all"))
        mode = None if mode_text == "all" else TradingMode(mode_text)
        status = StatusGroup(str(values.get("status", StatusGroup.ALL.value)))
        return OrderFilter(mode=mode, symbol=str(values.get("symbol", "")), status=status, since=self._since(values))

    def _since(self, values: Mapping[str, object]) -> datetime | None:
        span = str(values.get("range", "all"))
        if span not in DATE_RANGES:
            raise ValueError(f"unknown date range {span!r}")
        if span == "all":
            return None
        local_now = self._clock().astimezone()
        midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight - timedelta(days={"today": 0, "7d": 6, "30d": 29}[span])

    @qasync.asyncSlot(str, bool)
    async def set_sort(self, column: str, descending: bool) -> None:
        await self.apply_sort(column, descending)

    async def apply_sort(self, column: str, descending: bool) -> None:
        try:
            self._sort = OrderSort(column, descending)
        except ValueError as exc:
            self.error.emit(str(exc))
            return
        await self.reload()

    @qasync.asyncSlot()
    async def reload_orders(self) -> None:
        await self.reload()

    async def reload(self) -> None:
        """Load the first page of the current query; results of an older query are dropped."""
        self._generation += 1
        generation = self._generation
        order_filter, sort, size = self._filter, self._sort, self._page_size

        try:
            page = await self._worker.run(lambda s: query_orders(s, order_filter, sort, limit=size))
        except Exception:
            log.exception("Loading orders failed")
            self.error.emit("The orders could not be loaded from the journal.")
            return
        if generation != self._generation:
            return
        self._window = {o.client_order_id for o in page.orders}
        self._take_page(page)
        orders = page.orders + page.working_beyond
        self.page_loaded.emit(OrdersPageView(orders, page.has_more, True, sort))

    @qasync.asyncSlot()
    async def fetch_more(self) -> None:
        await self.load_more()

    async def load_more(self) -> None:
        if not self._has_more or self._loading_more:
            return
        self._loading_more = True
        generation = self._generation
        order_filter, sort, offset, size = self._filter, self._sort, self._offset, self._page_size
        try:
            page = await self._worker.run(lambda s: query_orders(s, order_filter, sort, offset=offset, limit=size))
        except Exception:
            log.exception("Loading more orders failed")
            self.error.emit("More orders could not be loaded from the journal.")
            return
        finally:
            self._loading_more = False
        if generation != self._generation:
            return
        fresh = tuple(o for o in page.orders if o.client_order_id not in self._window)
        self._window.update(o.client_order_id for o in fresh)
        self._take_page(page)
        self.page_loaded.emit(OrdersPageView(fresh, page.has_more, False, sort))

    def _take_page(self, page: OrderPage) -> None:
        self._offset = page.offset + len(page.orders)
        self._has_more = page.has_more
        if page.orders:
            self._boundary = self._sort.key(page.orders[-1])

    # ---- events --------------------------------------------------------------------------------

    @Slot(list)
    def apply(self, orders: list[Order]) -> None:
        """Orders created or changed by one step: each becomes a row change, an insert or a removal."""
        shown: list[Order] = []
        removed: list[str] = []
        for order in orders:
            key = order.client_order_id
            inside = key in self._window
            if not self._filter.matches(order):
                removed.append(key)
                if inside:
                    self._window.discard(key)
                    self._offset -= 1
                continue
            within = not self._has_more or self._boundary is None or self._sort.key(order) < self._boundary
            if inside or within:
                if not inside:
                    self._window.add(key)
                    self._offset += 1
                shown.append(order)
            elif not order.status.is_terminal:
                shown.append(order)
            else:
                removed.append(key)
        if removed:
            self.orders_removed.emit(removed)
        if shown:
            self.orders_changed.emit(shown)
