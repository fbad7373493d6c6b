"""While the app runs, reference cycles are collected on the Qt thread, never in a worker thread."""

from __future__ import annotations

import gc
import threading
import warnings
import weakref

from app.controller.qt_gc import QtThreadGarbageCollector
from tests.conftest import QtLoop, until


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def _collect_earlier_garbage() -> None:
    """Garbage left by earlier tests (an unclosed connection warns when collected) is not this test's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def test_cycles_made_in_a_worker_thread_are_collected_on_the_qt_thread(qt_loop: QtLoop) -> None:
    _collect_earlier_garbage()
    collector = QtThreadGarbageCollector()
    collected_in: list[str] = []
    collector.start()
    try:
        assert not gc.isenabled()

        def make_garbage() -> None:
            cycle = _Cycle()
            weakref.finalize(cycle, lambda: collected_in.append(threading.current_thread().name))
            del cycle
            # Enough allocations that an enabled collector would have run here, in this thread.
            junk = [_Cycle() for _ in range(20_000)]
            del junk

        worker = threading.Thread(target=make_garbage, name="worker")
        worker.start()
        worker.join()
        assert collected_in == []
        qt_loop.run(until(lambda: bool(collected_in), timeout=10, message="the cycle was never collected"))
        assert collected_in == [threading.main_thread().name]
    finally:
        collector.stop()
    assert gc.isenabled()


def test_collection_is_handed_back_only_when_the_last_app_stops(qt_loop: QtLoop) -> None:
    _collect_earlier_garbage()
    first, second = QtThreadGarbageCollector(), QtThreadGarbageCollector()
    first.start()
    second.start()
    first.stop()
    assert not gc.isenabled()
    second.stop()
    assert gc.isenabled()
