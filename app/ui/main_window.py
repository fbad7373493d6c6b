"""The main window: PAPER/LIVE badge, Orders/Trading Mode/Settings tabs, docked panes, menus, status bar."""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QUrl, Signal, Slot, qVersion
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.controller.preferences import DesktopPreferences
from app.controller.trading_views import ModeView
from app.domain.models import TradingMode
from app.ui.formatting import set_display_zone
from app.ui.menus import MenuBar
from app.ui.orders_pane import OrdersPane
from app.ui.safety_controls import SafetyControls
from app.ui.status_bar import StatusFields
from app.ui.table_export import write_csv
from app.ui.theme import ThemeController

if TYPE_CHECKING:
    from app.ui.audit_pane import AuditPane
    from app.ui.chart_pane import ChartPane
    from app.ui.display_settings import DisplaySettingsBox
    from app.ui.equity_pane import EquityPane
    from app.ui.market_settings import MarketDataSettingsBox
    from app.ui.mode_pane import TradingModePane
    from app.ui.notifier import DesktopNotifier
    from app.ui.order_details import OrderDetailsDialog
    from app.ui.risk_settings import RiskSettingsBox
    from app.ui.settings_pane import SettingsPane
    from app.ui.watchlist_pane import WatchlistPane

_BADGE = "color: white; padding: 4px 12px; border-radius: 4px; font-weight: bold; background: "
BADGE_STYLES = {
    TradingMode.PAPER: _BADGE + "#2e6b3f;",
    TradingMode.LIVE: _BADGE + "#b3261e;",
}
#: PAPER green, LIVE red, LIVE · SANDBOX amber, held (restarting in live, connecting…) grey.
BADGE_KIND_STYLES = {
    "paper": _BADGE + "#2e6b3f;",
    "live": _BADGE + "#b3261e;",
    "sandbox": "color: black; padding: 4px 12px; border-radius: 4px; font-weight: bold; background: #f0a500;",
    "held": _BADGE + "#6b6b6b;",
}
_BADGE_TIPS = {
    "paper": "Paper: simulated orders, no money at risk.",
    "live": "Live: orders go to your broker with real money.",
    "sandbox": "Live routing to your broker's paper/sandbox account: the broker holds the orders, no real money.",
    "held": "Restarting in live mode: order entry is held until the connection is verified and reconciled.",
    "opening": "Loading your account, orders and settings: nothing can be entered yet.",
}
LOADING_MESSAGE = "Loading your account, orders and settings…"
TABS = (("orders", "&Orders"), ("mode", "Trading &Mode"), ("settings", "&Settings"), ("audit", "&Audit log"))
#: Where the guides live beside the package in a checkout (a packaged build bundles them alongside).
DOCS = Path(__file__).resolve().parent.parent.parent / "docs"


class MainWindow(QMainWindow):
    theme_requested = Signal(str)
    #: The trader is closing the window: the layout is saved before the app shuts down.
    layout_changed = Signal()

    def __init__(self, *, defer_hidden: bool = False) -> None:
        """The window with every tab and pane; with ``defer_hidden`` only what the first frame shows (the Orders
        tab's ticket, account, orders, positions and fills, the header, menus and status bar), the rest by
        ``build_hidden``."""
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("TradeBridge")
        self.resize(1280, 800)
        self.setMinimumSize(800, 560)
        #: Replaced in tests: opening a folder or a guide, the About box and the save-as dialog.
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        self.inform: Callable[[str, str], None] = lambda title, text: QMessageBox.about(self, title, text)
        self.ask_save_path: Callable[[str, str], str] = lambda title, name: QFileDialog.getSaveFileName(
            self, title, name, "CSV files (*.csv)"
        )[0]
        self.data_dir: Path | None = None
        self.log_dir: Path | None = None
        self.docs_dir = DOCS
        self.version = QApplication.applicationVersion() or "development"
        self._mode = TradingMode.PAPER
        self._mode_view = ModeView(TradingMode.PAPER)
        #: Taken by build_hidden once every dock is in: until then the hidden panes do not exist.
        self._default_layout: tuple[QByteArray, QByteArray] | None = None

        self.badge = QLabel(objectName="mode_badge")
        self.orders_pane = OrdersPane()
        self.tabs = QTabWidget(objectName="main.tabs")
        self.tabs.addTab(self.orders_pane, "Orders")
        # Until build_hidden puts the panes in, the other tabs hold empty pages under their titles.
        for title in ("Trading Mode", "Settings", "Audit log"):
            self.tabs.addTab(QWidget(), title)

        header = QHBoxLayout()
        title = QLabel("TradeBridge")
        title.setStyleSheet("font-size: 16px; font-weight: bold;")
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.badge)
        self.safety = SafetyControls(self, header, self.badge)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(header)
        layout.addWidget(self.tabs)
        self.setCentralWidget(central)
        self.status = StatusFields()
        self.setStatusBar(self.status)
        self.quotes_status = self.status.quotes
        self.menus = MenuBar(self, self)
        self.setMenuBar(self.menus)
        self.theme = ThemeController(QApplication.instance())  # type: ignore[arg-type]
        self.preferences = DesktopPreferences()
        self.orders_pane.export_requested.connect(self.export_table)
        self.order_details: OrderDetailsDialog | None = None
        cancel_all = QAction("&Cancel all orders…", self.menus.trading)
        cancel_all.setObjectName("menu.trading.cancel_all")
        cancel_all.setShortcut(QKeySequence("Ctrl+Shift+X"))
        cancel_all.triggered.connect(lambda _checked=False: self.orders_pane.cancel_all_button.click())
        self.add_trading_action(cancel_all)
        self.menus.trading.addSeparator()
        self.add_trading_action(self.safety.kill_action)
        self.add_trading_action(self.safety.lift_action)
        self.connection_status = self.status.connection
        self.show_mode(TradingMode.PAPER)
        self.show_mode_view(self._mode_view)
        # Choosing paper and resetting the pane layout need the mode pane and every dock: offered once built.
        self._needs_hidden = [self.menus.paper, self.menus.reset_layout]
        for action in self._needs_hidden:
            action.setEnabled(False)
        if not defer_hidden:
            self.build_hidden()

    @property
    def _hidden_built(self) -> bool:
        return self._default_layout is not None

    def build_hidden(self) -> None:
        """Build, and import, what the first frame does not show: the Trading Mode, Settings and Audit log tabs,
        the watchlist, chart and equity docks, the notifier. Called once before anything is wired to them."""
        if self._hidden_built:
            return
        from app.ui.audit_pane import AuditPane
        from app.ui.chart_pane import ChartPane
        from app.ui.display_settings import DisplaySettingsBox
        from app.ui.equity_pane import EquityPane
        from app.ui.market_settings import MarketDataSettingsBox
        from app.ui.mode_pane import TradingModePane
        from app.ui.notifier import DesktopNotifier
        from app.ui.risk_settings import RiskSettingsBox
        from app.ui.settings_pane import SettingsPane
        from app.ui.watchlist_pane import WatchlistPane

        self.mode_pane = TradingModePane()
        self.settings_pane = SettingsPane()
        settings_scroll = QScrollArea(objectName="settings.scroll")
        settings_scroll.setWidgetResizable(True)
        settings_scroll.setWidget(self.settings_pane)
        self.risk_settings = RiskSettingsBox()
        self.settings_pane.add_section(self.risk_settings)
        self.display_settings = DisplaySettingsBox()
        self.settings_pane.add_section(self.display_settings)
        self.market_settings = MarketDataSettingsBox()
        self.settings_pane.add_section(self.market_settings)
        self.audit_pane = AuditPane()
        current = self.tabs.currentIndex()
        for index, page in enumerate((self.mode_pane, settings_scroll, self.audit_pane), start=1):
            title, empty = self.tabs.tabText(index), self.tabs.widget(index)
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, page, title)
            empty.deleteLater()
        self.tabs.setCurrentIndex(current)
        self.watchlist_pane = WatchlistPane()
        self.add_pane_dock("watchlist", "Watchlist", self.watchlist_pane, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.chart_pane = ChartPane()
        chart_dock = self.add_pane_dock("chart", "Chart", self.chart_pane, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.equity_pane = EquityPane()
        equity_dock = self.add_pane_dock("equity", "Equity curve", self.equity_pane, Qt.DockWidgetArea.BottomDockWidgetArea)
        # The plots (pyqtgraph, numpy) are built the first time their dock is in view, not with the window.
        chart_dock.visibilityChanged.connect(self._chart_in_view)
        equity_dock.visibilityChanged.connect(self._equity_in_view)
        self.notifier = DesktopNotifier(self)
        self._default_layout = (self.saveState(), self.orders_pane.saveState())
        for action in self._needs_hidden:
            action.setEnabled(True)
        self.mode_pane.show_mode(self._mode)
        self.mode_pane.show_mode_view(self._mode_view)
        self.sync_trading_menu()

    # ---- state shown -------------------------------------------------------------------------

    def show_loading(self) -> None:
        """Shown before the app's state is loaded: nothing takes input, and the badge claims no mode yet."""
        self.setEnabled(False)
        self.badge.setText("Opening…")
        self.badge.setStyleSheet(BADGE_KIND_STYLES["held"])
        self.badge.setToolTip(_BADGE_TIPS["opening"])
        # The ticket's mode line is replaced with the mode's own once it is loaded (show_mode_view).
        self.orders_pane.ticket.mode_label.setText("Order entry opens once your account is loaded.")
        self.orders_pane.ticket.mode_label.setStyleSheet("color: #6b6b6b; font-weight: bold;")
        self.status.show_message(LOADING_MESSAGE)

    def show_loaded(self) -> None:
        """Everything is wired and loaded (the badge already shows the mode): the window takes input."""
        self.setEnabled(True)
        # The live menu item follows the mode pane's button, which read as disabled while the window was.
        self.sync_trading_menu()
        if self.status.message.text() == LOADING_MESSAGE:
            self.status.show_message("")

    def add_pane_dock(self, name: str, title: str, pane: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """A pane in a dock of the Orders tab (``dock.<name>``), stacked with the positions at first so
        every pane fits an 800x600 window; the trader moves it anywhere from there."""
        del area  # the first place is the stack; the saved layout remembers where the trader put it
        return self.orders_pane.add_pane(name, title, pane, stack_with="positions")

    @Slot(bool)
    def _chart_in_view(self, shown: bool) -> None:
        # Only while the window is up: a dock whose tab comes to the front as the window is torn down builds nothing.
        if shown and self.isVisible():
            self.chart_pane.plot  # noqa: B018 - builds it

    @Slot(bool)
    def _equity_in_view(self, shown: bool) -> None:
        if shown and self.isVisible():
            self.equity_pane.plot  # noqa: B018 - builds it

    def pane_docks(self) -> list[QDockWidget]:
        """Every dockable pane: the window's own and the Orders tab's (ticket, orders, positions, …)."""
        own = [d for d in self.findChildren(QDockWidget) if d.parent() is self]
        return own + list(self.orders_pane.panes.values())

    @Slot(object)
    def show_mode(self, mode: TradingMode) -> None:
        self._mode = mode
        self.badge.setText(mode.value.upper())
        self.badge.setStyleSheet(BADGE_STYLES[mode])
        self.badge.setToolTip(
            "Live: orders go to your broker with real money." if mode is TradingMode.LIVE else "Paper: simulated orders."
        )
        self.orders_pane.set_mode(mode)
        if self._hidden_built:
            self.mode_pane.show_mode(mode)
        self.sync_trading_menu()

    @Slot(object)
    def show_preferences(self, preferences: DesktopPreferences) -> None:
        self.preferences = preferences
        self.apply_theme(preferences.theme)
        set_display_zone(preferences.time_zone)
        self.display_settings.show_preferences(preferences)
        self.notifier.set_enabled(preferences.notifications)
        # Times are formatted when painted: repainting the tables shows them in the new zone.
        for table in self.findChildren(QTableView):
            table.viewport().update()

    def apply_theme(self, theme: str) -> None:
        self.theme.apply(theme)
        self.menus.set_theme(self.theme.current)

    @Slot(object)
    def show_order_details(self, history: object) -> None:
        """One details window, reused: it shows the order asked for last and stays open beside the tables."""
        if self.order_details is None:
            # Built, and its module imported, the first time an order's details are asked for.
            from app.ui.order_details import OrderDetailsDialog

            self.order_details = OrderDetailsDialog(self)
        self.order_details.show_history(history)  # type: ignore[arg-type]
        self.order_details.show()
        self.order_details.activateWindow()

    @Slot(object)
    def show_mode_view(self, view: ModeView) -> None:
        """Badge, title, ticket line and mode pane say the same thing: paper, live (which account), sandbox or held."""
        self._mode_view = view
        self.badge.setText(view.badge)
        self.badge.setStyleSheet(BADGE_KIND_STYLES[view.kind])
        self.badge.setToolTip(_BADGE_TIPS[view.kind])
        self.setWindowTitle(view.title)
        self.orders_pane.set_mode(view.mode)
        self.orders_pane.ticket.show_mode_view(view)
        if self._hidden_built:
            self.mode_pane.show_mode_view(view)

    @Slot(str)
    def show_connection_status(self, text: str) -> None:
        self.status.show_connection(text)
        self.mode_pane.show_connection(text)

    @Slot(str)
    def show_quotes_status(self, text: str) -> None:
        self.status.show_quotes(text)

    @Slot(str)
    def show_market_clock(self, text: str) -> None:
        self.status.show_market_clock(text)

    @Slot(str)
    def show_error(self, text: str) -> None:
        self.status.show_message(text)

    def set_locations(self, data_dir: Path, log_dir: Path, version: str) -> None:
        self.data_dir, self.log_dir, self.version = data_dir, log_dir, version

    def add_trading_action(self, action: object) -> None:
        """Commands other parts add to the Trading menu (e.g. cancel all, the kill switch)."""
        self.menus.trading.addAction(action)  # type: ignore[arg-type]

    # ---- layout ------------------------------------------------------------------------------

    def layout_state(self) -> dict[str, str]:
        """Window geometry and the pane arrangement, as text for the settings store."""
        return {
            "geometry": _text(self.saveGeometry()),
            "window": _text(self.saveState()),
            "panes": _text(self.orders_pane.saveState()),
            "tab": str(self.tabs.currentIndex()),
        }

    def restore_layout(self, state: dict[str, str]) -> None:
        """Put the window and panes back where the trader left them; anything unreadable keeps the default."""
        if state.get("geometry"):
            self.restoreGeometry(_bytes(state["geometry"]))
        if state.get("window"):
            self.restoreState(_bytes(state["window"]))
        if state.get("panes") and self.orders_pane.restoreState(_bytes(state["panes"])):
            self.orders_pane.mark_arranged()
        tab = state.get("tab", "")
        if tab.isdigit() and int(tab) < self.tabs.count():
            self.tabs.setCurrentIndex(int(tab))

    def reset_layout(self) -> None:
        if self._default_layout is None:
            return
        window, panes = self._default_layout
        self.restoreState(window)
        self.orders_pane.restoreState(panes)
        for dock in self.pane_docks():
            dock.setFloating(False)
            dock.show()

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        self.layout_changed.emit()
        super().closeEvent(event)  # type: ignore[arg-type]

    # ---- menu commands -----------------------------------------------------------------------

    def tab_titles(self) -> list[tuple[str, str]]:
        return list(TABS)

    def show_tab(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)

    def fill_panes_menu(self, menu: QMenu) -> None:
        menu.clear()
        for dock in self.pane_docks():
            menu.addAction(dock.toggleViewAction())

    def choose_theme(self, theme: str) -> None:
        self.menus.set_theme(theme)
        self.theme_requested.emit(theme)

    def choose_paper(self) -> None:
        if not self._hidden_built:
            return
        self.mode_pane.paper.click()
        self.sync_trading_menu()

    def choose_live(self) -> None:
        if not self._hidden_built:
            return
        self.mode_pane.live.click()
        self.sync_trading_menu()

    def sync_trading_menu(self) -> None:
        self.menus.paper.setChecked(self._mode is TradingMode.PAPER)
        self.menus.live.setChecked(self._mode is TradingMode.LIVE)
        if not self._hidden_built:
            # Live trading is offered once the mode pane, which says whether it can be, is built and loaded.
            self.menus.live.setEnabled(False)
            return
        self.menus.live.setEnabled(self.mode_pane.live.isEnabled() or self._mode is TradingMode.LIVE)
        self.menus.live.setToolTip(self.mode_pane.live_reason.text())

    def export_orders(self) -> None:
        self.export_table(self.orders_pane.orders_table.model(), "orders")

    def export_table(self, model: object, name: str) -> None:
        path = self.ask_save_path("Export to CSV", f"tradebridge-{name}.csv")
        if not path:
            return
        try:
            rows = write_csv(model, Path(path))  # type: ignore[arg-type]
        except OSError as exc:
            self.show_error(f"Could not write {path}: {exc.strerror or exc}.")
            return
        self.show_error(f"Exported {rows} row{'s' if rows != 1 else ''} to {path}.")

    def _open(self, path: Path | None, what: str) -> None:
        if path is None or not path.exists():
            self.show_error(f"The {what} is not available on this installation.")
            return
        self.open_url(QUrl.fromLocalFile(str(path)))

    def open_data_folder(self) -> None:
        self._open(self.data_dir, "data folder")

    def open_log_folder(self) -> None:
        self._open(self.log_dir, "log folder")

    def open_user_guide(self) -> None:
        self._open(self.docs_dir / "user-guide.md", "user guide")

    def open_broker_guides(self) -> None:
        self._open(self.docs_dir / "brokers" / "README.md", "broker guide")

    def about_text(self) -> str:
        return (
            f"<b>TradeBridge {self.version}</b><br>"
            "Desktop trading: paper trading out of the box, live trading through your own broker account.<br><br>"
            f"Data folder: {self.data_dir or '—'}<br>"
            f"Logs: {self.log_dir or '—'}<br><br>"
            f"Qt {qVersion()}, Python {platform.python_version()}, {platform.system()}"
        )

    def show_about(self) -> None:
        self.inform("About TradeBridge", self.about_text())


def _text(state: QByteArray) -> str:
    return bytes(state.toBase64().data()).decode("ascii")


def _bytes(text: str) -> QByteArray:
    return QByteArray.fromBase64(text.encode("ascii"))
