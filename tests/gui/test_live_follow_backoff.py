"""A reconciliation that keeps failing is retried on a doubling, capped delay that starts again after a success.

The follower's sleep is the test's: it records each wait instead of waiting, so the schedule is checked
exactly, with no timing in the test. The broker is Alpaca's fake, gone down and brought back.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from app.brokers.base import Environment
from app.brokers.registry import get_spec
from app.controller.live_follow import RECONCILE_BACKOFF_CAP, LiveFollower
from app.controller.live_views import LiveSession
from app.storage.database import open_database
from app.storage.worker import DatabaseWorker
from tests.conftest import until
from tests.fakes import make_fake


def test_failing_reconciliation_backs_off_doubling_to_a_cap_and_resets_on_success(qt_loop, tmp_path) -> None:
    fake = make_fake("alpaca").serve_in_background()
    broker = get_spec("alpaca").factory(fake.credentials(), Environment.PAPER, base_url=fake.address)
    worker = DatabaseWorker()
    waits: list[float] = []
    back_after = 9

    async def recorded_sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == back_after:
            fake.come_back()
        await asyncio.sleep(0)

    async def scenario() -> None:
        await worker.open(lambda: open_database(tmp_path / "tb.sqlite3", tmp_path / "backups"))
        info = await broker.verify()
        follower = LiveFollower(
            worker, lambda: datetime.now(UTC), verify=broker.verify, check_health=_healthy,
            poll_interval=1.0, sleep=recorded_sleep,
        )
        outcomes: list[bool] = []
        follower.reconciled.connect(lambda ok, _reason: outcomes.append(ok))
        try:
            fake.go_down()
            assert not await follower.start(LiveSession(broker, "alpaca", "Alpaca", "paper", info))
            await until(lambda: len(waits) >= back_after + 3, timeout=60, message=f"waits so far: {waits}")
            assert follower.is_reconciled and follower.reconcile_failures == 0
        finally:
            await follower.stop(mark=False)
            await broker.close()
            await worker.close()
        failed = back_after
        assert waits[:failed] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, RECONCILE_BACKOFF_CAP, RECONCILE_BACKOFF_CAP,
                                  RECONCILE_BACKOFF_CAP]
        # Reconciled on the attempt after the broker came back; from then on it follows at the poll interval.
        assert waits[failed:failed + 3] == [1.0, 1.0, 1.0]
        assert outcomes[:failed] == [False] * failed and outcomes[failed] is True

    try:
        qt_loop.run(scenario(), timeout=90)
    finally:
        fake.shut_down()


async def _healthy() -> bool:
    return True
