"""Crash reports a trader can send for support: the traceback, scrubbed, in a private file.

``crash_text`` is what a crash dialog shows; ``write_crash_report`` puts the same scrubbed text,
with the app and platform versions, into ``AppPaths.crash_reports`` as a new 0600 file.
``CrashReporter`` bundles both as ``sys.excepthook`` / ``threading.excepthook`` handlers.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from app.security.redaction import redact

log = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
PRIVATE_FILE_MODE = 0o600


def crash_text(exc_info: ExcInfo) -> str:
    """The full traceback (chained causes included), scrubbed of every secret."""
    kind, value, tb = exc_info
    return redact("".join(traceback.format_exception(kind, value, tb)))


def crash_summary(exc_info: ExcInfo) -> str:
    """The last line of the traceback, scrubbed: short enough for a dialog."""
    kind, value, _tb = exc_info
    return redact("".join(traceback.format_exception_only(kind, value)).strip())


def write_crash_report(directory: Path, exc_info: ExcInfo, *, app_version: str = "", context: str = "") -> Path:
    """Write a new crash report file (never overwriting one) and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    header = [
        "TradeBridge crash report",
        f"time: {stamp.isoformat()}",
        f"version: {app_version or 'unknown'}",
        f"python: {sys.version.split()[0]} on {platform.platform()}",
        f"thread: {threading.current_thread().name}",
    ]
    if context:
        header.append(f"context: {redact(context)}")
    body = "\n".join(header) + "\n\n" + crash_text(exc_info)
    base = f"crash-{stamp.strftime('%Y%m%dT%H%M%S%fZ')}-{os.getpid()}"
    for attempt in range(100):
        path = directory / (f"{base}.txt" if attempt == 0 else f"{base}-{attempt}.txt")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
        if os.name == "posix":
            os.chmod(path, PRIVATE_FILE_MODE)
        return path
    raise FileExistsError(f"no free crash report name in {directory}")


class CrashReporter:
    """Turns an unexpected exception into a log line, a report file and (optionally) a dialog.

    ``show(summary, report_path)`` is the GUI's hook; it receives scrubbed text only.
    """

    def __init__(
        self,
        directory: Path,
        *,
        app_version: str = "",
        show: Callable[[str, Path | None], None] | None = None,
    ) -> None:
        self.directory = directory
        self.app_version = app_version
        self.show = show

    def report(self, exc_info: ExcInfo, context: str = "") -> Path | None:
        path: Path | None
        try:
            path = write_crash_report(self.directory, exc_info, app_version=self.app_version, context=context)
        except OSError as error:
            log.error("Could not write a crash report (%s)", type(error).__name__)
            path = None
        log.critical("Unexpected error%s", f" ({context})" if context else "", exc_info=exc_info)
        if self.show is not None:
            self.show(crash_summary(exc_info), path)
        return path

    def excepthook(self, kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        self.report((kind, value, tb))

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        self.report((args.exc_type, args.exc_value, args.exc_traceback), context=f"in {name}")

    def install(self) -> None:
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook
