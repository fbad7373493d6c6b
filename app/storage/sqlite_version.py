"""The SQLite library under Python's ``sqlite3``: checked at start against the release that fixes the WAL-reset bug.

SQLite 3.7.0 through 3.51.2 can corrupt a WAL-mode database when one connection resets the
write-ahead log while another is checkpointing or writing at the same moment (SQLite's WAL
documentation, "The WAL-Reset Bug"); 3.51.3 fixes it. TradeBridge writes through one database
worker and one app per data folder, which keeps that race away, but an older library is still
worth knowing about: the trader is told at start, and the app runs on.
"""

from __future__ import annotations

import sqlite3

#: The first release with the WAL-reset fix.
MINIMUM_SAFE_SQLITE = (3, 51, 3)


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def sqlite_version_warning(version: tuple[int, ...] | None = None) -> str | None:
    """A sentence for the trader when the SQLite library is older than ``MINIMUM_SAFE_SQLITE``, else ``None``."""
    found = tuple(version if version is not None else sqlite3.sqlite_version_info)
    if found >= MINIMUM_SAFE_SQLITE:
        return None
    return (
        f"This Python uses SQLite {_dotted(found)}, older than {_dotted(MINIMUM_SAFE_SQLITE)}, which fixes a "
        "write-ahead-log bug that can damage a database written by two connections at once. TradeBridge "
        "writes through one connection at a time, but updating Python (or its SQLite library) removes the risk."
    )
