"""Loads one order's details for the details window: the order now, every recorded change and its fills."""

from __future__ import annotations

import logging

import qasync
from PySide6.QtCore import QObject, Signal
from sqlalchemy.orm import Session

from app.domain.order_history import OrderHistory
from app.storage.order_events import load_events
from app.storage.orders_repository import load_fills, row_to_order
from app.storage.schema import OrderRow
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)


def _history(session: Session, client_order_id: str) -> OrderHistory | None:
    row = session.get(OrderRow, client_order_id)
    if row is None:
        return None
    return OrderHistory(
        row_to_order(row), tuple(load_events(session, client_order_id)), tuple(load_fills(session, client_order_id))
    )


class OrderDetailsController(QObject):
    details_loaded = Signal(object)
    error = Signal(str)

    def __init__(self, worker: DatabaseWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = worker

    @qasync.asyncSlot(str)
    async def show_order(self, client_order_id: str) -> None:
        await self.load(client_order_id)

    async def load(self, client_order_id: str) -> OrderHistory | None:
        try:
            history = await self._worker.run(lambda s: _history(s, client_order_id))
        except Exception:
            log.exception("Loading an order's history failed")
            self.error.emit("The order's history could not be read from the journal.")
            return None
        if history is None:
            self.error.emit(f"Order {client_order_id} is not in the journal.")
            return None
        self.details_loaded.emit(history)
        return history
