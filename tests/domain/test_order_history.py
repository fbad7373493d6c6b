"""An order's changes in words, as the details window lists them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from app.domain.models import OrderStatus
from app.domain.order_history import OrderEvent, describe_event

T = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)


def _event(status=OrderStatus.NEW, qty="10", limit="400", filled="0", avg=None, broker=None, reason="") -> OrderEvent:
    return OrderEvent(T, status, D(qty), D(limit) if limit else None, None, D(filled), D(avg) if avg else None, broker, reason)


def test_first_event_is_placed_or_rejected() -> None:
    assert describe_event(_event(), None) == "Placed"
    assert describe_event(_event(OrderStatus.REJECTED, reason="no buying power"), None) == "Rejected"


def test_fills_modifications_and_cancels_read_plainly() -> None:
    placed = _event()
    partial = _event(OrderStatus.PARTIALLY_FILLED, filled="4", avg="399.5")
    assert describe_event(partial, placed) == "Filled 4 of 10 @ 399.50"
    modified = _event(OrderStatus.PARTIALLY_FILLED, qty="8", limit="401", filled="4", avg="399.5")
    assert describe_event(modified, partial) == "Modified: qty 10 → 8, limit 400.00 → 401.00"
    canceled = _event(OrderStatus.CANCELED, qty="8", limit="401", filled="4", avg="399.5")
    assert describe_event(canceled, modified) == "Canceled"
    acked = _event(broker="b-123")
    assert describe_event(acked, placed) == "broker id b-123"


def test_an_order_filled_as_it_was_placed_says_both() -> None:
    filled = _event(OrderStatus.FILLED, qty="50", limit=None, filled="50", avg="189.6")
    assert describe_event(filled, None) == "Placed; filled 50 of 50 @ 189.60"
