"""The live side of the order journal: rows committed before a request leaves, updates, fills recorded once."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.live_orders import commission_corrections
from app.domain.models import Fill, Order, OrderStatus, TradingMode
from app.storage.fills_repository import fill_of_row
from app.storage.order_events import record_events
from app.storage.orders_repository import order_to_row, row_to_order
from app.storage.schema import FillRow, OrderRow

_OPEN = [s.value for s in OrderStatus if not s.is_terminal]


class DuplicateOrder(Exception):
    """The journal already holds an order with this client order id."""


def record_pending(session: Session, order: Order) -> None:
    """Insert the row of an order about to be sent; the caller's transaction commits it before sending."""
    if session.get(OrderRow, order.client_order_id) is not None:
        raise DuplicateOrder(order.client_order_id)
    session.add(order_to_row(order, order.broker))
    session.flush()
    record_events(session, [order])


def save_live_update(session: Session, order: Order, fills: Iterable[Fill] = ()) -> list[Fill]:
    """Write the order's new state and the fills not recorded yet; returns only the newly recorded fills."""
    existing = session.get(OrderRow, order.client_order_id)
    row = order_to_row(order, order.broker, existing)
    if existing is None:
        session.add(row)
    session.flush()
    record_events(session, [order])
    wanted = list(fills)
    if not wanted:
        return []
    known = set(
        session.scalars(select(FillRow.fill_id).where(FillRow.fill_id.in_([f.fill_id for f in wanted]))).all()
    )
    recorded: list[Fill] = []
    for fill in wanted:
        if fill.fill_id in known:
            continue
        known.add(fill.fill_id)
        session.add(
            FillRow(
                fill_id=fill.fill_id,
                client_order_id=fill.client_order_id,
                symbol=fill.symbol,
                side=fill.side.value,
                quantity=fill.quantity,
                price=fill.price,
                commission=fill.commission,
                filled_at=fill.filled_at,
            )
        )
        recorded.append(fill)
    session.flush()
    return recorded


def settle_commission(session: Session, client_order_id: str, total: Decimal) -> list[Fill] | None:
    """Bring the order's fills to the broker's total commission; returns the fills whose commission changed,
    or None when the order has no fill yet to carry it (a commission reported before its execution)."""
    rows = session.scalars(
        select(FillRow).where(FillRow.client_order_id == client_order_id).order_by(FillRow.filled_at, FillRow.id)
    ).all()
    if not rows:
        return None
    by_key = {row.fill_id: row for row in rows}
    corrected = commission_corrections([fill_of_row(row) for row in rows], total)
    for fill in corrected:
        by_key[fill.fill_id].commission = fill.commission
    session.flush()
    return corrected


def load_live_order(session: Session, client_order_id: str) -> Order | None:
    row = session.get(OrderRow, client_order_id)
    if row is None or row.mode != TradingMode.LIVE.value:
        return None
    return row_to_order(row)


def load_followed_orders(session: Session, broker: str, account_last4: str) -> list[Order]:
    """Every live order of this account the broker may still change: working, unknown or not yet answered."""
    rows = session.scalars(
        select(OrderRow).where(
            OrderRow.mode == TradingMode.LIVE.value,
            OrderRow.broker == broker,
            OrderRow.account_last4 == account_last4,
            OrderRow.status.in_(_OPEN),
        )
    ).all()
    return sorted((row_to_order(r) for r in rows), key=lambda o: o.created_at)


def load_open_live_orders(session: Session) -> list[Order]:
    """Every live order not finished, whatever the account (shown as not followed while disconnected)."""
    rows = session.scalars(
        select(OrderRow).where(OrderRow.mode == TradingMode.LIVE.value, OrderRow.status.in_(_OPEN))
    ).all()
    return sorted((row_to_order(r) for r in rows), key=lambda o: o.created_at)


def known_order_keys(session: Session, broker: str, client_ids: Iterable[str], broker_ids: Iterable[str]) -> dict[str, str]:
    """Which of these broker orders the journal already holds: broker order id / client id -> our client id."""
    cids = [c for c in client_ids if c]
    bids = [b for b in broker_ids if b]
    found: dict[str, str] = {}
    if cids:
        for cid in session.scalars(select(OrderRow.client_order_id).where(OrderRow.client_order_id.in_(cids))):
            found[cid] = cid
    if bids:
        rows = session.execute(
            select(OrderRow.broker_order_id, OrderRow.client_order_id).where(
                OrderRow.mode == TradingMode.LIVE.value, OrderRow.broker == broker, OrderRow.broker_order_id.in_(bids)
            )
        ).all()
        for broker_id, cid in rows:
            found[str(broker_id)] = cid
    return found


def load_orders_by_id(session: Session, client_ids: Iterable[str]) -> list[Order]:
    ids = list(client_ids)
    if not ids:
        return []
    rows = session.scalars(select(OrderRow).where(OrderRow.client_order_id.in_(ids))).all()
    return [row_to_order(r) for r in rows]
