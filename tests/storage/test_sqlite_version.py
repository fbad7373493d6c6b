"""The SQLite library check at start: older than the WAL-reset fix is said, newer is silent."""

from __future__ import annotations

import sqlite3

from app.storage.sqlite_version import MINIMUM_SAFE_SQLITE, sqlite_version_warning


def test_an_older_library_is_named_with_the_version_that_fixes_it() -> None:
    warning = sqlite_version_warning((3, 40, 1))
    assert warning is not None
    assert "SQLite 3.40.1" in warning and "3.51.3" in warning


def test_the_fixed_release_and_later_ones_are_silent() -> None:
    assert sqlite_version_warning(MINIMUM_SAFE_SQLITE) is None
    assert sqlite_version_warning((3, 52, 0)) is None
    assert sqlite_version_warning((4, 0, 0)) is None


def test_without_an_argument_the_running_library_is_checked() -> None:
    expected = sqlite_version_warning(sqlite3.sqlite_version_info)
    assert sqlite_version_warning() == expected
