"""Right-click menus of the orders and positions tables, and the text 'Copy details' puts on the clipboard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

from app.domain.models import Order, OrderStatus, Side
from app.domain.symbol_display import symbol_with_code
from app.ui.formatting import fmt_enum, fmt_money, fmt_price, fmt_qty, fmt_signed_money, fmt_time
from app.ui.table_menus import copy_text, menu_action, new_menu

if TYPE_CHECKING:
    from app.controller.views import PositionView
    from app.ui.orders_pane import OrdersPane


def order_details(order: Order) -> str:
    """One line a trader can paste into a note or a message to the broker's desk."""
    request = order.request
    prices = []
    if request.limit_price is not None:
        prices.append(f"limit {fmt_price(request.limit_price)}")
    if request.stop_price is not None:
        prices.append(f"stop {fmt_price(request.stop_price)}")
    filled = ""
    if order.filled_quantity:
        filled = f", filled {fmt_qty(order.filled_quantity)} @ {fmt_price(order.average_fill_price)}"
    parts = [
        f"{fmt_enum(request.side)} {fmt_qty(request.quantity)} {symbol_with_code(order.symbol)} {fmt_enum(request.order_type).lower()}",
        *prices,
        fmt_enum(request.time_in_force),
    ]
    broker = f", broker id {order.broker_order_id}" if order.broker_order_id else ""
    reason = f" ({order.status_reason})" if order.status_reason else ""
    return (
        f"{' '.join(parts)} — {fmt_enum(order.status)}{reason}{filled}; {order.mode.value}, "
        f"placed {fmt_time(order.created_at)}, order id {order.client_order_id}{broker}"
    )


def order_result(order: Order) -> str:
    """The result line for an order the trader placed, as its state changes."""
    status = order.status.value.replace("_", " ")
    if order.filled_quantity and order.average_fill_price is not None:
        filled = f"{fmt_qty(order.filled_quantity)} of {fmt_qty(order.request.quantity)} @ {fmt_price(order.average_fill_price)}"
        return f"Order {order.client_order_id} {status}: {filled}."
    explained = order.status_reason and order.status.value in ("rejected", "expired")
    reason = f": {order.status_reason}" if explained else ""
    return f"Order {order.client_order_id} {status}{reason}."


def ticket_values_for_order(order: Order) -> dict[str, object]:
    request = order.request
    return {
        "symbol": order.symbol,
        "side": request.side.value,
        "quantity": str(request.quantity),
        "order_type": request.order_type.value,
        "limit_price": "" if request.limit_price is None else str(request.limit_price),
        "stop_price": "" if request.stop_price is None else str(request.stop_price),
        "time_in_force": request.time_in_force.value,
        "extended_hours": request.extended_hours,
    }


def ticket_values_to_close(position: PositionView) -> dict[str, object]:
    """The ticket that closes the position: the opposite side for its whole quantity, at market."""
    quantity = position.position.quantity
    return {
        "symbol": position.symbol,
        "side": (Side.SELL if quantity > 0 else Side.BUY).value,
        "quantity": str(abs(quantity)),
        "order_type": "market",
    }


def position_details(position: PositionView) -> str:
    held = position.position
    return (
        f"{symbol_with_code(position.symbol)}: {fmt_qty(held.quantity)} at {fmt_price(held.average_cost)} average cost, "
        f"mark {fmt_price(position.mark)}, value {fmt_money(position.market_value)}, "
        f"unrealized {fmt_signed_money(position.unrealized_pnl)}, realized {fmt_signed_money(held.realized_pnl)}"
    )


def can_modify(order: Order) -> bool:
    """A working order the app placed (orders placed elsewhere are changed where they were placed)."""
    return order.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED) and not order.external


def order_menu(pane: OrdersPane, row: int) -> QMenu:
    menu = new_menu(pane, "orders.menu")
    order = pane.orders_model.row_at(row) if row >= 0 else None
    working = order is not None and order.status.is_cancelable
    key = order.client_order_id if order is not None else ""
    menu_action(menu, "orders.menu.details", "Order details…", lambda: pane.details_requested.emit(key), enabled=order is not None)
    menu_action(menu, "orders.menu.cancel", "Cancel order", lambda: pane.cancel_requested.emit(key), enabled=working)
    menu_action(
        menu,
        "orders.menu.modify",
        "Modify…",
        lambda: order is not None and pane.modify_order(order),
        enabled=order is not None and can_modify(order),
    )
    menu.addSeparator()
    menu_action(
        menu,
        "orders.menu.copy_to_ticket",
        "Copy to ticket",
        lambda: order is not None and pane.ticket.load_values(ticket_values_for_order(order)),
        enabled=order is not None,
    )
    menu_action(
        menu,
        "orders.menu.copy_details",
        "Copy details",
        lambda: order is not None and copy_text(order_details(order)),
        enabled=order is not None,
    )
    menu.addSeparator()
    menu_action(menu, "orders.menu.export", "Export to CSV…", pane.export_orders)
    return menu


def position_menu(pane: OrdersPane, row: int) -> QMenu:
    menu = new_menu(pane, "positions.menu")
    position = pane.positions_proxy.record_at(row) if row >= 0 else None
    menu_action(
        menu,
        "positions.menu.close",
        "Close position (ticket)",
        lambda: position is not None and pane.ticket.load_values(ticket_values_to_close(position)),
        enabled=position is not None,
    )
    menu_action(
        menu,
        "positions.menu.copy_details",
        "Copy details",
        lambda: position is not None and copy_text(position_details(position)),
        enabled=position is not None,
    )
    menu.addSeparator()
    menu_action(menu, "positions.menu.export", "Export to CSV…", pane.export_positions)
    return menu
