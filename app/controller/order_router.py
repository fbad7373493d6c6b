"""Routes the ticket to paper or live by the current mode, cancels and changes by the mode an order was placed in,
and shows the positions and account of the mode in view (the other mode's figures are kept untouched)."""

from __future__ import annotations

from collections.abc import Callable

import qasync
from PySide6.QtCore import QObject, Signal, Slot

from app.domain.models import AccountSummary, TradingMode


class OrderRouter(QObject):
    positions_changed = Signal(list)
    account_changed = Signal(object)
    positions_status = Signal(str)
    order_rejected = Signal(str)
    submission_finished = Signal()
    #: A change of a working order was refused before anything happened: field -> what is wrong.
    change_rejected = Signal(dict)
    #: The modify form may close: the change was made (paper) or waits for the trader's confirmation (live).
    change_taken = Signal(str)
    #: A sentence about a change that was made.
    change_message = Signal(str)

    def __init__(
        self,
        paper: QObject,
        live: QObject,
        mode: Callable[[], TradingMode],
        held: Callable[[], bool],
        is_live_order: Callable[[str], bool],
        parent: QObject | None = None,
        *,
        live_change: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._paper = paper
        self._live = live
        self._live_change = live_change
        paper.change_rejected.connect(self.change_rejected)  # type: ignore[attr-defined]
        paper.order_changed.connect(self._paper_changed)  # type: ignore[attr-defined]
        if live_change is not None:
            live_change.change_rejected.connect(self.change_rejected)  # type: ignore[attr-defined]
            live_change.change_taken.connect(self.change_taken)  # type: ignore[attr-defined]
        self._mode = mode
        self._held = held
        self._is_live_order = is_live_order
        self._positions: dict[TradingMode, list[object] | None] = {TradingMode.PAPER: None, TradingMode.LIVE: None}
        self._accounts: dict[TradingMode, AccountSummary | None] = {TradingMode.PAPER: None, TradingMode.LIVE: None}
        self._shown = TradingMode.PAPER
        paper.positions_changed.connect(lambda rows: self._positions_of(TradingMode.PAPER, rows))  # type: ignore[attr-defined]
        paper.account_changed.connect(lambda summary: self._account_of(TradingMode.PAPER, summary))  # type: ignore[attr-defined]
        live.positions_changed.connect(lambda rows: self._positions_of(TradingMode.LIVE, rows))  # type: ignore[attr-defined]
        live.account_changed.connect(lambda summary: self._account_of(TradingMode.LIVE, summary))  # type: ignore[attr-defined]
        live.positions_status.connect(self._live_positions_status)  # type: ignore[attr-defined]

    # ---- orders -----------------------------------------------------------------------------

    @qasync.asyncSlot(dict)
    async def submit_ticket(self, ticket: dict[str, object]) -> None:
        if self._held():
            self.order_rejected.emit("Order entry is held while the live connection is checked (connecting…).")
            self.submission_finished.emit()
            return
        target = self._live if self._mode() is TradingMode.LIVE else self._paper
        await target.submit_ticket(ticket)  # type: ignore[attr-defined]

    @qasync.asyncSlot(str)
    async def cancel_order(self, client_order_id: str) -> None:
        """Each order is cancelled where it was placed, whatever mode is shown now."""
        if self._is_live_order(client_order_id):
            await self._live.cancel(client_order_id)  # type: ignore[attr-defined]
        else:
            await self._paper.cancel(client_order_id)  # type: ignore[attr-defined]

    @qasync.asyncSlot(str, dict)
    async def modify_order(self, client_order_id: str, values: dict[str, object]) -> None:
        """Each order is changed where it was placed, whatever mode is shown now."""
        if self._is_live_order(client_order_id):
            if self._live_change is None:
                self.change_rejected.emit({"": "Live orders can't be changed without a broker connection."})
                return
            await self._live_change.request_change(client_order_id, values)  # type: ignore[attr-defined]
        else:
            await self._paper.change(client_order_id, values)  # type: ignore[attr-defined]

    def _paper_changed(self, client_order_id: str, text: str) -> None:
        self.change_taken.emit(client_order_id)
        self.change_message.emit(text)

    @qasync.asyncSlot()
    async def cancel_all(self) -> None:
        """Cancel every open order of the current mode (the view asks first)."""
        await self.cancel_all_open()

    async def cancel_all_open(self) -> int:
        if self._mode() is TradingMode.LIVE:
            return int(await self._live.cancel_all_open())  # type: ignore[attr-defined]
        return int(await self._paper.cancel_all())  # type: ignore[attr-defined]

    # ---- positions and account of the mode in view ------------------------------------------

    @Slot(object)
    def show_mode(self, mode: TradingMode) -> None:
        if mode is self._shown:
            return
        self._shown = mode
        positions = self._positions[mode]
        self.positions_changed.emit(list(positions or []))
        account = self._accounts[mode]
        if account is not None:
            self.account_changed.emit(account)
        if mode is TradingMode.LIVE and positions is None:
            self.positions_status.emit("Live positions not read from the broker yet.")

    def _positions_of(self, mode: TradingMode, rows: list[object]) -> None:
        self._positions[mode] = list(rows)
        if mode is self._shown:
            self.positions_changed.emit(list(rows))

    def _account_of(self, mode: TradingMode, summary: AccountSummary) -> None:
        self._accounts[mode] = summary
        if mode is self._shown:
            self.account_changed.emit(summary)

    def _live_positions_status(self, text: str) -> None:
        if text.startswith("Positions unknown"):
            self._positions[TradingMode.LIVE] = None
        if self._shown is TradingMode.LIVE:
            self.positions_status.emit(text)
