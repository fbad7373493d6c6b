"""Composition root: builds every layer and wires views to controllers (``app.launch`` runs the process)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app import __version__
from app.brokers.streaming import StreamingBroker
from app.controller.audit_controller import AuditLog
from app.controller.chart_controller import ChartController
from app.controller.account_equity_controller import AccountEquityController
from app.controller.equity_controller import EquityController
from app.controller.connection_controller import ConnectionController
from app.controller.market_data_controller import MarketDataController
from app.controller.desktop_controller import DesktopController
from app.controller.fills_controller import FillsController
from app.controller.market_clock_controller import MarketClockController
from app.controller.mode_controller import TradingModeController
from app.controller.order_details_controller import OrderDetailsController
from app.controller.live_change import LiveChangeController, quantity_refusal
from app.controller.live_controller import LiveOrderController
from app.controller.live_follow import LiveFollower
from app.controller.order_router import OrderRouter
from app.controller.orders_table import OrdersTableController
from app.controller.qt_gc import QtThreadGarbageCollector
from app.controller.paper_controller import PaperTradingController
from app.controller.risk_controller import RiskController
from app.controller.vault_controller import VaultController
from app.marketdata.bars import BarSource, BrokerBars
from app.marketdata.base import QuoteSource, previous_closes
from app.marketdata.cboe_bars import CboeDelayedBars
from app.marketdata.cboe import CboeDelayedQuotes
from app.marketdata.fallback import FallbackQuotes
from app.paths import AppPaths
from app.security.api_address import API_ADDRESS_RULE
from app.security.vault_service import VaultService
from app.storage.database import open_database
from app.storage.worker import DatabaseWorker
from app.ui.live_dialogs import LiveDialogs
from app.ui.main_window import MainWindow
from app.ui.security_panel import SecurityPanel
from app.ui.vault_dialogs import VaultDialogs

@dataclass
class AppServices:
    """Everything one running app holds, so it can be shut down in order."""

    paths: AppPaths
    worker: DatabaseWorker
    quotes: QuoteSource
    paper: PaperTradingController
    mode: TradingModeController
    vault: VaultController
    connections: ConnectionController
    window: MainWindow
    orders_table: OrdersTableController
    live: LiveOrderController
    router: OrderRouter

    background: list[asyncio.Future[Any]] = field(default_factory=list)
    market: MarketDataController | None = None
    risk: RiskController | None = None
    audit: AuditLog | None = None
    charts: ChartController | None = None
    equity: EquityController | None = None
    account_equity: AccountEquityController | None = None
    bars: BarSource | None = None
    desktop: DesktopController | None = None
    market_clock: MarketClockController | None = None
    collector: QtThreadGarbageCollector | None = None
    live_change: LiveChangeController | None = None

    async def shutdown(self) -> None:
        try:
            await self._shutdown()
        finally:
            if self.collector is not None:
                self.collector.stop()

    async def _shutdown(self) -> None:
        if self.market_clock is not None:
            self.market_clock.stop()
        if self.desktop is not None:
            await self.desktop.save_layout(self.window.layout_state())
            self.window.apply_theme("system")
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        if self.market is not None:
            await self.market.stop()
        if self.charts is not None:
            await self.charts.stop()
        if self.bars is not None:
            await self.bars.close()
        await self.paper.stop()
        await self.live.follower.stop(mark=False)
        if self.account_equity is not None:
            await self.account_equity.stop()
        if self.equity is not None:
            await self.equity.flush()
        if self.risk is not None:
            await self.risk.flush()
        if self.audit is not None:
            await self.audit.flush()
        await self.connections.close()
        await self.mode.flush()
        await self.quotes.close()
        self.vault.service.close()
        await self.worker.close()


def wire_orders_table(window: MainWindow, table: OrdersTableController, sources: Sequence[Any]) -> None:
    """The orders table: journal pages from the table controller, order events from every order controller."""
    orders = window.orders_pane
    orders.filter_changed.connect(table.set_filter)
    orders.orders_model.sort_wanted.connect(table.set_sort)
    orders.orders_model.more_wanted.connect(table.fetch_more)
    table.page_loaded.connect(orders.show_page)
    table.orders_changed.connect(orders.apply_orders)
    table.orders_removed.connect(orders.remove_orders)
    table.error.connect(orders.show_message)
    for source in sources:
        source.orders_upserted.connect(table.apply)
        if hasattr(source, "journal_reset"):
            source.journal_reset.connect(table.reload_orders)


def wire(window: MainWindow, paper: PaperTradingController, mode: TradingModeController, router: OrderRouter) -> None:
    """Bind views to controllers by signals; neither side knows the other's type beyond this."""
    orders = window.orders_pane
    orders.order_submitted.connect(router.submit_ticket)
    orders.cancel_requested.connect(router.cancel_order)
    router.positions_changed.connect(orders.show_positions)
    router.account_changed.connect(orders.show_account)
    router.positions_status.connect(orders.show_message)
    router.order_rejected.connect(orders.show_message)
    router.submission_finished.connect(orders.submission_finished)
    mode.mode_changed.connect(router.show_mode)
    orders.cancel_all_requested.connect(router.cancel_all)
    paper.ticket_rejected.connect(orders.show_ticket_errors)
    paper.order_placed.connect(orders.order_accepted)
    paper.order_rejected.connect(orders.show_message)
    paper.submission_finished.connect(orders.submission_finished)
    paper.error.connect(orders.show_message)
    paper.error.connect(window.show_error)
    paper.quotes_status.connect(window.show_quotes_status)

    settings = window.settings_pane
    settings.paper_settings_submitted.connect(paper.save_settings)
    settings.paper_reset_requested.connect(paper.reset_account)
    paper.settings_changed.connect(settings.show_paper_settings)
    paper.settings_saved.connect(settings.paper_settings_saved)
    paper.settings_rejected.connect(settings.show_paper_errors)
    paper.error.connect(settings.show_message)

    window.mode_pane.mode_requested.connect(mode.request_mode)
    window.mode_pane.live_requested.connect(mode.request_live)
    mode.mode_changed.connect(window.show_mode)
    mode.view_changed.connect(window.show_mode_view)
    mode.live_availability_changed.connect(window.mode_pane.show_live_availability)
    mode.live_target_changed.connect(window.mode_pane.show_live_target)
    mode.notice.connect(window.mode_pane.show_notice)
    mode.notice.connect(window.show_error)
    mode.error.connect(window.show_error)
    mode.error.connect(window.mode_pane.show_notice)


def wire_market_data(window: MainWindow, market: MarketDataController, router: OrderRouter) -> None:
    """Quotes into the ticket and the watchlist; a chosen watchlist symbol into the ticket."""
    ticket = window.orders_pane.ticket
    ticket.symbol_edited.connect(market.lookup_ticket_symbol)
    market.ticket_quote.connect(ticket.show_quote)
    pane = window.watchlist_pane
    pane.add_requested.connect(market.add_to_watchlist)
    pane.remove_requested.connect(market.remove_from_watchlist)
    pane.move_requested.connect(market.move_in_watchlist)
    pane.list_selected.connect(market.select_watchlist)
    pane.list_created.connect(market.create_watchlist)
    pane.list_deleted.connect(market.delete_watchlist)
    pane.symbol_chosen.connect(ticket.show_symbol)
    market.watchlists_changed.connect(pane.show_lists)
    market.quote_changed.connect(pane.show_quote)
    market.watchlist_error.connect(pane.show_message)
    market.stream_status.connect(window.show_error)
    # Positions' marks are greyed with their age while their quote is stale.
    orders = window.orders_pane
    market.quote_changed.connect(orders.show_quote)
    router.positions_changed.connect(lambda views: market.subscribe("positions", [v.symbol for v in views]))
    box = window.market_settings
    box.stale_after_submitted.connect(market.set_stale_after)
    market.stale_after_changed.connect(box.show_stale_after)
    market.settings_error.connect(box.show_message)


def wire_safety(window: MainWindow, paper: PaperTradingController, risk: RiskController, audit: AuditLog) -> None:
    """Risk limits in Settings, the kill switch and HALTED badge, and the audit log pane."""
    paper.set_risk_gate(risk)
    box = window.risk_settings
    box.limits_submitted.connect(risk.save_limits)
    risk.limits_changed.connect(box.show_limits)
    risk.limits_rejected.connect(box.show_errors)
    risk.limits_saved.connect(box.show_message)

    safety = window.safety
    safety.kill_requested.connect(risk.kill_switch)
    safety.lift_requested.connect(risk.lift_halt)
    risk.halted_changed.connect(safety.show_halted)
    risk.status.connect(window.show_error)
    risk.status.connect(window.orders_pane.show_message)
    risk.error.connect(window.show_error)

    pane = window.audit_pane
    pane.filter_changed.connect(audit.load)
    pane.export_requested.connect(audit.export)
    audit.events_loaded.connect(pane.show_events)
    audit.recorded.connect(pane.add_event)
    audit.exported.connect(pane.show_message)
    audit.error.connect(pane.show_message)


def wire_charts(window: MainWindow, charts: ChartController, market: MarketDataController, paper: PaperTradingController) -> None:
    """The chart follows the watchlist's chosen symbol, its interval box, the quotes seen and the orders."""
    pane = window.chart_pane
    window.watchlist_pane.symbol_chosen.connect(charts.show_symbol)
    pane.interval_changed.connect(charts.set_interval)
    charts.chart_loaded.connect(pane.show_chart)
    charts.bar_updated.connect(pane.update_bar)
    charts.overlays_changed.connect(pane.show_overlays)
    charts.symbol_changed.connect(lambda symbol: market.subscribe("chart", [symbol]))
    market.quote_seen.connect(charts.on_quote)
    paper.orders_upserted.connect(charts.on_orders)
    paper.fills_recorded.connect(charts.on_fills)
    paper.journal_reset.connect(charts.on_journal_reset)


def wire_equity(window: MainWindow, equity: EquityController, paper: PaperTradingController) -> None:
    """The paper curve: rebuilt from the journal on fills and resets, sampled as the account is revalued."""
    equity.error.connect(window.show_error)
    paper.fills_recorded.connect(equity.on_fills)
    paper.journal_reset.connect(equity.reload_slot)
    paper.account_changed.connect(equity.on_account)


def wire_account_equity(
    window: MainWindow,
    account_equity: AccountEquityController,
    mode: TradingModeController,
    connections: ConnectionController,
    live: LiveOrderController,
) -> None:
    """The pane shows the curve of the account in use: paper's, or in live mode the broker account's."""
    pane = window.equity_pane
    account_equity.curve_loaded.connect(pane.show_curve)
    account_equity.point_added.connect(pane.add_point)
    account_equity.error.connect(window.show_error)
    mode.mode_changed.connect(account_equity.set_mode)
    connections.session_started.connect(account_equity.set_session)
    connections.disconnected.connect(account_equity.end_session)
    connections.account_verified.connect(account_equity.on_account_read)
    live.fills_recorded.connect(account_equity.on_live_fills)


def wire_changes(window: MainWindow, router: OrderRouter, live_change: LiveChangeController, dialogs: LiveDialogs) -> None:
    """Modify a working order: the orders table's dialog, routed by the order's mode, confirmed old → new when live."""
    orders = window.orders_pane
    orders.modify_requested.connect(router.modify_order)
    orders.quantity_fixed = quantity_refusal
    router.change_rejected.connect(orders.show_modify_errors)
    router.change_taken.connect(orders.modify_done)
    router.change_message.connect(orders.show_message)
    live_change.confirmation_requested.connect(dialogs.confirm_change)
    dialogs.change_confirmed.connect(live_change.confirm_change)
    dialogs.change_declined.connect(live_change.decline_change)
    live_change.message.connect(orders.show_message)
    live_change.error.connect(orders.show_message)


def wire_live(
    window: MainWindow,
    paper: PaperTradingController,
    live: LiveOrderController,
    mode: TradingModeController,
    connections: ConnectionController,
) -> LiveDialogs:
    """Live orders: confirmation dialogs, the ticket's answers, the orders table, and the connection's life."""
    orders = window.orders_pane
    dialogs = LiveDialogs(window)
    live.confirmation_requested.connect(dialogs.confirm_order)
    dialogs.order_confirmed.connect(live.confirm_order)
    dialogs.order_declined.connect(live.decline_order)
    window.mode_pane.ask_live = dialogs.confirm_live
    dialogs.live_confirmed.connect(window.mode_pane.confirm_live_answer)
    live.ticket_rejected.connect(orders.show_ticket_errors)
    live.order_placed.connect(orders.order_accepted)
    live.order_rejected.connect(orders.show_message)
    live.submission_finished.connect(orders.submission_finished)
    live.message.connect(orders.show_message)
    live.error.connect(orders.show_message)
    live.error.connect(window.show_error)
    live.fills_recorded.connect(window.notifier.fills_recorded)
    live.order_rejected.connect(window.notifier.order_rejected)

    live.entry_changed.connect(mode.set_live_availability)
    live.follower.reconciled.connect(lambda ok, reason: None if ok else mode.abandon_hold(reason))
    connections.connected.connect(mode.set_target)
    connections.session_started.connect(lambda session: connections.in_background(live.connect_session(session)))
    connections.disconnected.connect(lambda message: connections.in_background(live.disconnect_session(message)))
    connections.connection_lost.connect(mode.abandon_hold)
    connections.status_changed.connect(window.show_connection_status)
    box = window.settings_pane.connections
    box.verify_interval_submitted.connect(connections.set_verify_interval)
    connections.verify_interval_changed.connect(box.show_verify_interval)
    return dialogs


def wire_connections(
    window: MainWindow,
    connections: ConnectionController,
    vault: VaultController,
    mode: TradingModeController | None = None,
) -> None:
    box = window.settings_pane.connections
    box.set_developer_mode(connections.developer_mode)
    box.show_api_address_rule(API_ADDRESS_RULE)
    box.test_requested.connect(connections.test_and_save)
    box.remove_requested.connect(connections.remove_connection)
    connections.brokers_listed.connect(box.show_brokers)
    connections.connections_changed.connect(box.show_connections)
    connections.form_rejected.connect(box.show_form_errors)
    connections.test_started.connect(box.show_result)
    connections.test_failed.connect(box.show_failure)
    connections.connected.connect(box.show_connected)
    connections.disconnected.connect(box.show_disconnected)
    connections.error.connect(box.show_failure)
    connections.connection_state.connect(box.show_result)
    # A connection's state has its own status-bar field; the message field stays for results and errors.
    connections.connection_state.connect(window.show_connection_status)

    panel = SecurityPanel()
    window.settings_pane.add_section(panel)
    dialogs = VaultDialogs(window)
    dialogs.bind(vault)
    panel.bind(vault, dialogs)
    vault.error.connect(window.show_error)
    vault.state_changed.connect(box.show_vault_state)
    # A paper-only trader is not interrupted at start: without a secure keyring the passphrase is
    # asked for when the first credentials are saved (or from the Security panel).
    vault.passphrase_setup_offered.disconnect(dialogs.show_setup)

    def on_vault_needed(state: str, reason: str) -> None:
        if state == "setup_required":
            dialogs.show_setup(reason)
        elif state == "locked":
            dialogs.show_unlock()

    connections.vault_needed.connect(on_vault_needed)

    # Once the vault can read credentials, bring back the last verified connection.
    failures: list[str] = []
    connections.test_failed.connect(failures.append)

    async def reconnect() -> None:
        failures.clear()
        view = await connections.reconnect_saved()
        if view is None and connections.active_session is None and mode is not None:
            mode.abandon_hold(failures[-1] if failures else "no saved broker connection could be verified")

    def on_vault_state(state: str) -> None:
        if state == "ready":
            connections.in_background(reconnect())
        elif state == "setup_required" and mode is not None:
            mode.abandon_hold("no saved broker credentials are readable on this computer")

    vault.state_changed.connect(on_vault_state)


def wire_fills(
    window: MainWindow, fills: FillsController, paper: PaperTradingController, live: LiveOrderController
) -> None:
    """The Fills table: the journal's newest executions, then each one (paper or live) as it is booked."""
    pane = window.orders_pane.fills
    fills.fills_loaded.connect(pane.show_fills)
    fills.fills_added.connect(pane.add_fills)
    fills.error.connect(window.show_error)
    paper.fills_recorded.connect(fills.record_paper)
    live.fills_recorded.connect(fills.record_live)
    live.fills_corrected.connect(fills.record_live)
    paper.journal_reset.connect(fills.reload)


def wire_desktop_extras(
    window: MainWindow,
    desktop: DesktopController,
    details: OrderDetailsController,
    paper: PaperTradingController,
    connections: ConnectionController,
) -> None:
    """Order details on request, the Display settings, and desktop notifications for what must not be missed."""
    window.orders_pane.details_requested.connect(details.show_order)
    details.details_loaded.connect(window.show_order_details)
    details.error.connect(window.show_error)
    display = window.display_settings
    display.theme_chosen.connect(desktop.set_theme)
    display.time_zone_chosen.connect(desktop.set_time_zone)
    display.notifications_chosen.connect(desktop.set_notifications)
    paper.fills_recorded.connect(window.notifier.fills_recorded)
    paper.order_rejected.connect(window.notifier.order_rejected)
    connections.disconnected.connect(window.notifier.disconnected)


def wire_desktop(window: MainWindow, desktop: DesktopController, market_clock: MarketClockController) -> None:
    """Layout, theme, time zone and notifications: saved through the database worker, applied by the window."""
    desktop.layout_loaded.connect(window.restore_layout)
    desktop.preferences_changed.connect(window.show_preferences)
    desktop.error.connect(window.show_error)
    window.theme_requested.connect(desktop.set_theme)
    market_clock.clock_changed.connect(window.show_market_clock)


async def start_app(
    paths: AppPaths,
    *,
    quotes: QuoteSource | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    poll_interval: float = 5.0,
    quotes_url: str | None = None,
    developer_mode: bool = False,
    bars: BarSource | None = None,
    live_poll_interval: float = 1.0,
    window: MainWindow | None = None,
) -> AppServices:
    """Open the database (off the Qt thread), build the controllers and the window, load state.

    ``window`` is one already shown (disabled, loading) by the launcher; without it a new one is built.
    """
    worker = DatabaseWorker()
    try:
        await worker.open(lambda: open_database(paths.database, paths.backups))
    except BaseException:
        await worker.close()
        raise
    source = quotes or (CboeDelayedQuotes(base_url=quotes_url) if quotes_url else CboeDelayedQuotes())
    paper = PaperTradingController(worker, source, clock, poll_interval=poll_interval)
    market = MarketDataController(worker, source, clock, poll_interval=poll_interval)
    # An injected quote feed (tests, screenshots) runs offline: no keyless bars from the network then.
    keyless = bars or (CboeDelayedBars(base_url=quotes_url) if quotes_url else None if quotes else CboeDelayedBars())
    charts = ChartController(worker, keyless, clock, working_orders=lambda: paper.engine.open_orders)
    equity = EquityController(worker, clock)
    account_equity = AccountEquityController(worker, clock, equity)
    mode = TradingModeController(worker)
    vault = VaultController(VaultService(worker))
    audit = AuditLog(worker, clock)
    risk = RiskController(worker, audit, clock, current_mode=lambda: mode.mode)

    def use_quotes(broker_quotes: QuoteSource | None) -> None:
        chosen = FallbackQuotes(broker_quotes, source) if broker_quotes else source
        paper.set_quote_source(chosen)
        market.set_quote_source(chosen)
        broker, spec = connections.active_broker, connections.active_spec
        serves_bars = broker_quotes is not None and broker is not None and spec is not None and spec.capabilities.bars
        streams = broker_quotes is not None and spec is not None and spec.capabilities.quote_stream
        market.set_quote_stream(broker.quote_stream() if streams and isinstance(broker, StreamingBroker) else None)
        charts.set_bar_source(BrokerBars(broker, label=spec.display_name) if serves_bars and spec else keyless)

    connections = ConnectionController(
        vault.service,
        on_quote_source=use_quotes,
        on_live_availability=mode.set_live_availability,
        developer_mode=developer_mode,
        worker=worker,
    )
    follower = LiveFollower(
        worker, clock, verify=connections.verify_now, check_health=connections.check_health,
        poll_interval=live_poll_interval, previous_closes=lambda symbols: previous_closes(source, symbols),
    )
    live = LiveOrderController(follower, clock, ensure_verified=connections.ensure_verified)
    live_change = LiveChangeController(
        follower, clock, ensure_verified=connections.ensure_verified, pre_send_checks=live.pre_send_checks
    )
    router = OrderRouter(
        paper, live, lambda: mode.mode, lambda: mode.held, lambda cid: follower.order(cid) is not None or cid not in paper.engine.orders,
        live_change=live_change,
    )
    owns_window = window is None
    window = MainWindow() if window is None else window
    # A window shown before the app loaded has only what its first frame showed: the rest is built before wiring.
    window.build_hidden()
    orders_table = OrdersTableController(worker, clock)
    window.set_locations(paths.data_dir, paths.logs, __version__)
    wire(window, paper, mode, router)
    wire_orders_table(window, orders_table, [paper, live])
    wire_connections(window, connections, vault, mode)
    wire_market_data(window, market, router)
    wire_charts(window, charts, market, paper)
    wire_equity(window, equity, paper)
    wire_safety(window, paper, risk, audit)
    risk.halted_changed.connect(window.notifier.halt_changed)
    dialogs = wire_live(window, paper, live, mode, connections)
    wire_account_equity(window, account_equity, mode, connections, live)
    wire_changes(window, router, live_change, dialogs)
    # Live orders pass the same risk gate as paper; the kill switch cancels the live orders this app placed.
    live.set_risk_gate(risk)
    live_change.set_risk_gate(risk)
    live.audit_hooks.append(audit.record_live_event)
    audit.follow_connections(connections)
    audit.follow_vault(vault)
    audit.follow_mode(mode)
    # Owned by the window so their Qt timers are deleted with it, on the Qt thread.
    desktop = DesktopController(worker, parent=window)
    market_clock = MarketClockController(clock, parent=window)
    wire_desktop(window, desktop, market_clock)
    fills = FillsController(worker, parent=window)
    wire_desktop_extras(window, desktop, OrderDetailsController(worker, parent=window), paper, connections)
    wire_fills(window, fills, paper, live)
    services = AppServices(
        paths, worker, source, paper, mode, vault, connections, window, orders_table, live, router,
        market=market, risk=risk, audit=audit, charts=charts, bars=keyless, equity=equity,
    )
    services.desktop, services.market_clock = desktop, market_clock
    services.live_change = live_change
    services.account_equity = account_equity
    services.collector = QtThreadGarbageCollector()
    services.collector.start()
    try:
        await desktop.load()
        await fills.load()
        await orders_table.reload()
        await risk.start()
        await paper.start()
        await market.start()
        await equity.reload()
        await audit.query()
        await mode.load()
        await connections.load_settings()
        # Live orders left open by the last run are not followed until this run reconciles them.
        await follower.mark_not_followed()
    except BaseException:
        await services.shutdown()
        if owns_window:
            window.deleteLater()
        raise
    market_clock.start()
    mode.publish()
    connections.publish_brokers()
    connections.start_health_checks()
    # The vault opens in the background: a slow keyring must never hold up the window.
    services.background.append(vault.start())
    return services
