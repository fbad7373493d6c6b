"""The main window: the always-visible PAPER/LIVE badge and the Orders, Trading Mode and Settings panes."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QLabel, QMainWindow, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from app.domain.models import TradingMode
from app.ui.audit_pane import AuditPane
from app.ui.mode_pane import TradingModePane
from app.ui.orders_pane import OrdersPane
from app.ui.risk_settings import RiskSettingsBox
from app.ui.safety_controls import SafetyControls
from app.ui.chart_pane import ChartPane
from app.ui.equity_pane import EquityPane
from app.ui.settings_pane import SettingsPane
from app.ui.watchlist_pane import WatchlistPane

BADGE_STYLES = {
    TradingMode.PAPER: "background: #2e6b3f; color: white; padding: 4px 12px; border-radius: 4px; font-weight: bold;",
    TradingMode.LIVE: "background: #b3261e; color: white; padding: 4px 12px; border-radius: 4px; font-weight: bold;",
}


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("TradeBridge")
        self.resize(1280, 800)
        self.badge = QLabel(objectName="mode_badge")
        self.orders_pane = OrdersPane()
        self.mode_pane = TradingModePane()
        self.settings_pane = SettingsPane()
        self.tabs = QTabWidget(objectName="main.tabs")
        self.tabs.addTab(self.orders_pane, "Orders")
        self.tabs.addTab(self.mode_pane, "Trading Mode")
        settings_scroll = QScrollArea(objectName="settings.scroll")
        settings_scroll.setWidgetResizable(True)
        settings_scroll.setWidget(self.settings_pane)
        self.tabs.addTab(settings_scroll, "Settings")
        self.risk_settings = RiskSettingsBox()
        self.settings_pane.add_section(self.risk_settings)
        self.audit_pane = AuditPane()
        self.tabs.addTab(self.audit_pane, "Audit log")

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
        self.watchlist_pane = WatchlistPane()
        watch_dock = self.add_pane_dock("watchlist", "Watchlist", self.watchlist_pane, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.resizeDocks([watch_dock], [440], Qt.Orientation.Horizontal)
        self.chart_pane = ChartPane()
        chart_dock = self.add_pane_dock("chart", "Chart", self.chart_pane, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([chart_dock], [360], Qt.Orientation.Vertical)
        self.equity_pane = EquityPane()
        equity_dock = self.add_pane_dock("equity", "Equity curve", self.equity_pane, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(chart_dock, equity_dock)
        chart_dock.raise_()
        self.quotes_status = QLabel(objectName="status.quotes")
        self.statusBar().addPermanentWidget(self.quotes_status)
        self.show_mode(TradingMode.PAPER)

    def add_pane_dock(self, name: str, title: str, pane: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """A pane in a dock the trader can move, float or close; ``name`` is its stable objectName."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock.{name}")
        dock.setWidget(pane)
        self.addDockWidget(area, dock)
        return dock

    @Slot(object)
    def show_mode(self, mode: TradingMode) -> None:
        self.badge.setText(mode.value.upper())
        self.badge.setStyleSheet(BADGE_STYLES[mode])
        self.badge.setToolTip(
            "Live: orders go to your broker with real money." if mode is TradingMode.LIVE else "Paper: simulated orders."
        )
        self.orders_pane.set_mode(mode)
        self.mode_pane.show_mode(mode)

    @Slot(str)
    def show_quotes_status(self, text: str) -> None:
        self.quotes_status.setText(text)

    @Slot(str)
    def show_error(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)
