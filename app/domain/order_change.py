"""Changing a working order (quantity, limit, stop): what the trader typed becomes an OrderChange, or says what is wrong.

Paper and live share these rules: a change names only what differs from the order; a price the
order's type does not carry can't be set; the quantity stays above what has already filled; the
order as changed must pass the same checks as a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal

from app.domain.models import Order, OrderChange, OrderRequest
from app.domain.validation import TicketError, parse_number, price_problem, request_errors

NOTHING_CHANGED = "Nothing changed: type a new quantity, limit price or stop price."


def changed_request(request: OrderRequest, change: OrderChange) -> OrderRequest:
    """The request as it reads after the change (None keeps a value)."""
    return replace(
        request,
        quantity=request.quantity if change.quantity is None else change.quantity,
        limit_price=request.limit_price if change.limit_price is None else change.limit_price,
        stop_price=request.stop_price if change.stop_price is None else change.stop_price,
    )


def changes_priority(order: Order, change: OrderChange) -> bool:
    """Whether a broker would put the order at the back of the queue: a new price or a larger size.

    Exchanges keep an order's place when only its size goes down.
    """
    request = order.request
    return (
        (change.limit_price is not None and change.limit_price != request.limit_price)
        or (change.stop_price is not None and change.stop_price != request.stop_price)
        or (change.quantity is not None and change.quantity > request.quantity)
    )


def change_errors(order: Order, change: OrderChange, *, today: date | None = None) -> dict[str, str]:
    """Everything wrong with changing ``order`` by ``change``, by field ('' key for the order as a whole)."""
    request = order.request
    order_type = request.order_type
    errors: dict[str, str] = {}
    if order.status.is_terminal:
        return {"": f"The order is already {order.status.value.replace('_', ' ')}; it can no longer be changed."}
    if change.limit_price is not None and not order_type.needs_limit:
        errors["limit_price"] = f"A {order_type.value.replace('_', '-')} order has no limit price to change."
    if change.stop_price is not None and not order_type.needs_stop:
        errors["stop_price"] = f"A {order_type.value.replace('_', '-')} order has no stop price to change."
    if change.stop_price is not None and order.stop_triggered and change.stop_price != request.stop_price:
        errors["stop_price"] = "The stop already triggered; its price can no longer be changed."
    if change.quantity is not None and change.quantity <= order.filled_quantity:
        errors["quantity"] = (
            f"{_num(order.filled_quantity)} already filled: the new quantity must be more than that "
            "(cancel the order to stop the rest)."
        )
    if errors:
        return errors
    after = changed_request(request, change)
    if after == request:
        return {"": NOTHING_CHANGED}
    for field, message in request_errors(after, today=today).items():
        if field in ("quantity", "limit_price", "stop_price"):
            errors[field] = message
    return errors


def build_order_change(
    order: Order, *, quantity: str, limit_price: str = "", stop_price: str = "", today: date | None = None
) -> OrderChange:
    """Parse the modify form against the working order; raise TicketError naming each bad field.

    A field left as it was (or empty for a price the order's type does not use) changes nothing.
    """
    request = order.request
    errors: dict[str, str] = {}
    qty = parse_number(quantity, "quantity", "Enter a quantity.", errors)
    limit = stop = None
    if request.order_type.needs_limit:
        limit = parse_number(limit_price, "limit_price", "Enter a limit price.", errors)
    elif (limit_price or "").strip():
        errors["limit_price"] = f"A {request.order_type.value} order takes no limit price; leave it empty."
    if request.order_type.needs_stop:
        stop = parse_number(stop_price, "stop_price", "Enter a stop price.", errors)
    elif (stop_price or "").strip():
        errors["stop_price"] = f"A {request.order_type.value} order takes no stop price; leave it empty."
    for field, price, label in (("limit_price", limit, "limit"), ("stop_price", stop, "stop")):
        problem = price_problem(price, request.instrument, label) if price is not None else ""
        if problem:
            errors[field] = problem
    if errors:
        raise TicketError(errors)
    change = OrderChange(
        quantity=qty if qty is not None and qty != request.quantity else None,
        limit_price=limit if limit is not None and limit != request.limit_price else None,
        stop_price=stop if stop is not None and stop != request.stop_price else None,
    )
    if change == OrderChange():
        raise TicketError({"": NOTHING_CHANGED})
    problems = change_errors(order, change, today=today)
    if problems:
        raise TicketError(problems)
    return change


def order_change_from_form(order: Order, values: Mapping[str, object], *, today: date | None = None) -> OrderChange:
    """The modify form's values (quantity, limit_price, stop_price as typed) as a change of ``order``, paper and
    live alike; raises TicketError as ``build_order_change`` does."""
    return build_order_change(
        order,
        quantity=str(values.get("quantity", "") or ""),
        limit_price=str(values.get("limit_price", "") or ""),
        stop_price=str(values.get("stop_price", "") or ""),
        today=today,
    )


def describe_change(order: Order, change: OrderChange) -> list[tuple[str, str, str]]:
    """(what, old, new) for each changed value, for the confirmation and messages."""
    request = order.request
    rows = []
    if change.quantity is not None:
        rows.append(("Quantity", _num(request.quantity), _num(change.quantity)))
    if change.limit_price is not None:
        rows.append(("Limit price", price_text(request.limit_price), price_text(change.limit_price)))
    if change.stop_price is not None:
        rows.append(("Stop price", price_text(request.stop_price), price_text(change.stop_price)))
    return rows


def change_summary(order: Order, change: OrderChange) -> str:
    """'qty 10 → 5, limit 400.00 → 401.00'."""
    short = {"Quantity": "qty", "Limit price": "limit", "Stop price": "stop"}
    return ", ".join(f"{short[what]} {old} → {new}" for what, old, new in describe_change(order, change))


def _num(value: Decimal) -> str:
    normalized = value.normalize()
    return f"{normalized:f}" if normalized != normalized.to_integral() else f"{int(normalized):,}"


def price_text(value: Decimal | None) -> str:
    """A limit or stop as the trader reads it: cents, or 4 places below $1; '—' when there is none."""
    if value is None:
        return "—"
    places = Decimal("0.0001") if abs(value) < 1 else Decimal("0.01")
    return f"{value.quantize(places):f}"
