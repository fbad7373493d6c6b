"""The packaging inputs: one version, icons in each platform's format, the Linux desktop entry, Qt bindings."""

from __future__ import annotations

import configparser
import importlib.util
import shutil
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


icu_data = _load("icu_data")


def _package(items: list[tuple[str, bytes]]) -> bytes:
    # A DataHeader (size, magic 0xda27) and a UDataInfo for the common-data format, padded to 32 bytes.
    info = struct.pack("<HHBBBB4s4s4s", 20, 0, 0, 0, 2, 0, b"CmnD", bytes([1, 0, 0, 0]), bytes([73, 1, 0, 0]))
    header = struct.pack("<HBB", 32, 0xDA, 0x27) + info
    return icu_data.join_package(header + b"\0" * (32 - len(header)), items)


def test_an_icu_package_loses_the_unused_families_and_keeps_every_other_item_byte_for_byte() -> None:
    items = [
        ("icudt73l/brkitr/line.brk", b"B" * 37),
        ("icudt73l/coll/de.res", b"C" * 50),
        ("icudt73l/curr/de.res", b"$" * 3),
        ("icudt73l/de.res", b"D" * 16),
        ("icudt73l/zone/de.res", b"Z" * 21),
    ]
    package = _package(items)
    header, parsed = icu_data.split_package(package)
    assert [(name, data[: len(original)]) for (name, data), (_n, original) in zip(parsed, items, strict=True)] == items
    trimmed = icu_data.without_families(package, icu_data.UNUSED_FAMILIES)
    kept_header, kept = icu_data.split_package(trimmed)
    assert kept_header == header
    assert [name for name, _data in kept] == ["icudt73l/coll/de.res", "icudt73l/de.res", "icudt73l/zone/de.res"]
    assert {name: data[: len(dict(items)[name])] for name, data in kept} == {name: dict(items)[name] for name, _d in kept}
    (count,) = struct.unpack_from("<I", trimmed, len(header))
    offsets = [struct.unpack_from("<II", trimmed, len(header) + 4 + 8 * index)[1] for index in range(count)]
    assert all((len(header) + offset) % 16 == 0 for offset in offsets)


def test_an_icu_package_is_recognised_by_its_format() -> None:
    with pytest.raises(icu_data.IcuDataError):
        icu_data.split_package(b"\x20\x00\xda\x27" + b"\0" * 8 + b"Abcd" + b"\0" * 40)


def test_the_wheels_icu_library_is_rewritten_without_the_unused_families(tmp_path: Path) -> None:
    import PySide6

    # PySide6 carries its own ICU on Linux only (Qt uses the system's on Windows and none on macOS).
    libraries = sorted((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    assert libraries or not sys.platform.startswith("linux")
    for library in libraries:
        symbol, package = icu_data.read_package(library)
        _header, items = icu_data.split_package(package)
        trimmed = tmp_path / library.name
        shutil.copyfile(library, trimmed)
        icu_data.trim_library(trimmed)
        trimmed_symbol, trimmed_package = icu_data.read_package(trimmed)
        assert trimmed_symbol == symbol
        _header, kept = icu_data.split_package(trimmed_package)
        unused = tuple(f"/{family}/" for family in icu_data.UNUSED_FAMILIES)
        assert dict(kept) == {name: data for name, data in items if not any(part in name for part in unused)}
        assert trimmed.stat().st_size < library.stat().st_size * 0.6
