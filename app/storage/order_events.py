"""The order_events table: one row per saved change of an order, written with the order, read for its details."""

from __future__ import annotations

import sqlite3

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.domain.models import Order, OrderStatus
from app.domain.order_history import OrderEvent
from app.storage.prepared_writes import insert as prepared_insert
from app.storage.schema import OrderEventRow


def event_values(order: Order) -> dict[str, object]:
    """The event row for ``order`` as it is saved: every saved state of an order is a change (engines and
    controllers hand over only the orders a step changed), so no read of the previous row is needed."""
    request = order.request
    return {
        "client_order_id": order.client_order_id,
        "at": order.updated_at,
        "status": order.status.value,
        "quantity": request.quantity,
        "limit_price": request.limit_price,
        "stop_price": request.stop_price,
        "filled_quantity": order.filled_quantity,
        "average_fill_price": order.average_fill_price,
        "broker_order_id": order.broker_order_id,
        "reason": order.status_reason,
    }


def record_events(session: Session, orders: list[Order]) -> None:
    """One statement for all of a step's changes, after the orders themselves are written."""
    if orders:
        # A Core insert on the session's connection: same transaction, without the ORM's bulk bookkeeping.
        session.connection().execute(insert(OrderEventRow.__table__), [event_values(o) for o in orders])


def write_events(connection: sqlite3.Connection, orders: list[Order]) -> None:
    """`record_events` as prepared SQL on a sqlite3 connection in a transaction (see `prepared_writes`)."""
    if orders:
        rows = [event_values(o) for o in orders]
        prepared_insert(OrderEventRow.__table__, tuple(rows[0])).run(connection, rows)


def load_events(session: Session, client_order_id: str) -> list[OrderEvent]:
    rows = session.scalars(
        select(OrderEventRow).where(OrderEventRow.client_order_id == client_order_id).order_by(OrderEventRow.id)
    ).all()
    return [
        OrderEvent(
            at=r.at,
            status=OrderStatus(r.status),
            quantity=r.quantity,
            limit_price=r.limit_price,
            stop_price=r.stop_price,
            filled_quantity=r.filled_quantity,
            average_fill_price=r.average_fill_price,
            broker_order_id=r.broker_order_id,
            reason=r.reason,
        )
        for r in rows
    ]


def delete_events_of(session: Session, client_order_ids: object) -> None:
    """Events go with their orders (``client_order_ids``: ids or a select of them)."""
    session.execute(delete(OrderEventRow).where(OrderEventRow.client_order_id.in_(client_order_ids)))  # type: ignore[arg-type]
