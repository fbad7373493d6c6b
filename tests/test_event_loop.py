"""Work handed back to the loop from other threads: every callback runs once, on the loop's thread, in order."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.event_loop import DesktopEventLoop
from tests.conftest import QtLoop

THREADS = 6
CALLS_PER_THREAD = 400

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


def test_callbacks_from_many_threads_all_run_on_the_loop_thread_in_each_threads_order(qt_loop: QtLoop) -> None:
    seen: dict[int, list[int]] = {n: [] for n in range(THREADS)}
    loop_threads: set[int] = set()

    def note(sender: int, index: int) -> None:
        loop_threads.add(threading.get_ident())
        seen[sender].append(index)

    def send(sender: int) -> None:
        for index in range(CALLS_PER_THREAD):
            qt_loop.loop.call_soon_threadsafe(note, sender, index)

    async def scenario() -> None:
        senders = [threading.Thread(target=send, args=(n,)) for n in range(THREADS)]
        for sender in senders:
            sender.start()
        while sum(len(indexes) for indexes in seen.values()) < THREADS * CALLS_PER_THREAD:
            await asyncio.sleep(0.01)
        for sender in senders:
            sender.join()

    qt_loop.run(scenario(), timeout=60)
    assert loop_threads == {threading.get_ident()}
    assert all(indexes == list(range(CALLS_PER_THREAD)) for indexes in seen.values())


def test_a_burst_of_worker_results_reaches_every_awaiting_coroutine(qt_loop: QtLoop) -> None:
    async def scenario() -> list[int]:
        with ThreadPoolExecutor(max_workers=1) as worker:
            futures = [asyncio.wrap_future(worker.submit(lambda n=n: n * n)) for n in range(2000)]
            return list(await asyncio.gather(*futures))

    assert qt_loop.run(scenario(), timeout=60) == [n * n for n in range(2000)]


def test_a_callback_runs_in_the_context_it_was_handed_over_with(qt_loop: QtLoop) -> None:
    async def scenario() -> str:
        done: asyncio.Future[str] = qt_loop.loop.create_future()
        context = contextvars.copy_context()
        context.run(request_id.set, "order-17")

        def report() -> None:
            done.set_result(request_id.get())

        threading.Thread(target=lambda: qt_loop.loop.call_soon_threadsafe(report, context=context)).start()
        return await done

    assert qt_loop.run(scenario()) == "order-17"
    assert request_id.get() == "none"


def test_a_handed_over_callback_cancelled_before_the_loop_reaches_it_does_not_run(qt_loop: QtLoop) -> None:
    ran: list[str] = []

    async def scenario() -> None:
        handle = qt_loop.loop.call_soon_threadsafe(ran.append, "cancelled")
        handle.cancel()
        qt_loop.loop.call_soon_threadsafe(ran.append, "kept")
        while not ran:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)

    qt_loop.run(scenario())
    assert ran == ["kept"]


def test_a_closed_loop_refuses_hand_overs_and_a_late_worker_result_is_dropped(qapp) -> None:
    loop = DesktopEventLoop(qapp)
    asyncio.set_event_loop(loop)
    release = threading.Event()
    worker = ThreadPoolExecutor(max_workers=1)
    try:

        async def start() -> asyncio.Future[str]:
            return asyncio.wrap_future(worker.submit(lambda: (release.wait(10), "late")[1]))

        pending = loop.run_until_complete(start())
        loop.close()
        with pytest.raises(RuntimeError, match="closed"):
            loop.call_soon_threadsafe(print, "never")
        release.set()
        worker.shutdown(wait=True)
        assert not pending.done()
    finally:
        asyncio.set_event_loop(None)
