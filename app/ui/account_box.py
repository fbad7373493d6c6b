"""The account summary box: cash, equity, buying power and P&L of the account in view."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QWidget

from app.domain.models import AccountSummary
from app.ui.formatting import fmt_money, fmt_signed_money, fmt_signed_percent


class AccountSummaryBox(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Account", parent)
        self.setObjectName("account")
        self.labels: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        for number, (key, title) in enumerate(
            (
                ("cash", "Cash"),
                ("equity", "Equity"),
                ("buying_power", "Buying power"),
                ("day_pnl", "Day P&L"),
                ("unrealized_pnl", "Unrealized P&L"),
                ("realized_pnl", "Realized P&L"),
            )
        ):
            value = QLabel("—", objectName=f"account.{key}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.labels[key] = value
            grid.addWidget(QLabel(title), number, 0)
            grid.addWidget(value, number, 1)

    @Slot(object)
    def show_summary(self, summary: AccountSummary) -> None:
        self.labels["cash"].setText(fmt_money(summary.cash))
        self.labels["equity"].setText(fmt_money(summary.equity))
        self.labels["buying_power"].setText(fmt_money(summary.buying_power))
        day = fmt_signed_money(summary.day_pnl)
        if summary.day_pnl is not None and summary.day_change_pct is not None:
            day += f" ({fmt_signed_percent(summary.day_change_pct)})"
        self.labels["day_pnl"].setText(day)
        self.labels["day_pnl"].setToolTip(
            "Since the previous close: positions held overnight from that close, today's trades from their price."
            if summary.day_pnl is not None
            else "Not known yet: a held position has no mark or no previous close."
        )
        self.labels["unrealized_pnl"].setText(fmt_signed_money(summary.unrealized_pnl))
        self.labels["realized_pnl"].setText(fmt_signed_money(summary.realized_pnl))
