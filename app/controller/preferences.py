"""The trader's display preferences: theme, the time zone times are shown in, desktop notifications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

THEMES = ("system", "light", "dark")
TIME_ZONES = ("local", "exchange")


@dataclass(frozen=True, slots=True)
class DesktopPreferences:
    theme: str = "system"
    #: "local": the computer's zone; "exchange": New York (ET), where US markets keep their hours.
    time_zone: str = "local"
    notifications: bool = True

    @classmethod
    def from_saved(cls, raw: dict[str, Any]) -> DesktopPreferences:
        defaults = cls()
        theme = raw.get("theme", defaults.theme)
        zone = raw.get("time_zone", defaults.time_zone)
        return cls(
            theme=theme if theme in THEMES else defaults.theme,
            time_zone=zone if zone in TIME_ZONES else defaults.time_zone,
            notifications=bool(raw.get("notifications", defaults.notifications)),
        )
