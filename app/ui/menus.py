"""The menu bar: File, View, Trading and Help, with every shortcut shown beside its command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMenuBar

from app.ui.theme import THEME_LABELS, THEMES


def _action(
    menu: QMenu,
    name: str,
    text: str,
    slot: Callable[[], object] | None = None,
    shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
) -> QAction:
    action = QAction(text, menu)
    action.setObjectName(name)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if slot is not None:
        action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    return action


class MenuBar(QMenuBar):
    """Built over a window that provides the slots; ``actions_by_name`` finds any command by objectName."""

    def __init__(self, window: QMainWindow, host: "MenuHost") -> None:
        super().__init__(window)
        self.setObjectName("menu")
        self.file = self.addMenu("&File")
        self.file.setObjectName("menu.file")
        _action(self.file, "menu.file.export", "&Export orders to CSV…", host.export_orders, "Ctrl+E")
        _action(self.file, "menu.file.open_data_folder", "Open &data folder", host.open_data_folder)
        self.file.addSeparator()
        quit_action = _action(self.file, "menu.file.quit", "&Quit", host.close, QKeySequence.StandardKey.Quit)
        if quit_action.shortcut().isEmpty():
            quit_action.setShortcut(QKeySequence("Ctrl+Q"))

        self.view = self.addMenu("&View")
        self.view.setObjectName("menu.view")
        for number, (key, title) in enumerate(host.tab_titles(), start=1):
            _action(self.view, f"menu.view.{key}", title, lambda n=number: host.show_tab(n - 1), f"Ctrl+{number}")
        self.view.addSeparator()
        self.panes = self.view.addMenu("&Panes")
        self.panes.setObjectName("menu.view.panes")
        self.panes.aboutToShow.connect(lambda: host.fill_panes_menu(self.panes))
        self.reset_layout = _action(self.view, "menu.view.reset_layout", "&Reset pane layout", host.reset_layout)
        self.theme = self.view.addMenu("&Theme")
        self.theme.setObjectName("menu.view.theme")
        self.theme_group = QActionGroup(self.theme)
        self.theme_group.setExclusive(True)
        for theme in THEMES:
            action = _action(self.theme, f"menu.view.theme.{theme}", THEME_LABELS[theme], lambda t=theme: host.choose_theme(t))
            action.setCheckable(True)
            action.setChecked(theme == "system")
            self.theme_group.addAction(action)

        self.trading = self.addMenu("&Trading")
        self.trading.setObjectName("menu.trading")
        self.paper = _action(self.trading, "menu.trading.paper", "&Paper trading", host.choose_paper)
        self.live = _action(self.trading, "menu.trading.live", "&Live trading…", host.choose_live)
        for action in (self.paper, self.live):
            action.setCheckable(True)
        self.trading.addSeparator()
        self.trading.aboutToShow.connect(host.sync_trading_menu)

        self.help = self.addMenu("&Help")
        self.help.setObjectName("menu.help")
        _action(self.help, "menu.help.user_guide", "&User guide", host.open_user_guide, QKeySequence.StandardKey.HelpContents)
        _action(self.help, "menu.help.broker_guides", "&Broker set-up guides", host.open_broker_guides)
        _action(self.help, "menu.help.open_log_folder", "Open &log folder", host.open_log_folder)
        self.help.addSeparator()
        _action(self.help, "menu.help.about", "&About TradeBridge", host.show_about)

    def actions_by_name(self) -> dict[str, QAction]:
        found: dict[str, QAction] = {}
        for menu in self.findChildren(QMenu):
            for action in menu.actions():
                if action.objectName():
                    found[action.objectName()] = action
        return found

    def set_theme(self, theme: str) -> None:
        for action in self.theme_group.actions():
            action.setChecked(action.objectName() == f"menu.view.theme.{theme}")


class MenuHost(Protocol):
    """What the menu bar calls; the main window implements it."""

    def export_orders(self) -> None: ...
    def open_data_folder(self) -> None: ...
    def close(self) -> bool: ...
    def tab_titles(self) -> list[tuple[str, str]]: ...
    def show_tab(self, index: int) -> None: ...
    def fill_panes_menu(self, menu: QMenu) -> None: ...
    def reset_layout(self) -> None: ...
    def choose_theme(self, theme: str) -> None: ...
    def choose_paper(self) -> None: ...
    def choose_live(self) -> None: ...
    def sync_trading_menu(self) -> None: ...
    def open_user_guide(self) -> None: ...
    def open_broker_guides(self) -> None: ...
    def open_log_folder(self) -> None: ...
    def show_about(self) -> None: ...
