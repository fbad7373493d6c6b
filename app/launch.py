"""The process: arguments, the data folder's lock, logging, the Qt application and loop, the window, the smoke checks.

The window is shown before the rest of the app is imported and its state loaded: ``python -m app`` imports
this module and the widgets only, shows the main window disabled with a neutral badge and draws its first
frame on Qt's own loop; then it imports asyncio and the app's loop (qasync), the composition root
(``app.main``: controllers, storage, brokers' registry) and opens the database on its worker. Nothing in
the window takes input until every controller is wired and the account, orders, mode and limits are
loaded; then it is enabled.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEventLoop, QtMsgType, QTimer, qInstallMessageHandler
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app import __version__
from app.logs import configure_logging
from app.paths import AppPaths, resolve_paths
from app.security.crash_report import CrashReporter
from app.security.redaction import redact
from app.single_instance import AlreadyRunning, InstanceGuard, claim_data_folder
from app.storage.sqlite_version import sqlite_version_warning
from app.ui.first_paint import FirstPaint
from app.ui.main_window import MainWindow

if TYPE_CHECKING:
    import asyncio

    from app.main import AppServices

log = logging.getLogger("app")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DATABASE = 2
EXIT_ALREADY_RUNNING = 3
DEVELOPER_ENV = "TRADEBRIDGE_DEVELOPER"
#: A smoke start whose window is not drawn within this is broken, not slow.
SMOKE_PAINT_TIMEOUT = 60.0
#: How long the start waits for the first frame before loading the rest (a minimised window may never paint).
FIRST_FRAME_WAIT = 1.0
#: Beside the package in a checkout; bundled next to it by the packaged build.
RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tradebridge", description="TradeBridge desktop trading client")
    parser.add_argument("--data-dir", help="folder for the database, logs and backups (or $TRADEBRIDGE_DATA_DIR)")
    parser.add_argument(
        "--smoke-test", action="store_true", help="build the main window, run migrations, process events once, exit"
    )
    parser.add_argument("--debug", action="store_true", help="log at DEBUG level (secrets are still scrubbed)")
    parser.add_argument("--quotes-url", help="base URL of the delayed-quotes service (developer setting)")
    parser.add_argument(
        "--developer",
        action="store_true",
        default=os.environ.get(DEVELOPER_ENV) == "1",
        help=f"developer settings: point a connection at a fake broker's address (or ${DEVELOPER_ENV}=1)",
    )
    parser.add_argument(
        "--smoke-connect",
        metavar="FILE",
        type=Path,
        help="developer check: start headless, connect the broker described in FILE (a JSON connection form), "
        "print the account, exit",
    )
    parser.add_argument(
        "--keyring-check", action="store_true", help="print the system keyring the vault would use and whether it can, exit"
    )
    parser.add_argument("--version", action="version", version=f"TradeBridge {__version__}")
    return parser.parse_args(argv)


async def open_app(
    args: argparse.Namespace,
    paths: AppPaths,
    ask: Callable[[str, Path], bool] | None = None,
    window: MainWindow | None = None,
) -> AppServices | int:
    """Start the app; a database refused with a usable backup is restored only on the trader's yes."""
    # The composition root, the controllers and storage (SQLAlchemy) load here, after the window is shown.
    import asyncio

    from app.main import start_app
    from app.storage.database import DatabaseError, restore_backup

    ask = ask or ask_to_restore
    offered: set[Path] = set()
    while True:
        try:
            return await start_app(paths, quotes_url=args.quotes_url, developer_mode=args.developer, window=window)
        except DatabaseError as exc:
            log.error("The database can't be opened: %s", exc)
            backup = exc.restorable
            if backup is None or backup in offered or _headless(args) or not ask(str(exc), backup):
                _show_fatal(str(exc), interactive=not _headless(args))
                return EXIT_DATABASE
            offered.add(backup)
            await asyncio.to_thread(restore_backup, paths.database, backup, paths.backups)


class OpeningWindow:
    """The main window shown disabled before the app's loop exists; it remembers its first frame and a close."""

    def __init__(self, app: QApplication, args: argparse.Namespace, guard: InstanceGuard, started: float) -> None:
        self._app = app
        # Only what the first frame shows; the hidden tabs and docks are built once the app is loaded (start_app).
        self.window = MainWindow(defer_hidden=True)
        self.window.show_loading()
        self.drawn_at: float | None = None
        self.closed = False
        self._smoke = bool(args.smoke_test)
        self._started = started
        self._on_drawn: list[Callable[[float], None]] = []
        FirstPaint(self.window).painted.connect(self._frame_drawn)
        # Set up before loading: a trader who closes the window while it loads ends the app once it has started.
        app.lastWindowClosed.connect(self._window_closed)
        self.window.show()
        guard.on_activate(lambda: bring_to_front(self.window))
        log.info("Main window shown")

    def wait_for_first_frame(self, timeout: float) -> None:
        """Run Qt's own loop until the first frame is drawn or ``timeout`` seconds pass; it needs no asyncio."""
        if self.drawn_at is not None:
            return
        waiting = QEventLoop()
        self._on_drawn.append(lambda _at: waiting.quit())
        QTimer.singleShot(int(timeout * 1000), waiting.quit)
        waiting.exec()

    def when_drawn(self, callback: Callable[[float], None]) -> None:
        """``callback(drawn_at)`` now if the first frame is drawn, else once it is."""
        if self.drawn_at is not None:
            callback(self.drawn_at)
        else:
            self._on_drawn.append(callback)

    def when_closed(self, callback: Callable[[], None]) -> None:
        """``callback()`` now if the window was already closed, and whenever the last window closes."""
        self._app.lastWindowClosed.connect(callback)
        if self.closed:
            callback()

    def _frame_drawn(self) -> None:
        if self.drawn_at is not None:
            return
        self.drawn_at = time.perf_counter()
        if self._smoke:
            # Printed as it happens, so a parent process can time the window by its own clock.
            _smoke_figure("main window shown", self.drawn_at - self._started)
        for callback in self._on_drawn:
            callback(self.drawn_at)
        self._on_drawn.clear()

    def _window_closed(self) -> None:
        self.closed = True


async def _run(args: argparse.Namespace, paths: AppPaths, opening: OpeningWindow, started: float) -> int:
    import asyncio

    window = opening.window
    loop = asyncio.get_running_loop()
    first_frame: asyncio.Future[float] = loop.create_future()
    opening.when_drawn(lambda at: None if first_frame.done() else first_frame.set_result(at))
    closed = asyncio.Event()
    opening.when_closed(closed.set)
    services = await open_app(args, paths, window=window)
    if isinstance(services, int):
        window.close()
        window.deleteLater()
        return services
    # What the imports built lives as long as the process: moved out of the collector's view, so the full
    # collections the app runs on its Qt thread (and the last one at exit) walk only what it allocated since.
    gc.freeze()
    window.show_loaded()
    ready = time.perf_counter() - started
    log.info("Main window ready: state loaded, order entry open")
    if args.smoke_test:
        _smoke_figure("main window ready", ready)
    if (old_sqlite := sqlite_version_warning()) is not None:
        log.warning("%s", old_sqlite)
        window.show_error(old_sqlite)
    if args.smoke_connect is not None:
        from app.smoke import load_connect_form, smoke_connect

        form, passphrase = load_connect_form(args.smoke_connect)
        vault_start = services.background[0] if services.background else None
        code = await smoke_connect(services.connections, services.vault, vault_start, form, passphrase)
        window.close()
        await services.shutdown()
        return code
    if args.smoke_test:
        # A window never drawn fails the check (its figure was printed when its first frame was drawn).
        shown = await asyncio.wait_for(first_frame, SMOKE_PAINT_TIMEOUT) - started
        # Let the loop run a little longer (slots queued by the start run, the quote poll starts).
        await asyncio.sleep(0.1)
        log.info("Smoke test passed: main window built on %s, shown %.3f s, ready %.3f s after start",
                 paths.data_dir, shown, ready)
        window.close()
        await services.shutdown()
        _smoke_figure("smoke test passed, shut down", time.perf_counter() - started)
        return EXIT_OK
    await closed.wait()
    await services.shutdown()
    return EXIT_OK


def _smoke_figure(what: str, seconds: float) -> None:
    print(f"TradeBridge: {what} {seconds:.3f} s after start", flush=True)


def bring_to_front(window: MainWindow) -> None:
    if window.isMinimized():
        window.showNormal()
    window.raise_()
    window.activateWindow()


def claim_or_hand_over(args: argparse.Namespace, paths: AppPaths) -> InstanceGuard | int:
    """The data folder's lock, or the exit code of a start that found another app on the folder."""
    # The local server listens once the first frame is drawn (see main), before any state is touched.
    claim = claim_data_folder(paths.data_dir, contact_running=not _headless(args), listen=False)
    if isinstance(claim, AlreadyRunning):
        if claim.reached:
            print(f"TradeBridge: {claim.message}", file=sys.stderr)
            return EXIT_OK
        _show_fatal(claim.message, interactive=not _headless(args))
        return EXIT_ALREADY_RUNNING
    return claim


def ask_to_restore(problem: str, backup: Path) -> bool:
    """Restoring a backup replaces the database: only on the trader's yes."""
    answer = QMessageBox.question(
        None,
        "TradeBridge: restore a backup?",
        f"{problem}\n\nRestore the backup {backup.name}? Trades made after it was taken are not in it. "
        "The current database file is kept in the backups folder.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def _headless(args: argparse.Namespace) -> bool:
    """A check run: no dialogs, offscreen unless told otherwise."""
    return bool(args.smoke_test or args.smoke_connect is not None)


def _show_fatal(message: str, *, interactive: bool) -> None:
    print(f"TradeBridge: {message}", file=sys.stderr)
    if interactive and QApplication.instance() is not None:
        QMessageBox.critical(None, "TradeBridge can't start", message)


def _qt_message_handler(mode: QtMsgType, _context: Any, message: str) -> None:
    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }.get(mode, logging.WARNING)
    logging.getLogger("qt").log(level, "%s", message)


def install_error_handlers(paths: AppPaths, *, interactive: bool) -> CrashReporter:
    """Unexpected errors are logged and written to a crash report (both scrubbed) and shown, never lost.

    The process's and threads' hooks are set here, before the window is built; the loop's handler is set
    by ``watch_loop`` once the loop exists.
    """

    def show(summary: str, report: Path | None) -> None:
        if interactive and QApplication.instance() is not None:
            where = f"\n\nA report was saved to {report}." if report else ""
            QMessageBox.critical(None, "Unexpected error", f"{summary}{where}\n\nDetails are in the log file.")

    reporter = CrashReporter(paths.crash_reports, app_version=__version__, show=show)
    sys.excepthook = reporter.excepthook
    threading.excepthook = reporter.thread_excepthook
    return reporter


def watch_loop(loop: asyncio.AbstractEventLoop, reporter: CrashReporter) -> None:
    """An error no task awaited is reported like any other unexpected error."""

    def loop_handler(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, BaseException):
            reporter.report((type(error), error, error.__traceback__), context="in a background task")
        else:
            log.error("Event loop error: %s", context.get("message"))

    loop.set_exception_handler(loop_handler)


def main(argv: Sequence[str] | None = None, *, started: float | None = None) -> int:
    """Run the app; ``started`` is the ``time.perf_counter()`` of the process's start, for the smoke test's figures."""
    started = time.perf_counter() if started is None else started
    args = parse_args(argv)
    if args.keyring_check:
        from app.smoke import keyring_check

        return keyring_check()
    if args.smoke_connect is not None:
        from app.smoke import SmokeFormError, load_connect_form

        try:
            load_connect_form(args.smoke_connect)
        except SmokeFormError as exc:
            print(f"TradeBridge: {exc}.", file=sys.stderr)
            return EXIT_ERROR
    headless = _headless(args)
    if headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    paths = resolve_paths(args.data_dir)
    try:
        paths.ensure()
    except OSError as exc:
        print(f"TradeBridge: the data folder {paths.data_dir} can't be used ({exc.strerror or exc}).", file=sys.stderr)
        return EXIT_ERROR
    app = QApplication.instance() or QApplication(sys.argv[:1])
    # Before anything is logged or opened: a second app on this folder writes nothing.
    guard = claim_or_hand_over(args, paths)
    if isinstance(guard, int):
        return guard
    try:
        # A failing log handler must not print the record it was given (it may hold a secret) to stderr.
        logging.raiseExceptions = False
        configure_logging(paths, logging.DEBUG if args.debug else logging.INFO)
    except OSError as exc:
        guard.release()
        print(f"TradeBridge: the data folder {paths.data_dir} can't be used ({exc.strerror or exc}).", file=sys.stderr)
        return EXIT_ERROR
    log.info("TradeBridge %s starting; data in %s", __version__, paths.data_dir)
    qInstallMessageHandler(_qt_message_handler)
    app.setApplicationName("TradeBridge")
    app.setApplicationVersion(__version__)
    # Matches the installed desktop entry (tradebridge.desktop), so Wayland shells show the right icon.
    app.setDesktopFileName("tradebridge")
    icon = RESOURCES / "tradebridge.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    # Closing the window must not stop the loop before the orderly shutdown in _run has finished.
    app.setQuitOnLastWindowClosed(False)
    reporter = install_error_handlers(paths, interactive=not headless)
    try:
        opening = OpeningWindow(app, args, guard, started)
        # The first frame is drawn before the rest of the app is imported (which holds the Qt thread a while).
        # A smoke test waits for it as long as it takes, so its figures always come in the order they name.
        opening.wait_for_first_frame(SMOKE_PAINT_TIMEOUT if args.smoke_test else FIRST_FRAME_WAIT)
        guard.listen()
        # asyncio and qasync are needed from here on, not to draw the window.
        import asyncio

        from app.event_loop import DesktopEventLoop

        loop = DesktopEventLoop(app)
        asyncio.set_event_loop(loop)
        watch_loop(loop, reporter)
        with loop:
            return loop.run_until_complete(_run(args, paths, opening, started))
    except Exception as exc:
        log.critical("TradeBridge stopped on an unexpected error", exc_info=True)
        _show_fatal(redact(f"{type(exc).__name__}: {exc}"), interactive=not headless)
        return EXIT_ERROR
    finally:
        guard.release()
        qInstallMessageHandler(None)
        logging.shutdown()
