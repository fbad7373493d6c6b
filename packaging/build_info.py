"""Product facts for the packaged build: name, bundle id, the version read from app/__init__.py, OS metadata."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

PRODUCT = "TradeBridge"
BUNDLE_ID = "com.tradebridge.desktop"
COMPANY = "TradeBridge"
DESCRIPTION = "TradeBridge desktop trading client"
COPYRIGHT = "Copyright (c) TradeBridge"


def app_version(root: Path) -> str:
    """``__version__`` from app/__init__.py, read without importing the package."""
    tree = ast.parse((root / "app" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            value = ast.literal_eval(node.value)
            if isinstance(value, str):
                return value
    raise ValueError("app/__init__.py has no __version__ string")


def version_tuple(version: str) -> tuple[int, int, int, int]:
    """Windows wants four 16-bit numbers: the leading numeric parts of the version, zero-padded."""
    numbers: list[int] = []
    for part in version.split("."):
        digits = re.match(r"\d+", part)
        if digits is None or len(numbers) == 4:
            break
        numbers.append(int(digits.group()))
        if digits.end() < len(part):
            break  # "0rc1": a pre-release marker ends the numeric part
    numbers += [0] * (4 - len(numbers))
    return (numbers[0], numbers[1], numbers[2], numbers[3])


def info_plist(version: str) -> dict[str, Any]:
    """Info.plist keys for the macOS .app beyond the ones PyInstaller writes."""
    return {
        "CFBundleName": PRODUCT,
        "CFBundleDisplayName": PRODUCT,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "CFBundleIdentifier": BUNDLE_ID,
        "LSApplicationCategoryType": "public.app-category.finance",
        "LSMinimumSystemVersion": "11.0",
        "NSHighResolutionCapable": True,
        "NSPrincipalClass": "NSApplication",
        "NSRequiresAquaSystemAppearance": False,
        "NSHumanReadableCopyright": COPYRIGHT,
    }


def windows_version_info(version: str) -> Any:
    """The executable's version resource (Explorer's Details tab, SmartScreen's publisher prompt)."""
    from PyInstaller.utils.win32 import versioninfo as vi

    numbers = version_tuple(version)
    strings = [
        vi.StringStruct("CompanyName", COMPANY),
        vi.StringStruct("FileDescription", DESCRIPTION),
        vi.StringStruct("FileVersion", version),
        vi.StringStruct("InternalName", PRODUCT),
        vi.StringStruct("LegalCopyright", COPYRIGHT),
        vi.StringStruct("OriginalFilename", f"{PRODUCT}.exe"),
        vi.StringStruct("ProductName", PRODUCT),
        vi.StringStruct("ProductVersion", version),
    ]
    return vi.VSVersionInfo(
        ffi=vi.FixedFileInfo(filevers=numbers, prodvers=numbers, mask=0x3F, flags=0x0, OS=0x40004, fileType=0x1, subtype=0x0),
        kids=[
            vi.StringFileInfo([vi.StringTable("040904B0", strings)]),
            vi.VarFileInfo([vi.VarStruct("Translation", [0x0409, 1200])]),
        ],
    )


def _is_shared_library_only(dest: str) -> bool:
    """A library collected only because something links to it (not a Python extension or a Qt plugin)."""
    parts = dest.replace("\\", "/").split("/")
    name = parts[-1]
    if "plugins" in parts or name.endswith((".pyd", ".abi3.so")) or ".cpython-" in name:
        return False
    return len(parts) == 1 or parts[:3] == ["PySide6", "Qt", "lib"] or parts[0].endswith(".libs")


def prune_orphan_libraries(binaries: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Drop shared libraries nothing kept links to any more (after Qt plugins were left out).

    Everything that is not merely a linked library (extension modules, Qt plugins, the Python
    library itself) is a root; libraries reachable from the roots through their link-time imports stay.
    """
    from PyInstaller.depend.bindepend import get_imports

    by_name = {Path(dest).name: (dest, src, kind) for dest, src, kind in binaries}
    keep: set[str] = set()
    pending = [Path(dest).name for dest, _src, _kind in binaries if not _is_shared_library_only(dest)]
    pending += [name for name in by_name if name.startswith(("libpython", "python3", "Python"))]
    while pending:
        name = pending.pop()
        if name in keep or name not in by_name:
            continue
        keep.add(name)
        try:
            imported = get_imports(by_name[name][1])
        except Exception:  # noqa: BLE001 - unreadable: keep what it may need by keeping everything it names
            imported = []
        pending.extend(Path(entry if isinstance(entry, str) else entry[0]).name for entry in imported)
    return [entry for entry in binaries if Path(entry[0]).name in keep or not _is_shared_library_only(entry[0])]
