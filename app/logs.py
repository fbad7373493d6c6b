"""Logging set-up: named loggers into a rotating file in the data dir, secrets scrubbed on every handler.

A start holds its first records in memory (``hold_records``) until the window's first frame is drawn;
``configure_logging`` then opens the log file and writes them, scrubbed like every other record. The
rotating handler (``logging.handlers``, with socket and pickle) and the redaction patterns load then,
not before the window shows.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.paths import AppPaths

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
MAX_LOG_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 5
#: Records held before the log file is open; a start logs a handful, so more means something is looping.
HELD_RECORDS = 10_000


class HeldRecords(logging.Handler):
    """Keeps records, unformatted and unscrubbed, in memory until the real handlers take them."""

    def __init__(self) -> None:
        super().__init__()
        self.records: collections.deque[logging.LogRecord] = collections.deque(maxlen=HELD_RECORDS)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def hold_records(level: int = logging.INFO) -> None:
    """From now until ``configure_logging`` (or ``release_held_records``), records at ``level`` and up are held."""
    root = logging.getLogger()
    if not any(isinstance(handler, HeldRecords) for handler in root.handlers):
        root.addHandler(HeldRecords())
    root.setLevel(level)


def _take_held(root: logging.Logger) -> list[logging.LogRecord]:
    held: list[logging.LogRecord] = []
    for handler in list(root.handlers):
        if isinstance(handler, HeldRecords):
            root.removeHandler(handler)
            held.extend(handler.records)
    return held


def _replay(records: list[logging.LogRecord], handlers: list[logging.Handler]) -> None:
    for record in records:
        for handler in handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


def release_held_records() -> None:
    """Write records still held (the log file was never opened) to stderr, scrubbed, so none is lost."""
    root = logging.getLogger()
    held = _take_held(root)
    if not held:
        return
    from app.security.redaction import RedactingFilter

    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter(LOG_FORMAT))
    console.addFilter(RedactingFilter())
    _replay(held, [console])
    console.flush()


@functools.cache
def _private_rotating_handler() -> type[logging.Handler]:
    import logging.handlers

    class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
        """Log files readable by this user only, rotated files included."""

        def _open(self):  # type: ignore[no-untyped-def]
            stream = super()._open()
            if os.name == "posix":
                os.chmod(self.baseFilename, 0o600)
            return stream

    return PrivateRotatingFileHandler


def configure_logging(paths: AppPaths, level: int = logging.INFO, *, console: bool = True) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_tradebridge", False):
            root.removeHandler(handler)
            handler.close()
    from app.security.redaction import RedactingFilter

    redactor = RedactingFilter()
    file_handler = _private_rotating_handler()(
        paths.log_file, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handlers: list[logging.Handler] = [file_handler]
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(redactor)
        handler._tradebridge = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # What a start logged before the file was open is written first, in order, through the same filters.
    _replay(_take_held(root), handlers)
    # httpx logs every request URL at INFO; keep them at DEBUG runs only.
    logging.getLogger("httpx").setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.INFO if level > logging.DEBUG else logging.DEBUG)
    # ib_insync logs whole orders and account numbers at INFO; its warnings and errors are what matter.
    logging.getLogger("ib_insync").setLevel(logging.WARNING)
