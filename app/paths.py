"""Where TradeBridge keeps its files: one data directory, overridable for tests and smoke runs."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "TradeBridge"
DATA_DIR_ENV = "TRADEBRIDGE_DATA_DIR"


@dataclass(frozen=True, slots=True)
class AppPaths:
    data_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "tradebridge.sqlite3"

    @property
    def backups(self) -> Path:
        return self.data_dir / "backups"

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    @property
    def log_file(self) -> Path:
        return self.logs / "tradebridge.log"

    @property
    def crash_reports(self) -> Path:
        return self.data_dir / "crash-reports"

    def ensure(self) -> AppPaths:
        """Create the directories, private to this user on POSIX (0700)."""
        for directory in (self.data_dir, self.backups, self.logs, self.crash_reports):
            directory.mkdir(parents=True, exist_ok=True)
            if os.name == "posix":
                os.chmod(directory, 0o700)
        return self


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
    """``--data-dir`` wins, then ``$TRADEBRIDGE_DATA_DIR``, then the platform's user data directory."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV)
    if chosen:
        return AppPaths(Path(chosen).expanduser().resolve())
    return AppPaths(Path(platformdirs.user_data_dir(APP_NAME, appauthor=False if sys.platform != "win32" else APP_NAME)))
