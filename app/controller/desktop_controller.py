"""The desktop's settings: window layout, theme, the time zone times are shown in, notifications."""

from __future__ import annotations

import logging
from dataclasses import asdict, replace
from typing import Any

import qasync
from PySide6.QtCore import QObject, Signal

from app.controller.preferences import DesktopPreferences
from app.storage.desktop_repository import load_desktop_settings, save_layout, save_preferences
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

class DesktopController(QObject):
    preferences_changed = Signal(object)
    layout_loaded = Signal(dict)
    error = Signal(str)

    def __init__(self, worker: DatabaseWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self.preferences = DesktopPreferences()

    async def load(self) -> None:
        layout, raw = await self._worker.run(load_desktop_settings)
        self.preferences = DesktopPreferences.from_saved(raw)
        self.preferences_changed.emit(self.preferences)
        self.layout_loaded.emit(layout)

    async def save_layout(self, layout: dict[str, str]) -> None:
        try:
            await self._worker.run(lambda s: save_layout(s, layout))
        except Exception:
            # Losing a layout is a nuisance, never a reason to stop a shutdown.
            log.exception("Saving the window layout failed")

    @qasync.asyncSlot(str)
    async def set_theme(self, theme: str) -> None:
        await self.update(theme=theme)

    @qasync.asyncSlot(str)
    async def set_time_zone(self, zone: str) -> None:
        await self.update(time_zone=zone)

    @qasync.asyncSlot(bool)
    async def set_notifications(self, enabled: bool) -> None:
        await self.update(notifications=enabled)

    async def update(self, **changes: Any) -> bool:
        chosen = DesktopPreferences.from_saved({**asdict(self.preferences), **changes})
        if chosen == self.preferences:
            return True
        try:
            await self._worker.run(lambda s: save_preferences(s, asdict(chosen)))
        except Exception:
            log.exception("Saving display preferences failed")
            self.error.emit("The display settings could not be saved; nothing was changed.")
            self.preferences_changed.emit(self.preferences)
            return False
        self.preferences = replace(chosen)
        self.preferences_changed.emit(self.preferences)
        return True
