"""The app run as a child process by the tests: bounded in time, and a run that hangs shows where it hung."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Every child app run by a test finishes well within this; a run past it is a hang, not a slow machine.
APP_TIMEOUT = 90


def app_env(**extra: str) -> dict[str, str]:
    """The test process's environment for a headless app on the null keyring, with no data folder chosen."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    env.pop("TRADEBRIDGE_DATA_DIR", None)
    env.update(extra)
    return env


def run_app(args: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = APP_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """``python -m app *args``; a child still running after ``timeout`` fails the test with every thread's stack."""
    child = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "app", *args],
        cwd=ROOT,
        env=dict(env if env is not None else app_env()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # SIGABRT makes faulthandler write every thread's Python stack to stderr before the child dies.
        child.send_signal(signal.SIGABRT if os.name == "posix" else signal.SIGTERM)
        try:
            stdout, stderr = child.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            stdout, stderr = child.communicate()
        raise AssertionError(
            f"python -m app {' '.join(args)} still ran after {timeout} s; its stacks:\n{stderr[-20000:]}"
        ) from None
    return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
