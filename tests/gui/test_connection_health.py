"""The connection's verification interval: a setting in minutes, 1 and up, kept across restarts."""

from __future__ import annotations

from PySide6.QtWidgets import QSpinBox

from tests.conftest import until
from tests.gui.live_support import start, stop


def test_verify_interval_accepts_one_minute_and_up_and_is_kept(qtbot, qt_loop, app_paths, feed, clock) -> None:
    async def first_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        try:
            spin = services.window.findChild(QSpinBox, "settings.verify_interval")
            assert spin.value() == 5 and spin.minimum() == 1
            errors: list[str] = []
            services.connections.error.connect(errors.append)
            assert not await services.connections.apply_verify_interval(0)
            assert "at least every minute" in errors[-1]
            assert services.connections.verify_interval_minutes == 5
            spin.setValue(1)
            spin.editingFinished.emit()
            await until(lambda: services.connections.verify_interval_minutes == 1)
        finally:
            await stop(services)

    async def second_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        try:
            spin = services.window.findChild(QSpinBox, "settings.verify_interval")
            await until(lambda: spin.value() == 1, message="the interval was not kept")
            assert services.connections.verify_interval_minutes == 1
        finally:
            await stop(services)

    qt_loop.run(first_run())
    qt_loop.run(second_run())
