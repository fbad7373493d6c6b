"""Before Qt starts on Linux: are the X11/xcb libraries its window system plugin needs installed?"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

#: The library each Debian/Ubuntu package provides, for the libraries Qt's xcb plugin links against.
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}
#: Every package the README's install line names: the same list as CI installs.
README_PACKAGES = sorted(set(DEBIAN_PACKAGES.values()))


def xcb_plugin() -> Path | None:
    spec = find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.exists() else None


def missing_libraries(plugin: Path) -> list[str]:
    """Libraries ``ldd`` reports as not found for the plugin (empty when ldd is unavailable)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        output = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    missing = []
    for line in output.splitlines():
        name, _, rest = line.strip().partition(" => ")
        if "not found" in rest and name not in missing:
            missing.append(name)
    return missing


def install_command(missing: list[str]) -> str:
    packages = sorted({DEBIAN_PACKAGES.get(name, name) for name in missing})
    return "sudo apt-get install " + " ".join(packages)


def needs_xcb(environ: os._Environ[str] | dict[str, str]) -> bool:
    """Qt picks xcb on Linux unless told otherwise (offscreen, wayland) or there is no display at all."""
    platform = environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":")[0] == "xcb"
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def check(environ: os._Environ[str] | dict[str, str] = os.environ) -> str | None:
    """A message with the command to run when the plugin Qt will load lacks libraries; None when all is well."""
    if not sys.platform.startswith("linux") or not needs_xcb(environ):
        return None
    plugin = xcb_plugin()
    if plugin is None:
        return None
    missing = missing_libraries(plugin)
    if not missing:
        return None
    return (
        f"TradeBridge can't open a window yet: Qt needs {', '.join(missing)}.\n"
        f"On Debian or Ubuntu install them with:\n\n    {install_command(missing)}\n\n"
        "(or every library Qt may need at once, the line in README.md), then start TradeBridge again."
    )


def main() -> int:
    message = check()
    if message:
        print(message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
