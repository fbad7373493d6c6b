"""The kill switch (toolbar and Ctrl+Shift+K), the HALTED badge beside the mode badge, and lifting the halt."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QBoxLayout, QLabel, QMainWindow, QToolBar, QWidget

from app.ui.confirm import ask_confirmation

KILL_SHORTCUT = "Ctrl+Shift+K"
HALTED_STYLE = "background: #000; color: #ffcc00; padding: 4px 12px; border-radius: 4px; font-weight: bold;"


class SafetyControls(QObject):
    """Kill acts at once, without a question (it is the panic button); lifting the halt asks first."""

    kill_requested = Signal()
    lift_requested = Signal()

    def __init__(self, window: QMainWindow, header: QBoxLayout, mode_badge: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("safety")
        # Asks over the window without holding it: the window must stay out of reference cycles so it is
        # freed on the Qt thread, never by the garbage collector on another one.
        self.confirm: Callable[[str, str], bool] = lambda title, text: ask_confirmation(
            self._window(), title, text
        )
        self.kill_action = QAction("Kill switch", window)
        self.kill_action.setObjectName("kill_switch")
        self.kill_action.setShortcut(QKeySequence(KILL_SHORTCUT))
        self.kill_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.kill_action.setToolTip(
            f"Kill switch ({KILL_SHORTCUT}): cancel every open order of the current mode and halt new orders now."
        )
        self.lift_action = QAction("Lift halt…", window)
        self.lift_action.setObjectName("lift_halt")
        self.lift_action.setToolTip("Accept new orders again (asks first).")
        self.lift_action.setVisible(False)
        self.toolbar = QToolBar("Safety", window)
        self.toolbar.setObjectName("toolbar.safety")
        self.toolbar.setMovable(False)
        self.toolbar.addAction(self.kill_action)
        self.toolbar.addAction(self.lift_action)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        kill_button = self.toolbar.widgetForAction(self.kill_action)
        if kill_button is not None:
            kill_button.setObjectName("kill_switch.button")
            kill_button.setStyleSheet("background: #b3261e; color: white; font-weight: bold; padding: 4px 10px;")

        self.halted_badge = QLabel("HALTED", objectName="halted_badge")
        self.halted_badge.setStyleSheet(HALTED_STYLE)
        self.halted_badge.hide()
        header.insertWidget(header.indexOf(mode_badge) + 1, self.halted_badge)

        self.kill_action.triggered.connect(self.kill_requested)
        self.lift_action.triggered.connect(self._ask_lift)

    def _window(self) -> QWidget | None:
        parent = self.parent()
        return parent if isinstance(parent, QWidget) else None

    @Slot(bool, str)
    def show_halted(self, halted: bool, reason: str) -> None:
        self.halted_badge.setVisible(halted)
        self.halted_badge.setToolTip(f"New orders are refused: {reason}." if halted else "")
        self.lift_action.setVisible(halted)

    def _ask_lift(self) -> None:
        if self.confirm(
            "Lift the halt",
            "Trading is halted. Lift the halt and accept new orders again? Open orders cancelled by the kill "
            "switch stay cancelled.",
        ):
            self.lift_requested.emit()
