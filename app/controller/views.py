"""Records the controllers hand to the views: display-ready, immutable, free of I/O types."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.day_change import DayChange
from app.domain.models import Fill, Order, Position, TradingMode
from app.domain.order_query import OrderSort


@dataclass(frozen=True, slots=True)
class PositionView:
    """A position with its mark; ``mark_age`` is set ("35 s") while the mark comes from a stale quote."""

    position: Position
    mark: Decimal | None
    mark_age: str = ""
    #: The previous session's close, where the quotes give it.
    prev_close: Decimal | None = None
    #: Day P&L and % change since that close; None when it can't be known.
    day: DayChange | None = None

    @property
    def mark_stale(self) -> bool:
        return bool(self.mark_age)

    @property
    def symbol(self) -> str:
        return self.position.symbol

    @property
    def market_value(self) -> Decimal | None:
        return self.position.market_value(self.mark)

    @property
    def unrealized_pnl(self) -> Decimal | None:
        return self.position.unrealized_pnl(self.mark)

    @property
    def day_pnl(self) -> Decimal | None:
        return None if self.day is None else self.day.pnl

    @property
    def day_change_pct(self) -> Decimal | None:
        return None if self.day is None else self.day.percent


@dataclass(frozen=True, slots=True)
class FieldView:
    """One input of a broker's connection form."""

    name: str
    label: str
    secret: bool
    help: str
    default: str
    required: bool
    choices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BrokerFormView:
    key: str
    display_name: str
    fields: tuple[FieldView, ...]
    environments: tuple[str, ...]
    docs: str


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """A saved connection as the Settings pane shows it: never a secret, the account as last 4 only."""

    id: str
    broker: str
    broker_name: str
    environment: str
    label: str
    account_last4: str | None
    account_type: str | None
    credentials_message: str
    credentials_state: str
    base_url_override: str | None
    saved_fields: tuple[str, ...]
    verified: bool
    active: bool


@dataclass(frozen=True, slots=True)
class AccountView:
    """The verified account of the active connection."""

    connection_id: str
    broker_name: str
    environment: str
    account_last4: str
    account_type: str
    buying_power: Decimal
    cash: Decimal
    equity: Decimal
    is_paper: bool

    @property
    def headline(self) -> str:
        kind = "paper" if self.is_paper else "LIVE"
        return (
            f"Connected: {self.broker_name} {kind} account …{self.account_last4} "
            f"({self.account_type}), buying power ${self.buying_power:,.2f}"
        )


@dataclass(frozen=True, slots=True)
class OrdersPageView:
    """Rows for the orders table: a first page replaces what is shown, a further page is appended."""

    orders: tuple[Order, ...]
    has_more: bool
    first: bool
    sort: OrderSort


@dataclass(frozen=True, slots=True)
class FillView:
    """One execution as the Fills table shows it, with the mode of its order."""

    fill: Fill
    mode: TradingMode

    @property
    def key(self) -> str:
        return self.fill.fill_id or f"{self.fill.client_order_id}-{self.fill.filled_at.timestamp():.6f}"
