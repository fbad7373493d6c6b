"""Shared fixtures: a qasync event loop on the test's QApplication, and helpers to await conditions."""

from __future__ import annotations

import asyncio
import gc
import io
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import keyring
import keyring.core
import pytest
from hypothesis import settings as hypothesis_settings

from app.event_loop import DesktopEventLoop
from tests.security.keyrings import MemoryKeyring

T = TypeVar("T")

# Property tests assert behaviour, never timing: a busy machine must not fail one on Hypothesis's deadline.
hypothesis_settings.register_profile("tradebridge", deadline=None)
hypothesis_settings.load_profile("tradebridge")

#: File modes (0600/0700) are a POSIX notion; on Windows the user profile's ACLs do that job.
posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are a POSIX notion")


#: Before pytest-timeout's 120 s ends the whole run, a stuck loop reports what it waits on.
WATCHDOG_CAP = 105.0


class QtLoop:
    """Runs coroutines on a qasync loop, so async slots, Qt events and awaits interleave as in the app."""

    def __init__(self, loop: DesktopEventLoop, started: list[object] | None = None) -> None:
        self.loop = loop
        #: The apps ``start_app`` built during the test (see ``_track_started_apps``).
        self.started: list[object] = started if started is not None else []

    def run(self, awaitable: Awaitable[T], timeout: float = 30.0) -> T:
        watchdog = threading.Timer(min(timeout + 10, WATCHDOG_CAP), self._overdue, args=(timeout,))
        watchdog.daemon = True
        watchdog.start()
        try:
            return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))
        finally:
            watchdog.cancel()

    def _overdue(self, timeout: float) -> None:
        """The run outlived its time limit (or nears the test's): say what its tasks wait on, then wake the loop."""
        report = io.StringIO()
        report.write(f"QtLoop.run (limit {timeout} s) still running; its tasks:\n")
        for task in asyncio.all_tasks(self.loop):
            task.print_stack(limit=12, file=report)
        sys.stderr.write(report.getvalue())
        sys.stderr.flush()
        # If the loop was only asleep, this wake-up lets the overdue time limit end the run.
        self.loop.call_soon_threadsafe(lambda: None)


async def until(predicate: Callable[[], bool], timeout: float = 10.0, message: str = "") -> None:
    """Wait on the running loop (Qt keeps processing events) until ``predicate()`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(message or f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)


def _track_started_apps(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every app ``start_app`` builds during the test, so one a failing test left running can be shut down."""
    import app.main

    started: list[object] = []

    class TrackedServices(app.main.AppServices):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self.stopped = False
            started.append(self)

        async def shutdown(self) -> None:
            self.stopped = True
            await super().shutdown()

    monkeypatch.setattr(app.main, "AppServices", TrackedServices)
    return started


def _shut_down_leftovers(qt_loop: QtLoop) -> None:
    """A test that failed before its own shutdown leaves its app running: stop it before the next test starts."""
    for services in qt_loop.started:
        if getattr(services, "stopped", True):
            continue
        services.window.close()  # type: ignore[attr-defined]
        try:
            qt_loop.loop.run_until_complete(asyncio.wait_for(services.shutdown(), 30))  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - the test has already failed; say why the clean-up did too
            sys.stderr.write(f"A running app left by the test did not shut down cleanly: {exc!r}\n")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """Leftover apps are shut down while their windows still exist, before pytest-qt closes the test's widgets."""
    qt_loop = getattr(item, "funcargs", {}).get("qt_loop")
    if isinstance(qt_loop, QtLoop):
        _shut_down_leftovers(qt_loop)
    return (yield)


@pytest.fixture
def qt_loop(qapp, monkeypatch: pytest.MonkeyPatch) -> Iterator[QtLoop]:
    qapp.setQuitOnLastWindowClosed(False)
    loop = DesktopEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    qt_loop = QtLoop(loop, _track_started_apps(monkeypatch))
    try:
        yield qt_loop
    finally:
        try:
            _shut_down_leftovers(qt_loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            # Closed whatever happened above: an unclosed loop's wake-up sockets would warn in a later test.
            loop.close()
            asyncio.set_event_loop(None)
        # Collect the loop's Qt timers here, on the Qt thread, not later from whichever thread GC runs in.
        del loop
        gc.collect()


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A modal message box would wait forever for a click in a headless run: fail the test instead."""
    try:
        from PySide6.QtWidgets import QMessageBox
    except ImportError:
        return

    def refuse(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("a modal dialog was opened; replace the view's confirm hook in the test")

    for name in ("question", "critical", "warning", "information"):
        monkeypatch.setattr(QMessageBox, name, refuse)


@pytest.fixture(autouse=True)
def private_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """Every test starts on an empty in-memory keyring, never the user's, and leaves keyring as it was."""
    previous = keyring.core._keyring_backend
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.core._keyring_backend = previous
