"""One app per data folder: a second process on the folder neither writes nor runs; a crashed app's lock is taken over."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalSocket

from app.single_instance import ACKNOWLEDGED, ACTIVATE, AlreadyRunning, InstanceGuard, claim_data_folder, server_name
from tests.app_process import run_app

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    env.pop("TRADEBRIDGE_DATA_DIR", None)
    return env


def _start(data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir), *extra],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_app(["--data-dir", str(data_dir), *extra], _env())


def _snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file in the folder with its modification time and content digest."""
    return {
        str(path.relative_to(folder)): (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _wait_for_log(data_dir: Path, text: str, process: subprocess.Popen[str], timeout: float = 60.0) -> None:
    log_file = data_dir / "logs" / "tradebridge.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_file.exists() and text in log_file.read_text(encoding="utf-8"):
            return
        if process.poll() is not None:
            raise AssertionError(f"the first app stopped: {process.communicate()[1]}")
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in the log")


@pytest.mark.subprocess
@pytest.mark.skipif(os.name != "posix", reason="pausing a process with SIGSTOP is POSIX")
def test_second_process_on_one_folder_neither_writes_nor_runs(qapp, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = _start(data_dir)
    try:
        _wait_for_log(data_dir, "Main window shown", first)
        # Paused, the first app can't write either: any change to the folder would be the second's.
        os.kill(first.pid, signal.SIGSTOP)
        before = _snapshot(data_dir)

        smoke = _run(data_dir, "--smoke-test")
        assert smoke.returncode == 3
        assert "already running on the data folder" in smoke.stderr
        assert f"process {first.pid}" in smoke.stderr
        assert "Smoke test passed" not in smoke.stderr
        assert _snapshot(data_dir) == before

        unanswered = claim_data_folder(data_dir)
        assert isinstance(unanswered, AlreadyRunning)
        assert not unanswered.reached
        assert "not answering" in unanswered.message
        assert _snapshot(data_dir) == before

        os.kill(first.pid, signal.SIGCONT)
        second = _run(data_dir)
        assert second.returncode == 0, second.stderr
        assert "brought to the front" in second.stderr
        log_text = (data_dir / "logs" / "tradebridge.log").read_text(encoding="utf-8")
        assert log_text.count("starting; data in") == 1
        assert "Another start on this data folder asked for this window" in log_text
        assert first.poll() is None
    finally:
        # A crash, not a clean exit: the lock file and the socket are left behind.
        first.kill()
        first.communicate()

    assert (data_dir / "tradebridge.lock").exists()
    after_crash = _run(data_dir, "--smoke-test")
    assert after_crash.returncode == 0, after_crash.stderr
    assert "Smoke test passed" in after_crash.stderr


def test_a_request_that_comes_before_the_window_is_honoured_once_it_exists(qtbot, tmp_path: Path) -> None:
    guard = claim_data_folder(tmp_path)
    assert isinstance(guard, InstanceGuard)
    try:
        other = claim_data_folder(tmp_path, contact_running=False)
        assert isinstance(other, AlreadyRunning)
        assert not other.reached
        assert f"process {os.getpid()}" in other.message

        socket = QLocalSocket()
        socket.connectToServer(server_name(tmp_path))
        qtbot.waitUntil(lambda: socket.state() == QLocalSocket.LocalSocketState.ConnectedState)
        socket.write(ACTIVATE)
        qtbot.waitUntil(lambda: socket.canReadLine())
        assert bytes(socket.readLine().data()) == ACKNOWLEDGED

        raised: list[str] = []
        guard.on_activate(lambda: raised.append("front"))
        assert raised == ["front"]
        socket.disconnectFromServer()
    finally:
        guard.release()
    again = claim_data_folder(tmp_path)
    assert isinstance(again, InstanceGuard)
    again.release()


def test_different_folders_do_not_share_a_channel(tmp_path: Path) -> None:
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    assert server_name(tmp_path / "a") == server_name(tmp_path / "x" / ".." / "a")


#: Holds the folder's lock, listens only after a pause (as the app does until its first frame), then answers.
_SLOW_LISTENER = """
import sys, time
from pathlib import Path
from PySide6.QtCore import QCoreApplication, QTimer
from app.single_instance import claim_data_folder
app = QCoreApplication([])
guard = claim_data_folder(Path(sys.argv[1]), listen=False)
print("locked", flush=True)
raised = []
guard.on_activate(lambda: (raised.append(1), print("raised", flush=True)))
time.sleep(1.0)
guard.listen()
QTimer.singleShot(8000, app.quit)
app.exec()
guard.release()
"""


@contextmanager
def _holding(script: str, folder: Path) -> Iterator[Callable[[], str]]:
    """Run ``script`` as another process on ``folder`` until it has the lock; yields a reader of its next line."""
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(folder)], cwd=ROOT, env=_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None
        out = holder.stdout
        assert out.readline().strip() == "locked"
        yield lambda: out.readline().strip()
    finally:
        holder.kill()
        holder.communicate()


@pytest.mark.subprocess
def test_a_second_start_waits_for_an_app_that_holds_the_folder_but_is_not_listening_yet(tmp_path: Path) -> None:
    with _holding(_SLOW_LISTENER, tmp_path) as next_line:
        second = claim_data_folder(tmp_path)
        assert isinstance(second, AlreadyRunning)
        assert second.reached, second.message
        assert "brought to the front" in second.message
        assert next_line() == "raised"


#: Holds the folder's lock without listening, then gives up (a start that failed before its window was drawn).
_FAILED_START = """
import sys, time
from pathlib import Path
from PySide6.QtCore import QCoreApplication
from app.single_instance import claim_data_folder
app = QCoreApplication([])
guard = claim_data_folder(Path(sys.argv[1]), listen=False)
print("locked", flush=True)
time.sleep(0.5)
guard.release()
print("released", flush=True)
"""


@pytest.mark.subprocess
def test_a_second_start_takes_the_folder_when_the_app_holding_it_ends_before_listening(tmp_path: Path) -> None:
    with _holding(_FAILED_START, tmp_path) as next_line:
        second = claim_data_folder(tmp_path)
        assert isinstance(second, InstanceGuard), second
        assert next_line() == "released"
        # The folder is this start's: a third start finds it taken, by this process.
        third = claim_data_folder(tmp_path, contact_running=False)
        assert isinstance(third, AlreadyRunning) and f"process {os.getpid()}" in third.message
        second.release()
