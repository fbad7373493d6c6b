"""`python -m app --smoke-test` on fresh, existing and unusable data dirs, in a child process."""

from __future__ import annotations

import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from tests.app_process import run_app

pytestmark = pytest.mark.subprocess


def _smoke(data_dir: Path) -> subprocess.CompletedProcess[str]:
    # The null keyring: a smoke run never touches the user's real keyring.
    return run_app(["--smoke-test", "--data-dir", str(data_dir)])


def test_smoke_test_on_a_fresh_then_existing_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    first = _smoke(data_dir)
    assert first.returncode == 0, first.stderr
    assert (data_dir / "tradebridge.sqlite3").exists()
    assert (data_dir / "logs" / "tradebridge.log").read_text().count("Smoke test passed") == 1
    # Its figures, in the order they happen: the window's first frame drawn (loading), the window ready for
    # orders (state loaded, input enabled), then the orderly shutdown.
    lines = first.stdout.splitlines()
    assert [line.split(" s after start")[0].rsplit(" ", 1)[0] for line in lines] == [
        "TradeBridge: main window shown",
        "TradeBridge: main window ready",
        "TradeBridge: smoke test passed, shut down",
    ]
    shown, ready, ended = (float(line.split(" s after start")[0].rsplit(" ", 1)[1]) for line in lines)
    assert 0 < shown <= ready <= ended
    second = _smoke(data_dir)
    assert second.returncode == 0, second.stderr


def test_smoke_test_refuses_a_newer_database_with_a_message(tmp_path: Path) -> None:
    data_dir = tmp_path / "newer"
    assert _smoke(data_dir).returncode == 0
    with closing(sqlite3.connect(data_dir / "tradebridge.sqlite3")) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    before = (data_dir / "tradebridge.sqlite3").read_bytes()
    result = _smoke(data_dir)
    assert result.returncode != 0
    assert "newer version of TradeBridge" in result.stderr
    assert (data_dir / "tradebridge.sqlite3").read_bytes() == before


def test_unusable_data_dir_is_refused_with_a_message(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    result = _smoke(blocker / "data")
    assert result.returncode != 0
    assert "can't be used" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_empty_database_file_is_reported_as_damaged_not_replaced(tmp_path: Path) -> None:
    data_dir = tmp_path / "empty"
    data_dir.mkdir()
    (data_dir / "tradebridge.sqlite3").touch()
    result = _smoke(data_dir)
    assert result.returncode == 2
    assert "empty (0 bytes)" in result.stderr
    assert (data_dir / "tradebridge.sqlite3").stat().st_size == 0
    assert "Smoke test passed" not in result.stderr


def test_a_log_file_that_cant_be_written_is_refused_with_a_message_before_anything_is_opened(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    # A folder where the log file should be: the data folder exists, its log file can't be opened.
    (data_dir / "logs" / "tradebridge.log").mkdir(parents=True)
    result = _smoke(data_dir)
    assert result.returncode == 1
    assert f"the data folder {data_dir} can't be used" in result.stderr
    assert "Traceback" not in result.stderr
    assert "main window shown" not in result.stdout
    assert not (data_dir / "tradebridge.sqlite3").exists()
