"""Start-up stays light: no broker SDK or pandas is imported, no process is spawned or left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import posix_only

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.subprocess

#: Imported only when a connection of that broker is first used (or, for pandas, never at start).
DEFERRED_PACKAGES = ("alpaca", "ib_insync", "eventkit", "pandas")


def _audited_smoke(tmp_path: Path) -> tuple[int, dict[str, Any]]:
    """Run a smoke start under the audit hook; the child's pid (= its process group) and its report."""
    report = tmp_path / "report.json"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("TRADEBRIDGE_DATA_DIR", None)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    command = [sys.executable, "-m", "tests.startup.audited_start", str(report), "--"]
    command += ["--smoke-test", "--data-dir", str(tmp_path / "data")]
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Its own process group: anything it spawned and left running would still carry the group id.
        start_new_session=os.name == "posix",
    ) as child:
        _out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    return child.pid, json.loads(report.read_text(encoding="utf-8"))


def test_start_shows_the_window_without_any_broker_sdk_or_pandas(tmp_path: Path) -> None:
    _pid, report = _audited_smoke(tmp_path)
    modules = report["modules"]
    assert "app.ui.main_window" in modules
    loaded = sorted({name.split(".")[0] for name in modules if name.split(".")[0] in DEFERRED_PACKAGES})
    assert loaded == []
    broker_connectors = [name for name in modules if name.startswith("app.brokers.") and name.endswith(".connector")]
    assert broker_connectors == []


def test_the_first_frame_is_drawn_before_the_loop_the_storage_and_the_domain_are_imported(tmp_path: Path) -> None:
    _pid, report = _audited_smoke(tmp_path)
    shown = set(report["modules_when_shown"])
    assert "app.ui.main_window" in shown
    # Drawing the window needs the widgets only: asyncio and qasync come with the loop, after the first frame.
    assert {"asyncio", "qasync", "app.event_loop"} & shown == set()
    # The composition root, storage, and the records and engine the controllers build, come after it too.
    assert {"app.main", "sqlalchemy", "app.controller.views", "app.domain.paper_engine"} & shown == set()
    # The tabs and docks the first frame does not show are built, and their modules imported, after it.
    hidden = {"app.ui.settings_pane", "app.ui.mode_pane", "app.ui.audit_pane", "app.ui.risk_settings",
              "app.ui.display_settings", "app.ui.market_settings", "app.ui.watchlist_pane", "app.ui.chart_pane",
              "app.ui.equity_pane", "app.ui.notifier"}
    assert hidden & shown == set()
    assert hidden <= set(report["modules"])
    # The second-start channel listens once the first frame is drawn.
    assert "PySide6.QtNetwork" not in shown and "PySide6.QtNetwork" in report["modules"]
    assert {"asyncio", "qasync", "app.main", "app.controller.views"} <= set(report["modules"])


def test_start_and_keyring_detection_spawn_no_process(tmp_path: Path) -> None:
    _pid, report = _audited_smoke(tmp_path)
    assert report["spawned"] == []
    # Detection ran for real and settled on a backend of this platform, or on "no keyring".
    assert report["keyring"].startswith("keyring.backends.")
    assert ".macOS." not in report["keyring"] or sys.platform == "darwin"


@posix_only
def test_no_process_of_the_app_outlives_it(tmp_path: Path) -> None:
    pid, _report = _audited_smoke(tmp_path)
    # Signal 0 only asks whether any process of the group is left; none may be.
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
