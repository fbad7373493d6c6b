"""Which mode the app trades in. Paper is the default and the fallback; live needs a verified, reconciled
connection and the trader's explicit confirmation (the account's last 4 typed for a real-money account).

The choice persists. After a restart in live mode, order entry is held ("connecting…") until the same
account is verified and reconciled again; if that fails the app stays in paper and says why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from app.controller.trading_views import LiveTargetView, ModeView
from app.controller.views import AccountView
from app.domain.models import TradingMode
from app.storage.settings_repository import load_trading_mode, save_trading_mode
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

NO_CONNECTION_REASON = "Live trading needs a verified broker connection. Connect your account in Settings first."
HOLD_TIMEOUT_SECONDS = 90.0


class TradingModeController(QObject):
    mode_changed = Signal(object)
    view_changed = Signal(object)
    live_availability_changed = Signal(bool, str)
    #: The account a live switch would use (``LiveTargetView``), or None without a connection.
    live_target_changed = Signal(object)
    #: Something the trader must see about the mode (fell back to paper, resumed live): kept on screen.
    notice = Signal(str)
    error = Signal(str)

    def __init__(
        self,
        worker: DatabaseWorker | None = None,
        *,
        hold_timeout: float = HOLD_TIMEOUT_SECONDS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._hold_timeout = hold_timeout
        self._mode = TradingMode.PAPER
        self._live_available = False
        self._live_reason = NO_CONNECTION_REASON
        self._target: LiveTargetView | None = None
        self._held_for: dict[str, str] | None = None
        self._hold_timer: asyncio.TimerHandle | None = None
        self._saving: set[asyncio.Task[None]] = set()
        #: Called with the new ``ModeView`` on every switch (the audit log hooks in here).
        self.switch_hooks: list[Callable[[ModeView], None]] = []

    @property
    def mode(self) -> TradingMode:
        return self._mode

    @property
    def held(self) -> bool:
        return self._held_for is not None

    @property
    def live_available(self) -> bool:
        return self._live_available

    @property
    def view(self) -> ModeView:
        if self._mode is TradingMode.LIVE and self._target is not None:
            return ModeView(TradingMode.LIVE, False, self._target.broker_name, self._target.account_last4, self._target.is_paper)
        return ModeView(TradingMode.PAPER, held=self.held)

    # ---- start-up ---------------------------------------------------------------------------

    async def load(self) -> None:
        """Restore the saved mode: live comes back held until its account is verified and reconciled."""
        if self._worker is None:
            return
        saved = await self._worker.run(load_trading_mode)
        if saved.get("mode") == TradingMode.LIVE.value:
            self._held_for = saved
            loop = asyncio.get_running_loop()
            self._hold_timer = loop.call_later(
                self._hold_timeout,
                lambda: self.abandon_hold("the broker connection could not be verified in time"),
            )
            self.notice.emit(
                f"Restarting in LIVE mode: order entry is held while connecting to {saved.get('broker_name', 'your broker')} "
                f"…{saved.get('account_last4', '')}."
            )

    def publish(self) -> None:
        self.mode_changed.emit(self._mode)
        self.view_changed.emit(self.view)
        self.live_availability_changed.emit(self._live_available, self._live_reason)
        self.live_target_changed.emit(self._target)

    # ---- connection facts -------------------------------------------------------------------

    @Slot(object)
    def set_target(self, account: AccountView | None) -> None:
        """The connected account (or None): what a live switch would trade in."""
        self._target = (
            None
            if account is None
            else LiveTargetView(
                account.broker_name, account.environment, account.account_last4, account.is_paper, account.connection_id
            )
        )
        self.live_target_changed.emit(self._target)

    def set_live_availability(self, available: bool, reason: str = "") -> None:
        """A verified, reconciled connection opens live; losing it puts the app back in paper, with a notice."""
        self._live_available = available and self._target is not None
        self._live_reason = "" if self._live_available else (reason or NO_CONNECTION_REASON)
        if self._live_available and self._held_for is not None:
            self._resume_held()
        elif not self._live_available and self._mode is TradingMode.LIVE:
            self._switch(TradingMode.PAPER)
            self.notice.emit(f"Back to PAPER: {self._live_reason}")
        self.live_availability_changed.emit(self._live_available, self._live_reason)

    def abandon_hold(self, reason: str) -> None:
        """A restart in live could not get back to the same verified account: stay in paper, say why."""
        if self._held_for is None:
            return
        self._clear_hold()
        self._switch(TradingMode.PAPER)
        self.notice.emit(f"Started in PAPER, not LIVE: {reason}.")

    def _resume_held(self) -> None:
        held = self._held_for or {}
        target = self._target
        assert target is not None
        self._clear_hold()
        if held.get("connection_id") not in ("", None, target.connection_id) or held.get(
            "account_last4"
        ) not in ("", None, target.account_last4):
            self._switch(TradingMode.PAPER)
            self.notice.emit(
                f"Started in PAPER, not LIVE: the connected account …{target.account_last4} is not the one "
                f"live trading was chosen for (…{held.get('account_last4', '')})."
            )
            return
        self._switch(TradingMode.LIVE)
        self.notice.emit(f"LIVE again on {target.broker_name} …{target.account_last4}: verified and reconciled.")

    def _clear_hold(self) -> None:
        self._held_for = None
        if self._hold_timer is not None:
            self._hold_timer.cancel()
            self._hold_timer = None

    # ---- trader's requests ------------------------------------------------------------------

    @Slot(object, bool)
    def request_mode(self, mode: TradingMode, confirmed: bool = False) -> None:
        if mode is TradingMode.PAPER:
            self.request_paper()
        elif not confirmed:
            self.error.emit("Switching to live trading needs your explicit confirmation.")
            self.view_changed.emit(self.view)
        else:
            self.request_live("")

    @Slot()
    def request_paper(self) -> None:
        self._clear_hold()
        self._switch(TradingMode.PAPER)

    @Slot(str)
    def request_live(self, typed_last4: str) -> None:
        """The trader confirmed the switch; a real-money account also needs its last 4 typed correctly."""
        target = self._target
        if not self._live_available or target is None:
            self.error.emit(self._live_reason)
        elif not target.is_paper and typed_last4.strip().upper() != target.account_last4.upper():
            self.error.emit(
                f"The digits typed don't match account …{target.account_last4}; still in {self._mode.value.upper()}."
            )
        else:
            self._clear_hold()
            self._switch(TradingMode.LIVE)
            return
        # Whatever the view showed optimistically goes back to the real mode.
        self.view_changed.emit(self.view)
        self.mode_changed.emit(self._mode)

    def _switch(self, mode: TradingMode) -> None:
        changed = mode is not self._mode
        self._mode = mode
        self.mode_changed.emit(mode)
        view = self.view
        self.view_changed.emit(view)
        if changed:
            self._save()
            for hook in self.switch_hooks:
                try:
                    hook(view)
                except Exception:
                    log.exception("A mode switch hook failed")

    def _save(self) -> None:
        if self._worker is None:
            return
        target = self._target
        value = {"mode": self._mode.value}
        if self._mode is TradingMode.LIVE and target is not None:
            value.update(
                connection_id=target.connection_id, broker_name=target.broker_name, account_last4=target.account_last4
            )
        worker = self._worker

        async def save() -> None:
            try:
                await worker.run(lambda s: save_trading_mode(s, value))
            except Exception:
                log.exception("Saving the trading mode failed")

        try:
            task = asyncio.ensure_future(save())
        except RuntimeError:
            return
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    async def flush(self) -> None:
        """Wait for pending saves (shutdown)."""
        if self._saving:
            await asyncio.gather(*list(self._saving), return_exceptions=True)
        self._clear_hold()
