"""A start's first records are held until the log file opens, then written in order and scrubbed; never lost."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.logs import HeldRecords, configure_logging, hold_records, release_held_records
from app.paths import AppPaths

TOKEN = "Bearer QzJxQzJxQzJxQzJxQzJx"

log = logging.getLogger("tests.logs")


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    """The root logger's handlers and level put back as they were after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def _held(root: logging.Logger) -> list[HeldRecords]:
    return [handler for handler in root.handlers if isinstance(handler, HeldRecords)]


def test_held_records_are_written_first_in_order_and_scrubbed_once_the_file_opens(
    root_logging: logging.Logger, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    paths = AppPaths(tmp_path / "data")
    paths.ensure()
    hold_records(logging.INFO)
    log.info("first, before the window")
    log.debug("below the level: never kept")
    log.warning("second, with a header Authorization: %s", TOKEN)
    assert not paths.log_file.exists()

    configure_logging(paths, logging.INFO)
    log.info("third, after the file opened")

    assert _held(root_logging) == []
    lines = paths.log_file.read_text(encoding="utf-8").splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "first, before the window",
        "second, with a header Authorization: ***",
        "third, after the file opened",
    ]
    err = capfd.readouterr().err
    assert "first, before the window" in err and "QzJxQzJx" not in err


def test_records_held_when_the_file_never_opens_go_to_stderr_scrubbed(
    root_logging: logging.Logger, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    paths = AppPaths(tmp_path / "data")
    paths.logs.mkdir(parents=True)
    paths.log_file.mkdir()
    hold_records(logging.INFO)
    log.error("the start failed with %s", TOKEN)
    with pytest.raises(OSError):
        configure_logging(paths, logging.INFO)
    assert len(_held(root_logging)) == 1

    release_held_records()

    assert _held(root_logging) == []
    err = capfd.readouterr().err
    assert "the start failed with Bearer ***" in err
    assert "QzJxQzJx" not in err
    release_held_records()
    assert capfd.readouterr().err == ""
