"""Broker connections: test before saving, save through the vault, keep one active connection.

A connection is saved only after ``verify()`` succeeded with exactly the credentials that are
saved. The active connection's market data replaces the delayed quotes of paper trading; losing
it (disconnect, failed verification) falls back to them and keeps the app in paper.

Health: the active connection is verified again every ``verify_interval`` minutes and before a live
order when the last verification is older than a minute. A failed verification is a fact, not a
guess: the connection goes to error with the broker's reason and the time, is dropped (live entry
closes, the app returns to paper) and is retried on the same interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

import qasync
from PySide6.QtCore import QObject, Signal

from app.brokers.base import AccountInfo, Broker, BrokerError, BrokerSpec, Environment
from app.brokers.registry import connector_factory, get_spec, specs
from app.controller.live_views import LiveSession
from app.controller.views import AccountView, BrokerFormView, ConnectionView, FieldView
from app.marketdata.base import QuoteSource
from app.marketdata.broker_quotes import BrokerQuoteSource
from app.security.api_address import api_address_problem
from app.security.credentials import ACCOUNT_FIELDS, Credentials
from app.security.keystore import KeyStoreError
from app.security.redaction import register_account_number, register_secret
from app.security.vault import VaultError
from app.security.vault_service import ConnectionStatus, CredentialState, VaultService, VaultState
from app.storage.connections_repository import ConnectionDraft, ConnectionRecord
from app.storage.settings_repository import load_verify_interval, save_verify_interval
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

VERIFY_TIMEOUT_SECONDS = 30.0


def broker_form(spec: BrokerSpec) -> BrokerFormView:
    return BrokerFormView(
        key=spec.key,
        display_name=spec.display_name,
        fields=tuple(
            FieldView(f.name, f.label, f.secret, f.help, f.default, f.required, f.choices) for f in spec.fields
        ),
        environments=tuple(e.value for e in spec.environments),
        docs=spec.docs,
    )


class ConnectionController(QObject):
    brokers_listed = Signal(list)
    connections_changed = Signal(list)
    form_rejected = Signal(dict)
    test_started = Signal(str)
    test_failed = Signal(str)
    connected = Signal(object)
    disconnected = Signal(str)
    connection_state = Signal(str)
    #: The verified account live orders may go to; emitted after ``connected``.
    session_started = Signal(object)
    #: The active account was verified again (``LiveSession`` with the balances just read).
    account_verified = Signal(object)
    #: One line for the status bar: connected and when last verified, or the error and when it happened.
    status_changed = Signal(str)
    #: The active connection failed (broker's reason and time); live entry is closed.
    connection_lost = Signal(str)
    verify_interval_changed = Signal(int)
    #: The vault must be set up ("setup_required") or unlocked ("locked") before credentials can be saved.
    vault_needed = Signal(str, str)
    error = Signal(str)

    def __init__(
        self,
        vault: VaultService,
        *,
        on_quote_source: Callable[[QuoteSource | None], None],
        on_live_availability: Callable[[bool, str], None],
        developer_mode: bool = False,
        worker: DatabaseWorker | None = None,
        verify_interval_minutes: int = 5,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._vault = vault
        self._on_quote_source = on_quote_source
        self._on_live_availability = on_live_availability
        self.developer_mode = developer_mode
        self._active: tuple[ConnectionRecord, Broker, AccountInfo] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._background: set[asyncio.Task[object]] = set()
        self._lock = asyncio.Lock()
        self._worker = worker
        self.verify_interval_minutes = max(1, verify_interval_minutes)
        self._verified_at = 0.0
        self._verify_lock = asyncio.Lock()
        self._health_task: asyncio.Task[None] | None = None
        self._checking_health = False
        self._health_wake = asyncio.Event()
        self._lost_connection_id: str | None = None

    @property
    def active_broker(self) -> Broker | None:
        return self._active[1] if self._active else None

    @property
    def active_session(self) -> LiveSession | None:
        if self._active is None:
            return None
        record, broker, info = self._active
        return LiveSession(broker, record.broker, _display_name(record.broker), record.environment, info)

    @property
    def active_spec(self) -> BrokerSpec | None:
        """The registry entry of the connected broker (its capabilities), or None."""
        return get_spec(self._active[0].broker) if self._active else None

    def publish_brokers(self) -> None:
        self.brokers_listed.emit([broker_form(spec) for spec in specs().values()])

    async def refresh(self) -> list[ConnectionView]:
        try:
            statuses = await self._vault.connections()
        except (VaultError, KeyStoreError) as exc:
            self.error.emit(str(exc))
            return []
        views = [self._view(status) for status in statuses]
        self.connections_changed.emit(views)
        return views

    def _view(self, status: ConnectionStatus) -> ConnectionView:
        record = status.record
        name = _display_name(record.broker)
        return ConnectionView(
            id=record.id,
            broker=record.broker,
            broker_name=name,
            environment=record.environment,
            label=record.label,
            account_last4=record.account_last4,
            account_type=record.account_type,
            credentials_message=status.message,
            credentials_state=status.credentials.value,
            base_url_override=record.base_url_override,
            saved_fields=record.saved_fields,
            verified=record.verified_at is not None,
            active=self._active is not None and self._active[0].id == record.id,
        )

    # ---- test and save --------------------------------------------------------------------------

    @qasync.asyncSlot(dict)
    async def test_and_save(self, form: dict[str, object]) -> None:
        await self.connect(form)

    async def connect(self, form: Mapping[str, object]) -> AccountView | None:
        """Verify the form's credentials with the broker; save and activate only if that worked."""
        async with self._lock:
            try:
                spec = get_spec(str(form.get("broker", "")))
            except KeyError as exc:
                self.form_rejected.emit({"broker": str(exc.args[0])})
                return None
            fields = {str(k): str(v).strip() for k, v in dict(form.get("fields", {})).items()}  # type: ignore[call-overload]
            for field in spec.fields:
                if field.secret and fields.get(field.name):
                    register_secret(fields[field.name])
                elif field.name in ACCOUNT_FIELDS and fields.get(field.name):
                    register_account_number(fields[field.name])
            connection_id = str(form.get("connection_id") or "") or None
            environment_text = str(form.get("environment", ""))
            label = str(form.get("label") or "").strip() or f"{spec.display_name} {environment_text}"
            base_url = str(form.get("base_url") or "").strip() or None
            if base_url and not self.developer_mode:
                self.form_rejected.emit({"base_url": "A custom API address is a developer setting."})
                return None
            if base_url and (address_problem := api_address_problem(base_url)):
                self.form_rejected.emit({"base_url": address_problem})
                return None
            try:
                environment = Environment(environment_text)
            except ValueError:
                self.form_rejected.emit({"environment": "Choose paper or live."})
                return None
            if environment not in spec.environments:
                self.form_rejected.emit({"environment": f"{spec.display_name} has no {environment.value} environment."})
                return None

            vault = self._vault.status
            if vault.state in (VaultState.SETUP_REQUIRED, VaultState.LOCKED):
                self.vault_needed.emit(vault.state.value, vault.message)
                self.test_failed.emit(
                    "Saved credentials need a master passphrase on this computer (no secure system keyring); "
                    "set it up, then test again. Nothing was sent to the broker."
                    if vault.state is VaultState.SETUP_REQUIRED
                    else "Unlock your saved credentials first, then test again. Nothing was sent to the broker."
                )
                return None
            credentials = dict(fields)
            reentering = False
            if connection_id:
                saved = await self._saved_credentials(connection_id)
                if saved is None:
                    return None
                reentering = not saved
                credentials = {**saved, **{k: v for k, v in fields.items() if v}}
            missing = {
                f.name: f"{f.label} is required."
                for f in spec.fields
                if f.required and not credentials.get(f.name) and not f.default
            }
            if missing:
                self.form_rejected.emit(missing)
                if reentering:
                    self.test_failed.emit(
                        "The saved credentials of this connection can't be read: enter all of them again. "
                        "Nothing was sent to the broker."
                    )
                return None
            try:
                # Said before anything goes to the broker: verified credentials that can't be saved help no one.
                await self._vault.ready_to_save()
            except (VaultError, KeyStoreError) as exc:
                self.test_failed.emit(f"{exc} Nothing was sent to the broker.")
                return None
            for field in spec.fields:
                credentials.setdefault(field.name, field.default)

            self.test_started.emit(f"Testing the connection to {spec.display_name}…")
            try:
                factory = await connector_factory(spec)
            except ImportError as exc:
                log.error("The %s connector can't be imported", spec.display_name, exc_info=True)
                self.test_failed.emit(
                    f"{spec.display_name} can't be used: part of TradeBridge is missing ({exc.name or exc}). "
                    "Reinstalling TradeBridge fixes this; nothing was sent to the broker."
                )
                return None
            broker = factory(credentials, environment, base_url=base_url)
            try:
                info = await asyncio.wait_for(broker.verify(), VERIFY_TIMEOUT_SECONDS)
            except (BrokerError, asyncio.TimeoutError) as exc:
                await broker.close()
                message = str(exc) or f"{spec.display_name} did not answer within {VERIFY_TIMEOUT_SECONDS:.0f} seconds."
                log.warning("Connection test to %s failed: %s", spec.display_name, message)
                self.test_failed.emit(f"Connection test failed; nothing was saved. {message}")
                return None
            # Only the last four digits of an account number are shown anywhere, logs included.
            register_account_number(info.account_number)
            if connection_id is None:
                # The same account added again after its key was lost: its row takes the new credentials.
                connection_id = await self._vault.reentry_target(spec.key, environment.value, info.account_last4)
            draft = ConnectionDraft(
                broker=spec.key, environment=environment.value, label=label, base_url_override=base_url, id=connection_id
            )
            try:
                public = [f.name for f in spec.fields if not f.secret]
                record = await self._vault.save_connection(draft, Credentials(credentials, public=public))
                record = await self._vault.mark_verified(record.id, info.account_number, info.account_type.value)
            except (VaultError, KeyStoreError) as exc:
                await broker.close()
                self.test_failed.emit(f"The connection works but could not be saved: {exc}")
                return None
            view = await self._activate(record, broker, info, spec)
        await self.refresh()
        return view

    async def _saved_credentials(self, connection_id: str) -> dict[str, str] | None:
        """The saved values; empty when they can't be read (a lost key) and must all be entered again."""
        try:
            saved = await self._vault.readable_credentials(connection_id)
        except (VaultError, KeyStoreError) as exc:
            self.test_failed.emit(str(exc))
            return None
        return dict(saved.items()) if saved is not None else {}

    async def _activate(self, record: ConnectionRecord, broker: Broker, info: AccountInfo, spec: BrokerSpec) -> AccountView:
        previous = self._active
        self._drop_listener()
        self._active = (record, broker, info)
        if previous is not None:
            await previous[1].close()
        self._follow_connection_state(broker)
        delayed = info.is_paper and spec.key in ("tradier", "tastytrade")
        self._on_quote_source(BrokerQuoteSource(broker, delayed=delayed))
        view = AccountView(
            connection_id=record.id,
            broker_name=spec.display_name,
            environment=record.environment,
            account_last4=info.account_last4,
            account_type=info.account_type_label or info.account_type.value,
            buying_power=info.buying_power,
            cash=info.cash,
            equity=info.equity,
            is_paper=info.is_paper,
        )
        self._verified_at = time.monotonic()
        self._lost_connection_id = None
        self._on_live_availability(False, f"{view.headline}. Checking your orders and positions before live trading…")
        self.connected.emit(view)
        self._publish_status()
        session = self.active_session
        if session is not None:
            self.session_started.emit(session)
        return view

    # ---- reconnect at start, disconnect --------------------------------------------------------

    def in_background(self, work: Awaitable[object]) -> None:
        """Run ``work`` on the loop, keeping a reference so the task can't be collected mid-flight."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def reconnect_saved(self) -> AccountView | None:
        """At start: verify the most recently verified connection whose credentials are readable."""
        if self._active is not None:
            return None
        views = await self.refresh()
        candidates = [v for v in views if v.verified and v.credentials_state == CredentialState.SAVED.value]
        if not candidates:
            return None
        chosen = candidates[0]
        return await self.connect(
            {"broker": chosen.broker, "environment": chosen.environment, "label": chosen.label,
             "connection_id": chosen.id, "fields": {}, "base_url": chosen.base_url_override or ""}
        )

    @qasync.asyncSlot(str)
    async def remove_connection(self, connection_id: str) -> None:
        await self.remove(connection_id)

    async def remove(self, connection_id: str) -> None:
        """Forget a connection and its credentials; if it was active, go back to paper quotes."""
        async with self._lock:
            if self._active is not None and self._active[0].id == connection_id:
                await self._deactivate("Disconnected. Paper trading uses delayed quotes again.")
            if self._lost_connection_id == connection_id:
                self._lost_connection_id = None
            try:
                await self._vault.delete_connection(connection_id)
                if self._worker is not None:
                    # Deleted credentials must not linger in the write-ahead log or free pages.
                    await self._worker.call(self._worker.database.checkpoint)
            except (VaultError, KeyStoreError) as exc:
                self.error.emit(str(exc))
        await self.refresh()

    @qasync.asyncSlot()
    async def disconnect_active(self) -> None:
        await self.disconnect()

    async def disconnect(self) -> None:
        """Drop the active connection (kept saved); paper trading goes back to delayed quotes."""
        async with self._lock:
            if self._active is not None:
                await self._deactivate("Disconnected. Paper trading uses delayed quotes again.")
        await self.refresh()

    def _follow_connection_state(self, broker: Broker) -> None:
        """Brokers with a live session (IBKR) report drops and reconnects; show them as they happen."""
        subscribe = getattr(broker, "add_connection_listener", None)
        if subscribe is None:
            return

        def on_event(event: object) -> None:
            state = getattr(getattr(event, "state", None), "value", "")
            self.connection_state.emit(str(getattr(event, "message", "")) or state)
            if state == "failed" and self._active is not None and self._active[1] is broker:
                self.in_background(self._lose(broker, str(getattr(event, "message", "")) or "the session ended"))

        self._unsubscribe = subscribe(on_event)

    def _drop_listener(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def _deactivate(self, message: str, reason: str = "") -> None:
        assert self._active is not None
        self._drop_listener()
        _record, broker, _info = self._active
        self._active = None
        self._on_quote_source(None)
        self._on_live_availability(False, reason)
        try:
            await broker.close()
        finally:
            self.disconnected.emit(message)
            self._publish_status(message if reason else "")

    # ---- health ------------------------------------------------------------------------------

    def start_health_checks(self) -> None:
        """Verify the active connection every ``verify_interval_minutes``; retry a lost one as often."""
        if self._health_task is None:
            self._checking_health = True
            self._health_task = asyncio.ensure_future(self._health_forever())

    async def load_settings(self) -> None:
        if self._worker is None:
            return
        minutes = await self._worker.run(load_verify_interval)
        self.verify_interval_minutes = minutes
        self.verify_interval_changed.emit(minutes)

    @qasync.asyncSlot(int)
    async def set_verify_interval(self, minutes: int) -> None:
        await self.apply_verify_interval(minutes)

    async def apply_verify_interval(self, minutes: int) -> bool:
        if minutes < 1:
            self.error.emit("Verify the connection at least every minute (1 or more).")
            self.verify_interval_changed.emit(self.verify_interval_minutes)
            return False
        if self._worker is not None:
            await self._worker.run(lambda s: save_verify_interval(s, minutes))
        self.verify_interval_minutes = minutes
        self._health_wake.set()
        self.verify_interval_changed.emit(minutes)
        return True

    async def _health_forever(self) -> None:
        while self._checking_health:
            self._health_wake.clear()
            try:
                await asyncio.wait_for(self._health_wake.wait(), self.verify_interval_minutes * 60.0)
                continue
            except asyncio.TimeoutError:
                pass
            try:
                if self._active is not None:
                    await self.check_health()
                elif self._lost_connection_id is not None:
                    await self.reconnect_saved()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Connection health check failed")

    async def check_health(self) -> bool:
        """Verify the active connection now; False (and the connection dropped) if the broker fails."""
        try:
            await self.verify_now()
        except BrokerError:
            return False
        return self._active is not None

    async def ensure_verified(self, max_age_seconds: float) -> AccountInfo:
        """The account, verified within ``max_age_seconds``; raises ``BrokerError`` if that fails."""
        if self._active is None:
            raise BrokerError("No broker connection.")
        if time.monotonic() - self._verified_at <= max_age_seconds:
            return self._active[2]
        return await self.verify_now()

    async def verify_now(self) -> AccountInfo:
        """Verify the active connection; a failure drops it with the broker's reason and the time."""
        async with self._verify_lock:
            active = self._active
            if active is None:
                raise BrokerError("No broker connection.")
            record, broker, _info = active
            try:
                info = await asyncio.wait_for(broker.verify(), VERIFY_TIMEOUT_SECONDS)
            except (BrokerError, asyncio.TimeoutError) as exc:
                reason = str(exc) or f"no answer within {VERIFY_TIMEOUT_SECONDS:.0f} seconds"
                await self._lose(broker, reason)
                raise BrokerError(reason) from exc
            if self._active is not None and self._active[1] is broker:
                self._active = (record, broker, info)
                self._verified_at = time.monotonic()
                self._publish_status()
                self.account_verified.emit(self.active_session)
            return info

    async def _lose(self, broker: Broker, reason: str) -> None:
        if self._active is None or self._active[1] is not broker:
            return
        record = self._active[0]
        name = _display_name(record.broker)
        at = datetime.now(UTC).astimezone()
        message = f"Connection error: {name} failed verification at {at:%H:%M:%S} — {reason}"
        log.warning("%s", message)
        self._lost_connection_id = record.id
        await self._deactivate(message, f"{message}. Live trading is blocked until the connection works again.")
        self.connection_lost.emit(message)

    def _publish_status(self, error: str = "") -> None:
        if self._active is not None:
            record, _broker, info = self._active
            kind = "paper" if info.is_paper else "LIVE"
            at = datetime.now(UTC).astimezone()
            self.status_changed.emit(
                f"Connected: {_display_name(record.broker)} {kind} …{info.account_last4}, verified {at:%H:%M:%S}"
            )
        else:
            self.status_changed.emit(error or "No broker connected")

    async def close(self) -> None:
        # Off before the cancel: its wait_for can swallow a cancellation (Python 3.11), the flag can't be missed.
        self._checking_health = False
        if self._health_task is not None:
            self._health_task.cancel()
            await asyncio.gather(self._health_task, return_exceptions=True)
            self._health_task = None
        pending = list(self._background)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._drop_listener()
        if self._active is not None:
            await self._active[1].close()
            self._active = None



def _display_name(broker_key: str) -> str:
    try:
        return get_spec(broker_key).display_name
    except KeyError:
        return broker_key
