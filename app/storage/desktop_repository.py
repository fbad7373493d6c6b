"""The desktop's own settings in app_settings: window layout and the trader's display preferences."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.storage.settings_repository import get_setting, put_setting

LAYOUT_KEY = "desktop.layout"
PREFERENCES_KEY = "desktop.preferences"


def load_desktop_settings(session: Session) -> tuple[dict[str, str], dict[str, Any]]:
    """(layout, preferences) as saved, each empty on first launch or when unreadable."""
    layout = get_setting(session, LAYOUT_KEY) or {}
    preferences = get_setting(session, PREFERENCES_KEY) or {}
    if not isinstance(layout, dict):
        layout = {}
    if not isinstance(preferences, dict):
        preferences = {}
    return {str(k): str(v) for k, v in layout.items()}, preferences


def save_layout(session: Session, layout: dict[str, str]) -> None:
    put_setting(session, LAYOUT_KEY, layout)


def save_preferences(session: Session, preferences: dict[str, Any]) -> None:
    put_setting(session, PREFERENCES_KEY, preferences)
