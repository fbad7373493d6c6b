"""The Settings pane's Display group: theme, the time zone times are shown in, desktop notifications."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QLabel, QWidget

from app.controller.preferences import DesktopPreferences
from app.ui.theme import THEME_LABELS, THEMES


class DisplaySettingsBox(QGroupBox):
    theme_chosen = Signal(str)
    time_zone_chosen = Signal(str)
    notifications_chosen = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Display", parent)
        self.setObjectName("settings.display")
        self.theme = QComboBox(objectName="settings.display.theme")
        for theme in THEMES:
            self.theme.addItem(THEME_LABELS[theme], theme)
        self.time_zone = QComboBox(objectName="settings.display.time_zone")
        local = datetime.now().astimezone().tzname() or "local"
        self.time_zone.addItem(f"This computer's time zone ({local})", "local")
        self.time_zone.addItem("New York time (ET), the US market's clock", "exchange")
        self.notifications = QCheckBox(
            "Desktop notifications for fills, rejections, disconnects and halts",
            objectName="settings.display.notifications",
        )
        hint = QLabel("Times in every table, the details and the status bar carry their zone.")
        hint.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Theme", self.theme)
        form.addRow("Show times in", self.time_zone)
        form.addRow("", hint)
        form.addRow("", self.notifications)
        self.theme.activated.connect(lambda _i: self.theme_chosen.emit(self.theme.currentData()))
        self.time_zone.activated.connect(lambda _i: self.time_zone_chosen.emit(self.time_zone.currentData()))
        self.notifications.clicked.connect(self.notifications_chosen)

    @Slot(object)
    def show_preferences(self, preferences: DesktopPreferences) -> None:
        self.theme.setCurrentIndex(max(0, self.theme.findData(preferences.theme)))
        self.time_zone.setCurrentIndex(max(0, self.time_zone.findData(preferences.time_zone)))
        self.notifications.setChecked(preferences.notifications)
