"""A controller's background writes: ``settle`` waits every one of them out, and always returns."""

from __future__ import annotations

import asyncio

from app.controller.background import BackgroundTasks


async def test_settle_returns_when_a_task_has_finished_but_its_done_callback_has_not_run_yet() -> None:
    tasks = BackgroundTasks()
    written = asyncio.get_running_loop().create_future()
    tasks.start(written)
    written.set_result("row 1")  # the set's own done callback is now only scheduled, not run
    await asyncio.wait_for(tasks.settle(), 5)
    assert len(tasks) == 0


async def test_settle_waits_for_tasks_that_finishing_tasks_start() -> None:
    tasks = BackgroundTasks()
    order: list[str] = []

    async def second() -> None:
        await asyncio.sleep(0.01)
        order.append("second")

    async def first() -> None:
        await asyncio.sleep(0.01)
        order.append("first")
        tasks.start(second())

    tasks.start(first())
    await tasks.settle()
    assert order == ["first", "second"] and len(tasks) == 0


async def test_a_failed_task_is_waited_out_without_failing_settle() -> None:
    tasks = BackgroundTasks()

    async def broken() -> None:
        raise OSError("disk full")

    failed = tasks.start(broken())
    await tasks.settle()
    assert isinstance(failed.exception(), OSError) and len(tasks) == 0
