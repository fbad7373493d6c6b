"""An order's history as the trader reads it: each recorded change in order, then its executions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.domain.models import Fill, Order, OrderStatus


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """The order's state right after one change: its status, size and prices, fills so far, broker id, reason."""

    at: datetime
    status: OrderStatus
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    broker_order_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class OrderHistory:
    order: Order
    events: tuple[OrderEvent, ...]
    fills: tuple[Fill, ...]


def describe_event(event: OrderEvent, previous: OrderEvent | None) -> str:
    """What changed, in words: 'Placed', 'Filled 10 of 10 @ 189.60', 'Modified: qty 10 → 5, limit 400.00 → 401.00'."""
    if previous is None:
        if event.status is OrderStatus.REJECTED:
            return "Rejected"
        if event.filled_quantity:
            # Filled in the step that placed it (a marketable order): one saved change says both.
            return (
                f"Placed; filled {_num(event.filled_quantity)} of {_num(event.quantity)} "
                f"@ {_price(event.average_fill_price)}"
            )
        return "Placed"
    changes = []
    if event.quantity != previous.quantity:
        changes.append(f"qty {_num(previous.quantity)} → {_num(event.quantity)}")
    if event.limit_price != previous.limit_price:
        changes.append(f"limit {_price(previous.limit_price)} → {_price(event.limit_price)}")
    if event.stop_price != previous.stop_price:
        changes.append(f"stop {_price(previous.stop_price)} → {_price(event.stop_price)}")
    parts = [f"Modified: {', '.join(changes)}"] if changes else []
    if event.filled_quantity != previous.filled_quantity:
        parts.append(
            f"Filled {_num(event.filled_quantity)} of {_num(event.quantity)} @ {_price(event.average_fill_price)}"
        )
    filled_now = event.filled_quantity != previous.filled_quantity
    if event.status is not previous.status and not (
        filled_now and event.status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED)
    ):
        parts.append(event.status.value.replace("_", " ").capitalize())
    if event.broker_order_id != previous.broker_order_id and event.broker_order_id:
        parts.append(f"broker id {event.broker_order_id}")
    if not parts and event.reason != previous.reason:
        parts.append("Updated")
    return "; ".join(parts) or "Updated"


def _num(value: Decimal | None) -> str:
    if value is None:
        return "—"
    normalized = value.normalize()
    return f"{normalized:f}" if normalized != normalized.to_integral() else f"{int(normalized):,}"


def _price(value: Decimal | None) -> str:
    if value is None:
        return "—"
    places = Decimal("0.0001") if abs(value) < 1 else Decimal("0.01")
    return f"{value.quantize(places):f}"
