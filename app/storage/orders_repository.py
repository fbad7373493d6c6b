"""The order journal: every order and fill, paper or live, as rows and back as domain records."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, cast, or_, select
from sqlalchemy.orm import Session

from app.domain.models import (
    AssetClass,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEffect,
    Side,
    TimeInForce,
    TradingMode,
)
from app.domain.order_query import OrderFilter, OrderSort, StatusGroup, is_decimal_column
from app.domain.symbol_filter import readable_globs
from app.domain.symbols import parse_symbol
from app.storage.order_events import write_events
from app.storage.prepared_writes import insert
from app.storage.schema import FillRow, OrderRow


def order_values(order: Order, broker: str) -> dict[str, Any]:
    """An order's journal row as column values: what `write_orders` writes and `order_to_row` sets."""
    request = order.request
    return {
        "client_order_id": order.client_order_id,
        "mode": order.mode.value,
        "broker": order.broker or broker,
        "account_last4": order.account_last4,
        "external": order.external,
        "symbol": request.symbol,
        "asset_class": request.instrument.asset_class.value,
        "side": request.side.value,
        "quantity": request.quantity,
        "order_type": request.order_type.value,
        "time_in_force": request.time_in_force.value,
        "limit_price": request.limit_price,
        "stop_price": request.stop_price,
        "extended_hours": request.extended_hours,
        "position_effect": request.position_effect.value,
        "status": order.status.value,
        "status_reason": order.status_reason,
        "filled_quantity": order.filled_quantity,
        "average_fill_price": order.average_fill_price,
        "broker_order_id": order.broker_order_id,
        "stop_triggered": order.stop_triggered,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "queued_at": order.queued_at,
    }


def order_to_row(order: Order, broker: str, row: OrderRow | None = None) -> OrderRow:
    row = row or OrderRow(client_order_id=order.client_order_id)
    for name, value in order_values(order, broker).items():
        setattr(row, name, value)
    return row


def row_to_order(row: OrderRow) -> Order:
    instrument = parse_symbol(row.symbol)
    if instrument.asset_class is not AssetClass(row.asset_class):
        raise ValueError(f"order {row.client_order_id}: stored asset class does not match {row.symbol}")
    request = OrderRequest(
        instrument=instrument,
        side=Side(row.side),
        quantity=row.quantity,
        order_type=OrderType(row.order_type),
        time_in_force=TimeInForce(row.time_in_force),
        limit_price=row.limit_price,
        stop_price=row.stop_price,
        extended_hours=row.extended_hours,
        position_effect=PositionEffect(row.position_effect),
        client_order_id=row.client_order_id,
    )
    return Order(
        request=request,
        mode=TradingMode(row.mode),
        status=OrderStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        filled_quantity=row.filled_quantity,
        average_fill_price=row.average_fill_price,
        broker_order_id=row.broker_order_id,
        status_reason=row.status_reason,
        stop_triggered=row.stop_triggered,
        broker=row.broker if row.mode == TradingMode.LIVE.value else "",
        account_last4=row.account_last4 or "",
        external=bool(row.external),
        queued_at=row.queued_at,
    )


def write_orders(connection: sqlite3.Connection, orders: Iterable[Order], broker: str) -> None:
    """Insert new orders and update known ones in one statement, with their history events, on a sqlite3
    connection in a transaction (see `prepared_writes`): no read per order, no flush per row.

    The values are `order_values`, which `order_to_row` sets too, stored through the same column types, so
    the journal row of an order is the same whether it was written here or through the ORM.
    """
    orders = list(orders)
    rows = [order_values(order, broker) for order in orders]
    if not rows:
        return
    for columns, batch in _by_columns(rows):
        insert(OrderRow.__table__, columns, conflict="client_order_id").run(connection, batch)
    write_events(connection, orders)


def write_fills(connection: sqlite3.Connection, fills: Iterable[Fill]) -> None:
    """Append executions (after their orders are written), all in one statement, on a sqlite3 connection in a
    transaction (see `prepared_writes`)."""
    rows = [
        {
            "fill_id": fill.fill_id or f"{fill.client_order_id}-{fill.filled_at.timestamp():.6f}",
            "client_order_id": fill.client_order_id,
            "symbol": fill.symbol,
            "side": fill.side.value,
            "quantity": fill.quantity,
            "price": fill.price,
            "commission": fill.commission,
            "filled_at": fill.filled_at,
        }
        for fill in fills
    ]
    if rows:
        insert(FillRow.__table__, tuple(rows[0])).run(connection, rows)


def _by_columns(rows: list[dict[str, Any]]) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    """Rows grouped by the columns they set, so each group is one executemany of one statement."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.items())


def load_orders(session: Session, mode: TradingMode, limit: int = 500) -> list[Order]:
    """The newest ``limit`` orders of one mode plus every open one, newest first."""
    recent = session.scalars(
        select(OrderRow).where(OrderRow.mode == mode.value).order_by(OrderRow.created_at.desc()).limit(limit)
    ).all()
    open_statuses = [s.value for s in OrderStatus if not s.is_terminal]
    still_open = session.scalars(
        select(OrderRow).where(OrderRow.mode == mode.value, OrderRow.status.in_(open_statuses))
    ).all()
    rows = {row.client_order_id: row for row in (*recent, *still_open)}
    return sorted((row_to_order(r) for r in rows.values()), key=lambda o: o.created_at, reverse=True)


def load_fills(session: Session, client_order_id: str) -> list[Fill]:
    rows = session.scalars(
        select(FillRow).where(FillRow.client_order_id == client_order_id).order_by(FillRow.filled_at)
    ).all()
    return [
        Fill(
            client_order_id=r.client_order_id,
            symbol=r.symbol,
            side=Side(r.side),
            quantity=r.quantity,
            price=r.price,
            commission=r.commission,
            filled_at=r.filled_at,
            fill_id=r.fill_id,
        )
        for r in rows
    ]


# ---- journal views: one page of a filtered, sorted query -------------------------------------

_SORT_COLUMNS: dict[str, ColumnElement[Any]] = {
    "created": OrderRow.created_at,
    "mode": OrderRow.mode,
    "symbol": OrderRow.symbol,
    "side": OrderRow.side,
    "qty": OrderRow.quantity,
    "type": OrderRow.order_type,
    "limit": OrderRow.limit_price,
    "stop": OrderRow.stop_price,
    "tif": OrderRow.time_in_force,
    "status": OrderRow.status,
    "filled": OrderRow.filled_quantity,
    "avg_price": OrderRow.average_fill_price,
    "reason": OrderRow.status_reason,
    "id": OrderRow.client_order_id,
    "broker": OrderRow.broker,
}


def _filtered(statement: Select[Any], order_filter: OrderFilter) -> Select[Any]:
    if order_filter.mode is not None:
        statement = statement.where(OrderRow.mode == order_filter.mode.value)
    if order_filter.symbol:
        # A prefix range instead of LIKE, so the symbol index serves it.
        prefix = (OrderRow.symbol >= order_filter.symbol) & (OrderRow.symbol < order_filter.symbol + "\U0010ffff")
        globs = readable_globs(order_filter.symbol)
        if globs:
            # The readable name of an option ("AAPL 15 Jan 27 …"): GLOBs over its OCC code, all under the root's range.
            root = order_filter.symbol.split(" ")[0]
            in_root = (OrderRow.symbol >= root) & (OrderRow.symbol < root + "\U0010ffff")
            prefix = prefix | (in_root & or_(*(OrderRow.symbol.op("GLOB")(g) for g in globs)))
        statement = statement.where(prefix)
    if order_filter.status is not StatusGroup.ALL:
        statement = statement.where(OrderRow.status.in_([s.value for s in order_filter.status.statuses]))
    if order_filter.since is not None:
        statement = statement.where(OrderRow.created_at >= order_filter.since)
    if order_filter.until is not None:
        statement = statement.where(OrderRow.created_at < order_filter.until)
    return statement


def _ordered(statement: Select[Any], sort: OrderSort) -> Select[Any]:
    column = _SORT_COLUMNS.get(sort.column)
    if column is None:
        raise ValueError(f"orders can't be sorted by {sort.column!r} in the journal")
    primary: ColumnElement[Any] = cast(column, Float) if is_decimal_column(sort.column) else column
    direction = primary.desc() if sort.descending else primary.asc()
    if sort.column == "created":
        return statement.order_by(direction, OrderRow.client_order_id)
    return statement.order_by(direction, OrderRow.created_at.desc(), OrderRow.client_order_id)


@dataclass(frozen=True, slots=True)
class OrderPage:
    """Rows ``offset`` .. ``offset + len(orders)`` of a query, whether more follow, and (on the first
    page only) the working orders of the query that fall beyond it, so open orders are always in view."""

    orders: tuple[Order, ...]
    offset: int
    has_more: bool
    working_beyond: tuple[Order, ...] = ()


def query_orders(
    session: Session, order_filter: OrderFilter, sort: OrderSort, *, offset: int = 0, limit: int = 200
) -> OrderPage:
    """One page of the journal as the orders table shows it."""
    # Plain rows of the table's columns (read by name like the mapped class): a page is read-only, so the
    # ORM's per-row identity bookkeeping would only cost time.
    columns = select(*OrderRow.__table__.columns)
    statement = _ordered(_filtered(columns, order_filter), sort).offset(offset).limit(limit + 1)
    rows = list(session.execute(statement))
    has_more = len(rows) > limit
    orders = tuple(row_to_order(row) for row in rows[:limit])  # type: ignore[arg-type]
    beyond: tuple[Order, ...] = ()
    if offset == 0 and has_more:
        seen = {o.client_order_id for o in orders}
        working = _filtered(columns, order_filter).where(OrderRow.status.in_(_OPEN_STATUSES))
        beyond = tuple(
            row_to_order(row) for row in session.execute(working) if row.client_order_id not in seen  # type: ignore[arg-type]
        )
    return OrderPage(orders, offset, has_more, beyond)


_OPEN_STATUSES = [s.value for s in OrderStatus if not s.is_terminal]
