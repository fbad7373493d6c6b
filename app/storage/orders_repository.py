"""The order journal: every order and fill, paper or live, as rows and back as domain records."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
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
from app.domain.symbols import parse_symbol
from app.storage.schema import FillRow, OrderRow


def order_to_row(order: Order, broker: str, row: OrderRow | None = None) -> OrderRow:
    request = order.request
    row = row or OrderRow(client_order_id=order.client_order_id)
    row.mode = order.mode.value
    row.broker = broker
    row.symbol = request.symbol
    row.asset_class = request.instrument.asset_class.value
    row.side = request.side.value
    row.quantity = request.quantity
    row.order_type = request.order_type.value
    row.time_in_force = request.time_in_force.value
    row.limit_price = request.limit_price
    row.stop_price = request.stop_price
    row.extended_hours = request.extended_hours
    row.position_effect = request.position_effect.value
    row.status = order.status.value
    row.status_reason = order.status_reason
    row.filled_quantity = order.filled_quantity
    row.average_fill_price = order.average_fill_price
    row.broker_order_id = order.broker_order_id
    row.stop_triggered = order.stop_triggered
    row.created_at = order.created_at
    row.updated_at = order.updated_at
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
    )


def save_orders(session: Session, orders: Iterable[Order], broker: str) -> None:
    for order in orders:
        existing = session.get(OrderRow, order.client_order_id)
        row = order_to_row(order, broker, existing)
        if existing is None:
            session.add(row)
    session.flush()


def save_fills(session: Session, fills: Iterable[Fill]) -> None:
    for fill in fills:
        session.add(
            FillRow(
                fill_id=fill.fill_id or f"{fill.client_order_id}-{fill.filled_at.timestamp():.6f}",
                client_order_id=fill.client_order_id,
                symbol=fill.symbol,
                side=fill.side.value,
                quantity=fill.quantity,
                price=fill.price,
                commission=fill.commission,
                filled_at=fill.filled_at,
            )
        )


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
