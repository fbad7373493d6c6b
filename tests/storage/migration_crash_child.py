"""Child for the migration crash tests: starts the database in a forked process and SIGKILLs it at step N.

``python -m tests.storage.migration_crash_child TEMPLATE WORK_ROOT`` first counts the steps of one
start (every SQL statement, every rename, fsync and backup), then for each step N copies the data
folder TEMPLATE to WORK_ROOT/N and forks a process that opens the database there and kills itself
with SIGKILL just before step N. It prints the number of steps. The parent test checks every folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.storage import database, migration


class Steps:
    def __init__(self) -> None:
        self.count = 0
        self.kill_at = 0

    def step(self, *_args: object, **_kwargs: object) -> None:
        self.count += 1
        if self.count == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


def _counted(steps: Steps, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        steps.step()
        result = fn(*args, **kwargs)
        steps.step()
        return result

    return wrapper


def _traced_when_building(steps: Steps, connect: Callable[..., sqlite3.Connection]) -> Callable[..., sqlite3.Connection]:
    def wrapper(database_path: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(database_path, *args, **kwargs)
        if str(database_path).endswith(migration.BUILDING_SUFFIX):
            connection.set_trace_callback(steps.step)
        return connection

    return wrapper


def _start(folder: Path) -> None:
    database.open_database(folder / "tradebridge.sqlite3", folder / "backups").dispose()


def main() -> int:
    template, work_root = Path(sys.argv[1]), Path(sys.argv[2])
    # The schema of each revision is worked out once per process; do it before counting steps.
    for revision in migration.known_revisions():
        migration.expected_tables(revision)
    steps = Steps()
    event.listen(Engine, "before_cursor_execute", steps.step)
    event.listen(Engine, "commit", steps.step)
    os.replace = _counted(steps, os.replace)  # type: ignore[assignment]
    os.fsync = _counted(steps, os.fsync)  # type: ignore[assignment]
    database.backup_database = _counted(steps, database.backup_database)  # type: ignore[assignment]
    database.migrate_in_place = _counted(steps, database.migrate_in_place)  # type: ignore[assignment]
    # A new database at the head is written by plain sqlite3 (the head schema): each of its statements too.
    sqlite3.connect = _traced_when_building(steps, sqlite3.connect)  # type: ignore[assignment]

    counting = work_root / "count"
    shutil.copytree(template, counting)
    _start(counting)
    total = steps.count
    for n in range(1, total + 1):
        folder = work_root / str(n)
        shutil.copytree(template, folder)
        pid = os.fork()
        if pid == 0:
            steps.count, steps.kill_at = 0, n
            try:
                _start(folder)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
            print(f"step {n} was not reached", file=sys.stderr)
            return 1
    print(total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
