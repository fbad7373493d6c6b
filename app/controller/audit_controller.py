"""The audit log's controller: records events (scrubbed of secrets) through the database worker, lists and exports them.

Any controller records with ``audit.record(kind, summary, mode=..., broker=..., account_last4=...)``;
the call returns at once and the row is written in order on the database worker. Connections,
vault and mode changes are followed through their controllers' signals (``follow_*``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import qasync
from PySide6.QtCore import QObject, Signal

from app.controller.background import BackgroundTasks
from app.controller.views import AccountView, ConnectionView
from app.domain.audit import AuditEvent, AuditKind
from app.domain.models import Order, TradingMode
from app.security.redaction import redact
from app.storage.audit_repository import append_audit, audit_csv, read_audit
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

#: The live order controller's audit events, as audit kinds with what each means for the trader.
LIVE_EVENTS: dict[str, tuple[AuditKind, str]] = {
    "sent": (AuditKind.LIVE_ORDER_SENT, "Sent to the broker."),
    "answered": (AuditKind.LIVE_ORDER_SENT, "Accepted by the broker."),
    "rejected": (AuditKind.LIVE_ORDER_SENT, "Rejected by the broker."),
    "unknown": (AuditKind.LIVE_ORDER_SENT, "No answer from the broker: outcome unknown, looked up by order id, never resent."),
    "resolved": (AuditKind.LIVE_ORDER_RESOLVED, "Outcome proven by the broker."),
    "cancel_requested": (AuditKind.LIVE_ORDER_CANCELLED, "Cancel requested at the broker."),
    "change_requested": (AuditKind.LIVE_ORDER_SENT, "Change sent to the broker (values before the change)."),
    "changed": (AuditKind.LIVE_ORDER_SENT, "Change accepted by the broker (values after the change)."),
    "change_refused": (AuditKind.LIVE_ORDER_SENT, "Change refused by the broker; the order is as it was."),
    "change_unknown": (
        AuditKind.LIVE_ORDER_SENT,
        "No answer to the change: looked up by order id, never resent.",
    ),
}


class AuditLog(QObject):
    #: One event, as written (with its row id).
    recorded = Signal(object)
    #: The events matching the current filter, newest first (a new query, not a change).
    events_loaded = Signal(list)
    exported = Signal(str)
    error = Signal(str)

    def __init__(self, worker: DatabaseWorker, clock: Callable[[], datetime], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self._clock = clock
        self._pending = BackgroundTasks()
        self._connections: dict[str, ConnectionView] | None = None
        self._mode: TradingMode | None = None
        self._vault_mode: str | None = None

    # ---- recording ----------------------------------------------------------------------------

    def record(
        self,
        kind: AuditKind,
        summary: str,
        *,
        mode: TradingMode | str = "",
        broker: str = "",
        account_last4: str = "",
    ) -> None:
        """Queue one event; rows are written in the order they were recorded."""
        event = self._event(kind, summary, mode, broker, account_last4)
        self._pending.start(self._write(event))

    async def write(
        self,
        kind: AuditKind,
        summary: str,
        *,
        mode: TradingMode | str = "",
        broker: str = "",
        account_last4: str = "",
    ) -> AuditEvent | None:
        """Record one event and wait until it is on disk; None when it could not be written."""
        return await self._write(self._event(kind, summary, mode, broker, account_last4))

    def record_order(self, kind: AuditKind, order: Order, detail: str = "") -> None:
        """A live order event: what, how many, at what price, with our order id and the broker's."""
        request = order.request
        # "limit 175.00", "stop 180.00", "stop-limit stop 180.00 limit 179.50": the type names a lone price.
        price = ""
        if request.limit_price is not None and request.stop_price is not None:
            price = f" stop {request.stop_price} limit {request.limit_price}"
        elif request.limit_price is not None or request.stop_price is not None:
            price = f" {request.limit_price if request.limit_price is not None else request.stop_price}"
        text = (
            f"{request.side.value.capitalize()} {request.quantity:,} {order.symbol} "
            f"{request.order_type.value.replace('_', '-')}{price}, {order.status.value.replace('_', ' ')}; "
            f"order {order.client_order_id}"
        )
        if order.broker_order_id:
            text += f" (broker id {order.broker_order_id})"
        if detail:
            text += f". {detail}"
        self.record(kind, text, mode=order.mode, broker=order.broker, account_last4=order.account_last4)

    def record_live_event(self, event: str, order: Order) -> None:
        """The live order controller's audit hook: (event, order) from its ``audit_hooks``."""
        kind, meaning = LIVE_EVENTS.get(event, (AuditKind.LIVE_ORDER_SENT, f"{event.replace('_', ' ').capitalize()}."))
        detail = f"{meaning} {order.status_reason}" if order.status_reason and event in ("rejected", "resolved") else meaning
        self.record_order(kind, order, detail)

    async def flush(self) -> None:
        """Wait for every queued event to be written."""
        await self._pending.settle()

    def _event(
        self, kind: AuditKind, summary: str, mode: TradingMode | str, broker: str, account_last4: str
    ) -> AuditEvent:
        mode_text = mode.value if isinstance(mode, TradingMode) else str(mode)
        # The summary is ours, but it may quote a broker's message: scrub anything registered as secret.
        return AuditEvent(
            at=self._clock(),
            kind=kind,
            summary=redact(summary),
            mode=mode_text,
            broker=broker,
            account_last4=redact(account_last4)[-4:],
        )

    async def _write(self, event: AuditEvent) -> AuditEvent | None:
        try:
            written = await self._worker.run(lambda s: append_audit(s, event))
        except Exception:
            log.exception("Writing the audit log failed (%s)", event.kind.value)
            self.error.emit("An event could not be written to the audit log.")
            return None
        self.recorded.emit(written)
        return written

    # ---- reading and export -------------------------------------------------------------------

    @qasync.asyncSlot(str)
    async def load(self, text: str = "") -> None:
        await self.query(text)

    async def query(self, text: str = "") -> list[AuditEvent]:
        await self.flush()
        try:
            events = await self._worker.run(lambda s: read_audit(s, text))
        except Exception:
            log.exception("Reading the audit log failed")
            self.error.emit("The audit log could not be read.")
            return []
        self.events_loaded.emit(events)
        return events

    @qasync.asyncSlot(str, str)
    async def export(self, path: str, text: str = "") -> None:
        await self.export_csv(Path(path), text)

    async def export_csv(self, path: Path, text: str = "") -> bool:
        """Write every event matching ``text`` to a CSV file (oldest first)."""
        await self.flush()
        try:
            events = await self._worker.run(lambda s: read_audit(s, text, limit=None))
            content = audit_csv(events)
            await asyncio.to_thread(path.write_text, content, encoding="utf-8", newline="")
        except OSError as exc:
            self.error.emit(f"The audit log could not be exported to {path}: {exc.strerror or exc}.")
            return False
        except Exception:
            log.exception("Exporting the audit log failed")
            self.error.emit("The audit log could not be exported.")
            return False
        self.exported.emit(f"{len(events)} audit events exported to {path}.")
        return True

    # ---- following other controllers ----------------------------------------------------------

    def follow_connections(self, connections: QObject) -> None:
        """Connection saved, verified, failed and removed, from the connection controller's signals."""
        connections.connected.connect(self._on_connected)  # type: ignore[attr-defined]
        connections.test_failed.connect(self._on_test_failed)  # type: ignore[attr-defined]
        connections.connections_changed.connect(self._on_connections)  # type: ignore[attr-defined]
        lost = getattr(connections, "connection_lost", None)
        if lost is not None:
            lost.connect(lambda reason: self.record(AuditKind.CONNECTION_FAILED, f"Connection lost: {reason}"))

    def follow_mode(self, mode_controller: QObject) -> None:
        mode_controller.mode_changed.connect(self._on_mode)  # type: ignore[attr-defined]

    def follow_vault(self, vault: QObject) -> None:
        vault.rotation_finished.connect(self._on_rotated)  # type: ignore[attr-defined]
        vault.mode_changed.connect(self._on_vault_mode)  # type: ignore[attr-defined]
        changed = getattr(vault, "passphrase_changed", None)
        if changed is not None:
            changed.connect(lambda *_: self.record(AuditKind.PASSPHRASE_CHANGED, "The master passphrase was changed."))

    def _on_connected(self, view: AccountView) -> None:
        self.record(
            AuditKind.CONNECTION_VERIFIED,
            f"{view.broker_name} {'paper' if view.is_paper else 'live'} account verified "
            f"({view.account_type}).",
            broker=self._broker_key(view.connection_id, view.broker_name),
            account_last4=view.account_last4,
        )

    def _on_test_failed(self, message: str) -> None:
        self.record(AuditKind.CONNECTION_FAILED, message)

    def _on_connections(self, views: list[ConnectionView]) -> None:
        current = {view.id: view for view in views}
        previous, self._connections = self._connections, current
        if previous is None:
            return
        for key, view in current.items():
            if key not in previous:
                self.record(
                    AuditKind.CONNECTION_SAVED,
                    f"{view.broker_name} {view.environment} connection '{view.label}' saved.",
                    broker=view.broker,
                    account_last4=view.account_last4 or "",
                )
        for key, view in previous.items():
            if key not in current:
                self.record(
                    AuditKind.CONNECTION_REMOVED,
                    f"{view.broker_name} {view.environment} connection '{view.label}' removed with its credentials.",
                    broker=view.broker,
                    account_last4=view.account_last4 or "",
                )

    def _broker_key(self, connection_id: str, fallback: str) -> str:
        view = (self._connections or {}).get(connection_id)
        return view.broker if view is not None else fallback.lower()

    def _on_mode(self, mode: TradingMode) -> None:
        previous, self._mode = self._mode, mode
        if previous is not None and previous is not mode:
            self.record(
                AuditKind.MODE_SWITCHED,
                f"Trading mode switched from {previous.value.upper()} to {mode.value.upper()}.",
                mode=mode,
            )

    def _on_rotated(self, message: str) -> None:
        self.record(AuditKind.VAULT_KEY_ROTATED, message)

    def _on_vault_mode(self, mode: str) -> None:
        previous, self._vault_mode = self._vault_mode, mode
        if previous is not None and previous != mode and mode == "passphrase":
            self.record(AuditKind.PASSPHRASE_CHANGED, "A master passphrase now protects saved credentials.")
