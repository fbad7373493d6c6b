"""Logging set-up: named loggers into a rotating file in the data dir, secrets scrubbed on every handler."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys

from app.paths import AppPaths
from app.security.redaction import RedactingFilter

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
MAX_LOG_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 5


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Log files readable by this user only, rotated files included."""

    def _open(self):  # type: ignore[no-untyped-def]
        stream = super()._open()
        if os.name == "posix":
            os.chmod(self.baseFilename, 0o600)
        return stream


def configure_logging(paths: AppPaths, level: int = logging.INFO, *, console: bool = True) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_tradebridge", False):
            root.removeHandler(handler)
            handler.close()
    redactor = RedactingFilter()
    file_handler = _PrivateRotatingFileHandler(
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
    # httpx logs every request URL at INFO; keep them at DEBUG runs only.
    logging.getLogger("httpx").setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.INFO if level > logging.DEBUG else logging.DEBUG)
    # ib_insync logs whole orders and account numbers at INFO; its warnings and errors are what matter.
    logging.getLogger("ib_insync").setLevel(logging.WARNING)
