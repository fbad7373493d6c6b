"""Builds dist/TradeBridge/ for this platform with PyInstaller (``make package``).

Refuses to build when more than one Qt binding is installed (PyInstaller and pyqtgraph would each
pick one, and the bundle could mix them). On Linux it strips the libraries, trims Qt's ICU data to what
Qt reads, and adds the desktop entry, the hicolor icons and ``install-desktop-entry.sh`` beside the
executable. Prints the bundle's size at the end.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DIST = ROOT / "dist"
QT_BINDINGS = ("PySide6", "PyQt6", "PyQt5", "PySide2")


def installed_qt_bindings() -> list[str]:
    return [name for name in QT_BINDINGS if importlib.util.find_spec(name) is not None]


def add_linux_desktop_files(bundle: Path) -> None:
    shutil.copy2(PACKAGING / "linux" / "tradebridge.desktop", bundle / "tradebridge.desktop")
    shutil.copy2(PACKAGING / "linux" / "install-desktop-entry.sh", bundle / "install-desktop-entry.sh")
    for png in sorted((PACKAGING / "icons" / "linux").glob("tradebridge-*.png")):
        size = png.stem.rsplit("-", 1)[1]
        target = bundle / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, target / "tradebridge.png")


def strip_debug_symbols(bundle: Path) -> None:
    """Drop debug symbols and local symbol tables from the bundle's shared libraries.

    libpython 23 -> 6 MB, SQLAlchemy 9 -> 1 MB, cryptography's Rust core 14.7 -> 12 MB. Only the dynamic
    symbol table is left, which is all the loader and Python's extension import need; a crash report
    names fewer functions. Not in ``*.libs`` folders: auditwheel patched those libraries (numpy's
    OpenBLAS), and stripping one corrupts it. PyInstaller's own ``strip`` option can't make that exception.
    """
    strip = shutil.which("strip")
    if strip is None:
        print("strip not found: debug symbols stay in the bundle", file=sys.stderr)
        return
    for library in sorted(bundle.rglob("*.so*")):
        if library.is_symlink() or not library.is_file() or any(part.endswith(".libs") for part in library.parts):
            continue
        with library.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
        subprocess.run([strip, "--strip-unneeded", str(library)], check=True)


def trim_icu_data(bundle: Path) -> None:
    """Qt's ICU data library without the data Qt never asks ICU for (``icu_data.py``): 32 -> 18 MB."""
    import icu_data

    libraries = [path for path in sorted(bundle.rglob("libicudata.so.*")) if not path.is_symlink()]
    missing = icu_data.tools_missing()
    if libraries and missing:
        print(f"{', '.join(missing)} not found: Qt's ICU data stays whole", file=sys.stderr)
        return
    for library in libraries:
        before, after = icu_data.trim_library(library)
        print(f"{library.name}: {before / 1_000_000:.0f} -> {after / 1_000_000:.0f} MB")


def folder_size(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file() and not item.is_symlink())


def main() -> int:
    bindings = installed_qt_bindings()
    if bindings != ["PySide6"]:
        print(f"The build needs exactly one Qt binding, PySide6; this environment has: {', '.join(bindings) or 'none'}.",
              file=sys.stderr)
        return 1
    import PyInstaller.__main__

    PyInstaller.__main__.run([
        "--noconfirm",
        "--clean",
        "--log-level=WARN",
        "--distpath", str(DIST),
        "--workpath", str(ROOT / "build" / "pyinstaller"),
        str(PACKAGING / "tradebridge.spec"),
    ])
    bundle = DIST / "TradeBridge"
    if sys.platform.startswith("linux"):
        strip_debug_symbols(bundle)
        trim_icu_data(bundle)
        add_linux_desktop_files(bundle)
    print(f"Built {bundle}: {folder_size(bundle) / 1_000_000:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
