"""The packaging inputs: one version, icons in each platform's format, the Linux desktop entry, Qt bindings."""

from __future__ import annotations

import configparser
import importlib.util
import struct
import sys
from pathlib import Path
from types import ModuleType

import pytest

import app

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"tradebridge_packaging_{name}", PACKAGING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_info = _load("build_info")


def test_the_build_reads_the_packages_version() -> None:
    assert build_info.app_version(ROOT) == app.__version__


@pytest.mark.parametrize(
    ("version", "numbers"),
    [("0.1.0", (0, 1, 0, 0)), ("1.2.3.4", (1, 2, 3, 4)), ("2.0.0rc1", (2, 0, 0, 0)), ("3.1.dev2", (3, 1, 0, 0)), ("7", (7, 0, 0, 0))],
)
def test_windows_version_numbers(version: str, numbers: tuple[int, int, int, int]) -> None:
    assert build_info.version_tuple(version) == numbers


def test_macos_bundle_keys() -> None:
    plist = build_info.info_plist("1.4.2")
    assert plist["CFBundleIdentifier"] == build_info.BUNDLE_ID == "com.tradebridge.desktop"
    assert plist["CFBundleShortVersionString"] == plist["CFBundleVersion"] == "1.4.2"
    assert plist["NSHighResolutionCapable"] is True
    assert plist["LSApplicationCategoryType"] == "public.app-category.finance"


def test_windows_icon_holds_every_size_as_png() -> None:
    data = (PACKAGING / "icons" / "tradebridge.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        width, _height, _colors, _zero, _planes, _bits, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * index)
        assert data[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"
        assert offset + length <= len(data)
        sizes.append(width or 256)
    assert {16, 24, 32, 48, 256} <= set(sizes)


def test_macos_icon_holds_retina_sizes() -> None:
    data = (PACKAGING / "icons" / "tradebridge.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack_from(">I", data, 4)[0] == len(data)
    kinds, offset = set(), 8
    while offset < len(data):
        kind, length = data[offset : offset + 4], struct.unpack_from(">I", data, offset + 4)[0]
        assert data[offset + 8 : offset + 16] == b"\x89PNG\r\n\x1a\n"
        kinds.add(kind)
        offset += length
    assert offset == len(data)
    assert {b"ic07", b"ic08", b"ic09", b"ic10", b"ic14"} <= kinds


def test_linux_icons_and_desktop_entry() -> None:
    for size in (16, 32, 48, 64, 128, 256, 512):
        png = (PACKAGING / "icons" / "linux" / f"tradebridge-{size}.png").read_bytes()
        width, height = struct.unpack_from(">II", png, 16)
        assert (width, height) == (size, size)
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(PACKAGING / "linux" / "tradebridge.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Icon"] == "tradebridge"
    assert desktop["Exec"] == "TradeBridge" and desktop["Terminal"] == "false"
    assert desktop["Categories"].endswith(";")


def test_exactly_one_qt_binding_is_installed() -> None:
    builder = _load("build")
    assert builder.installed_qt_bindings() == ["PySide6"]


def test_the_spec_bundles_what_the_app_reads_at_run_time() -> None:
    spec = (PACKAGING / "tradebridge.spec").read_text(encoding="utf-8")
    for needed in ('"resources"', "migrations", 'collect_submodules("keyring.backends")', 'copy_metadata("keyring")', "tzdata"):
        assert needed in spec
    assert sys.platform in ("win32", "darwin") or "tradebridge-256.png" in spec


def test_the_bundle_check_finds_the_charts_qt_modules(tmp_path: Path) -> None:
    smoke = _load("smoke_bundle")
    pyside = tmp_path / "_internal" / "PySide6"
    pyside.mkdir(parents=True)
    (pyside / "QtWidgets.abi3.so").write_bytes(b"")
    (pyside / "QtOpenGL.abi3.so").write_bytes(b"")
    with pytest.raises(smoke.CheckFailed, match="missing from the bundle: QtOpenGLWidgets$"):
        smoke.check_chart_modules(tmp_path)
    (pyside / "QtOpenGLWidgets.abi3.so").write_bytes(b"")
    assert smoke.check_chart_modules(tmp_path) == "QtOpenGL, QtOpenGLWidgets"
