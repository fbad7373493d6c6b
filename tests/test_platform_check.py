"""`make run`'s check: missing Qt platform libraries are named with the command that installs them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app import platform_check

LDD_MISSING = """\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibxcb-cursor.so.0 => not found
"""


@pytest.fixture
def linux_with_display(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    monkeypatch.setattr(platform_check.sys, "platform", "linux")
    monkeypatch.setattr(platform_check, "xcb_plugin", lambda: plugin)
    monkeypatch.setattr(platform_check.shutil, "which", lambda _name: "/usr/bin/ldd")


def _ldd_says(monkeypatch: pytest.MonkeyPatch, output: str) -> None:
    monkeypatch.setattr(
        platform_check.subprocess,
        "run",
        lambda *_a, **_k: subprocess.CompletedProcess(args=["ldd"], returncode=0, stdout=output, stderr=""),
    )


def test_missing_libraries_give_the_apt_command(monkeypatch: pytest.MonkeyPatch, linux_with_display: None) -> None:
    _ldd_says(monkeypatch, LDD_MISSING)
    message = platform_check.check({"DISPLAY": ":0"})
    assert message is not None
    assert "libxcb-cursor.so.0, libxkbcommon-x11.so.0" in message
    assert "sudo apt-get install libxcb-cursor0 libxkbcommon-x11-0" in message


def test_all_present_says_nothing(monkeypatch: pytest.MonkeyPatch, linux_with_display: None) -> None:
    _ldd_says(monkeypatch, "\tlibxcb-cursor.so.0 => /usr/lib/libxcb-cursor.so.0 (0x1)\n")
    assert platform_check.check({"DISPLAY": ":0"}) is None


@pytest.mark.parametrize(
    "environ",
    [{"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, {}],
)
def test_no_check_when_qt_will_not_use_xcb(monkeypatch, linux_with_display: None, environ: dict[str, str]) -> None:
    _ldd_says(monkeypatch, LDD_MISSING)
    assert platform_check.check(environ) is None


def test_other_systems_are_never_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform_check.sys, "platform", "darwin")
    assert platform_check.check({"DISPLAY": ":0"}) is None


def test_the_readme_line_names_every_package_the_check_can_ask_for() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    line = next(l for l in readme.splitlines() if l.startswith("sudo apt-get install"))
    for package in ("libxcb-cursor0", "libxkbcommon-x11-0", "libxcb-icccm4", "libxcb-keysyms1"):
        assert package in line.split()
