"""Which orders a journal view shows and in what order: a filter, a sort, and the same rules in Python and SQL.

The orders table shows a window onto the journal (paper and live, possibly 100,000s of orders). The
database applies the filter and sort when a page is loaded; ``OrderFilter.matches`` and
``OrderSort.key`` apply exactly the same rules to a single changed order, so an event can be placed
into the loaded rows without reloading them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.models import Order, OrderStatus, TradingMode
from app.domain.symbol_filter import normalize_filter, symbol_matches


class StatusGroup(enum.Enum):
    """Statuses as a trader filters them."""

    ALL = "all"
    WORKING = "working"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"

    @property
    def statuses(self) -> frozenset[OrderStatus]:
        return _GROUPS[self]


_GROUPS: dict[StatusGroup, frozenset[OrderStatus]] = {
    StatusGroup.ALL: frozenset(OrderStatus),
    StatusGroup.WORKING: frozenset(
        {OrderStatus.PENDING_SUBMIT, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL}
    ),
    StatusGroup.FILLED: frozenset({OrderStatus.FILLED}),
    StatusGroup.CANCELED: frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED}),
    StatusGroup.REJECTED: frozenset({OrderStatus.REJECTED}),
    StatusGroup.UNKNOWN: frozenset({OrderStatus.UNKNOWN}),
}


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """Orders of one mode (or both), whose symbol starts with ``symbol``, in a status group and time range.

    ``symbol`` matches either form: the OCC code or the readable name ("AAPL 15 Jan 27"), see ``symbol_filter``.
    """

    mode: TradingMode | None = None
    symbol: str = ""
    status: StatusGroup = StatusGroup.ALL
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbol", normalize_filter(self.symbol))

    def matches(self, order: Order) -> bool:
        if self.mode is not None and order.mode is not self.mode:
            return False
        if self.symbol and not symbol_matches(order.symbol, self.symbol):
            return False
        if order.status not in self.status.statuses:
            return False
        if self.since is not None and order.created_at < self.since:
            return False
        return not (self.until is not None and order.created_at >= self.until)


def _nullable(value: Any) -> tuple[bool, Any]:
    """Missing values sort first ascending (as SQLite's NULLs do)."""
    return (False, 0) if value is None else (True, value)


#: Sortable columns: the table's column key -> the order's value. Storage maps the same keys to SQL.
SORT_VALUES: dict[str, Callable[[Order], Any]] = {
    "created": lambda o: o.created_at,
    "mode": lambda o: o.mode.value,
    "symbol": lambda o: o.symbol,
    "side": lambda o: o.request.side.value,
    "qty": lambda o: o.request.quantity,
    "type": lambda o: o.request.order_type.value,
    "limit": lambda o: o.request.limit_price,
    "stop": lambda o: o.request.stop_price,
    "tif": lambda o: o.request.time_in_force.value,
    "status": lambda o: o.status.value,
    "filled": lambda o: o.filled_quantity,
    "avg_price": lambda o: o.average_fill_price,
    "reason": lambda o: o.status_reason,
    "id": lambda o: o.client_order_id,
    "broker": lambda o: o.broker,
    "account": lambda o: o.account_last4,
}


class _Descending:
    """Wraps a sort key so that ascending order of wrappers is descending order of keys."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.key < self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and bool(self.key == other.key)

    def __hash__(self) -> int:
        return hash(self.key)


@dataclass(frozen=True, slots=True)
class OrderSort:
    """Sort by one column, then newest first, then by id, so every order has exactly one place."""

    column: str = "created"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.column not in SORT_VALUES:
            raise ValueError(f"orders can't be sorted by {self.column!r}")

    def key(self, order: Order) -> Any:
        """A total order key: rows of a page are in ascending order of this key."""
        primary = _nullable(SORT_VALUES[self.column](order))
        if self.descending:
            return (_Descending(primary), _Descending(order.created_at), order.client_order_id)
        return (primary, _Descending(order.created_at), order.client_order_id)


def is_decimal_column(column: str) -> bool:
    """Columns holding exact decimal text, which the database must compare as numbers."""
    return column in ("qty", "limit", "stop", "filled", "avg_price")

