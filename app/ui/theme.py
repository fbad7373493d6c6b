"""Light and dark themes: follow the operating system by default, or the trader's explicit choice."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from app.controller.preferences import THEMES

THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}

_DARK = {
    QPalette.ColorRole.Window: "#2b2d30",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1e1f22",
    QPalette.ColorRole.AlternateBase: "#26282b",
    QPalette.ColorRole.ToolTipBase: "#3c3f41",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#3c3f41",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Link: "#6ea8fe",
    QPalette.ColorRole.Highlight: "#2f65ca",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.PlaceholderText: "#8c8c8c",
}
_DARK_DISABLED = "#7a7a7a"


def _dark_palette() -> QPalette:
    palette = QPalette()
    for role, color in _DARK.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(_DARK_DISABLED))
    return palette


class ThemeController:
    """Applies a theme to the running application; remembers the system look to return to it."""

    def __init__(self, app: QApplication) -> None:
        self._app = app
        # Read when a theme is first applied, before it changes anything: asking Qt for the style from Python
        # builds the style's bindings (tens of milliseconds), which the window's first frame does not need.
        self._system_style: str | None = None
        self._system_palette = QPalette(app.palette())
        self.current = "system"

    def apply(self, theme: str) -> None:
        if self._system_style is None:
            self._system_style = self._app.style().name()
        if theme not in THEMES:
            theme = "system"
        self.current = theme
        hints = QGuiApplication.styleHints()
        if theme == "system":
            hints.unsetColorScheme()
            self._app.setStyle(self._system_style)
            self._app.setPalette(self._system_palette)
            return
        scheme = Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light
        # Platforms that honour a requested scheme (Windows, macOS, recent GNOME/KDE) switch native
        # widgets too; the Fusion palette below makes the choice hold everywhere else.
        hints.setColorScheme(scheme)
        self._app.setStyle(QStyleFactory.create("Fusion"))
        self._app.setPalette(_dark_palette() if theme == "dark" else self._app.style().standardPalette())

    def is_dark(self) -> bool:
        window = self._app.palette().color(QPalette.ColorRole.Window)
        return window.lightness() < 128
