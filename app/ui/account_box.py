"""The account summary box: cash, equity, buying power and P&L of the account in view."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QEvent, Qt, Slot
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QWidget

from app.domain.models import AccountSummary
from app.ui.formatting import fmt_money, fmt_signed_money, fmt_signed_percent


#: A wide value the fields make room for from the start: a day P&L in the millions with its percentage.
WIDE_VALUE = f"{fmt_signed_money(Decimal('-9999999.99'))} ({fmt_signed_percent(Decimal('-999.99'))})"


class ValueField(QLabel):
    """A value whose changes don't relay the window out: its size is fixed, and grows only for a wider text.

    A label whose text changes asks its parents to lay out again, up to the window; the account is
    revalued on every order and quote, so a field that already has room for its text keeps its size.
    """

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__("—", parent, objectName=name)
        self._fit(WIDE_VALUE)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        if self._needs(text) > self.minimumWidth():
            self._fit(WIDE_VALUE, text)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit(WIDE_VALUE, self.text())

    def _needs(self, text: str) -> int:
        margins = self.contentsMargins()
        return self.fontMetrics().horizontalAdvance(text) + margins.left() + margins.right() + 2 * self.margin() + 4

    def _fit(self, *texts: str) -> None:
        margins = self.contentsMargins()
        height = self.fontMetrics().height() + margins.top() + margins.bottom() + 2 * self.margin()
        self.setFixedSize(max(self._needs(text) for text in texts), height)


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
            value = ValueField(f"account.{key}")
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
