"""A crash between the broker receiving a live order and its answer: the next start finds it, never resends it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import keyring
import pytest

from app.domain.models import OrderStatus
from tests.conftest import until
from tests.gui.live_support import journal, make_rig, running
from tests.security.keyrings import FILE_KEYRING_ENV, FileKeyring

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is a POSIX signal")
def test_sigkill_after_the_broker_got_the_order_then_restart_resolves_it_once(
    qtbot, qt_loop, app_paths, feed, clock, tmp_path, monkeypatch
) -> None:
    rig = make_rig("alpaca")
    # The broker books the order and holds its answer: the app is killed in between.
    hang = rig.fake.hang_next_order_response("place")
    keyring_file = tmp_path / "keyring.json"
    env = dict(os.environ)
    env.update(
        {
            "PYTHON_KEYRING_BACKEND": "tests.security.keyrings.FileKeyring",
            FILE_KEYRING_ENV: str(keyring_file),
            "PYTHONPATH": str(ROOT),
            "QT_QPA_PLATFORM": "offscreen",
        }
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.gui.live_child", str(app_paths.data_dir), rig.fake.address],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None and child.stderr is not None
        line = child.stdout.readline().strip()
        assert line.startswith("SENDING "), child.stderr.read()
        client_order_id = line.removeprefix("SENDING ")
        assert hang.wait_received(30), "the fake never received the order"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        assert child.returncode == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()

    monkeypatch.setenv(FILE_KEYRING_ENV, str(keyring_file))
    keyring.set_keyring(FileKeyring())

    async def restart() -> None:
        async with running(qtbot, app_paths, feed, clock) as services:
            before = await journal(services, client_order_id)
            assert before is not None and before.status is OrderStatus.PENDING_SUBMIT
            await until(lambda: services.live.entry_enabled, timeout=30, message="not reconciled after the restart")
            after = await journal(services, client_order_id)
            assert after.status is OrderStatus.NEW and after.broker_order_id
            assert rig.fake.order_count() == 1
            assert len(rig.order_changes()) == 1

    try:
        qt_loop.run(restart(), timeout=90)
    finally:
        rig.stop()
