"""Display records of live trading for the views: the mode, the live account a switch targets, a live order to confirm."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.models import TradingMode
from app.domain.symbol_display import symbol_with_code

_TYPE_LABELS = {"market": "Market", "limit": "Limit", "stop": "Stop", "stop_limit": "Stop limit"}
_TIF_LABELS = {"day": "Day", "gtc": "Good till cancelled"}


@dataclass(frozen=True, slots=True)
class ModeView:
    """Everything the badge, the window title, the ticket and the mode pane show about the mode."""

    mode: TradingMode
    held: bool = False
    broker_name: str = ""
    account_last4: str = ""
    sandbox: bool = False

    @property
    def badge(self) -> str:
        if self.held:
            return "LIVE · connecting…"
        if self.mode is TradingMode.PAPER:
            return "PAPER"
        account = f"{self.broker_name} …{self.account_last4}"
        return f"LIVE · SANDBOX · {account}" if self.sandbox else f"LIVE · {account}"

    @property
    def kind(self) -> str:
        """paper, live, sandbox or held: the colour family of the badge."""
        if self.held:
            return "held"
        if self.mode is TradingMode.PAPER:
            return "paper"
        return "sandbox" if self.sandbox else "live"

    @property
    def title(self) -> str:
        return f"TradeBridge — {self.badge}"


@dataclass(frozen=True, slots=True)
class LiveTargetView:
    """The account a switch to live would trade in; the confirmation names it."""

    broker_name: str
    environment: str
    account_last4: str
    is_paper: bool
    connection_id: str


@dataclass(frozen=True, slots=True)
class OrderConfirmView:
    """Everything the trader confirms before a live order is sent, ready to display."""

    client_order_id: str
    broker_name: str
    account_last4: str
    is_sandbox: bool
    symbol: str
    side: str
    quantity: Decimal
    order_type: str
    limit_price: Decimal | None
    stop_price: Decimal | None
    time_in_force: str
    extended_hours: bool
    estimated_cost: Decimal | None
    commission: Decimal | None
    buying_power: Decimal
    buying_power_after: Decimal | None
    estimate_source: str
    warnings: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        kind = "SANDBOX" if self.is_sandbox else "LIVE"
        return f"Send {kind} order to {self.broker_name} …{self.account_last4}?"

    def lines(self) -> list[str]:
        """The summary, one fact per line."""
        prices = []
        if self.limit_price is not None:
            prices.append(f"limit ${self.limit_price:,}")
        if self.stop_price is not None:
            prices.append(f"stop ${self.stop_price:,}")
        rows = [
            f"Broker: {self.broker_name}, account …{self.account_last4}"
            + (" (sandbox)" if self.is_sandbox else " (REAL MONEY)"),
            f"{self.side.upper()} {self.quantity:f} {symbol_with_code(self.symbol)}",
            f"Type: {_TYPE_LABELS.get(self.order_type, self.order_type)}"
            + (f", {', '.join(prices)}" if prices else ""),
            f"Time in force: {_TIF_LABELS.get(self.time_in_force, self.time_in_force)}"
            + (", extended hours" if self.extended_hours else ""),
            "Estimated cost: " + (_money(self.estimated_cost) if self.estimated_cost is not None else "not available"),
        ]
        if self.commission is not None:
            rows.append(f"Commission and fees: {_money(self.commission)}")
        rows.append(f"Buying power: {_money(self.buying_power)}")
        rows.append(
            "Buying power after: "
            + (_money(self.buying_power_after) if self.buying_power_after is not None else "not available")
        )
        rows.append(f"Estimate from: {self.estimate_source}")
        rows.extend(f"Warning: {w}" for w in self.warnings)
        return rows

    @property
    def summary(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True, slots=True)
class ChangeConfirmView:
    """What the trader confirms before a change of a live order is sent: the order and each value old → new."""

    client_order_id: str
    broker_name: str
    account_last4: str
    is_sandbox: bool
    order_line: str
    changes: tuple[tuple[str, str, str], ...]
    how: str

    @property
    def title(self) -> str:
        kind = "SANDBOX" if self.is_sandbox else "LIVE"
        return f"Change {kind} order at {self.broker_name} …{self.account_last4}?"

    @property
    def summary(self) -> str:
        rows = [
            f"Broker: {self.broker_name}, account …{self.account_last4}"
            + (" (sandbox)" if self.is_sandbox else " (REAL MONEY)"),
            self.order_line,
            *(f"{what}: {old} → {new}" for what, old, new in self.changes),
            self.how,
            "If the broker does not answer, the change is checked with the broker and never sent twice.",
        ]
        return "\n".join(rows)


def _money(value: Decimal) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"
