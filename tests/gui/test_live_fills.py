"""Live executions in the Fills table: each broker execution once, its commission where the broker reports one,
and the same rows after a restart (read back from the journal, not from the broker again)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from tests.conftest import until
from tests.gui.live_support import fill_rows, go_live, make_rig, place_live, running, until_status

pytestmark = pytest.mark.slow


def _rows_of(services, client_order_id: str) -> list[tuple[str, str, str, str, str]]:
    """(mode, side, qty, price, commission) of the order's rows in the Fills table, as shown."""
    model = services.window.orders_pane.fills.model
    return [
        tuple(model.text(row, key) for key in ("mode", "side", "qty", "price", "commission"))
        for row in range(model.rowCount())
        if model.row_at(row).fill.client_order_id == client_order_id
    ]


@pytest.mark.parametrize("broker", ["ibkr", "alpaca"])
def test_live_fills_appear_once_with_commission_and_come_back_after_restart(
    broker, qtbot, qt_loop, app_paths, feed, clock
) -> None:
    """IBKR reports a commission per execution (after the execution itself); Alpaca charges none."""
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")
    rig = make_rig(broker)
    ids: dict[str, str] = {}

    async def trade() -> None:
        async with running(qtbot, app_paths, feed, clock) as services:
            await go_live(qtbot, services, rig)
            cid = ids["order"] = await place_live(qtbot, services, "AAPL", "buy", "3", "175")
            await until_status(services, cid, "new", timeout=30)
            rig.fake.fill(cid, Decimal(1), Decimal("175"))
            await until(lambda: len(_rows_of(services, cid)) == 1, timeout=30, message="the partial fill is not in the Fills table")
            rig.fake.fill(cid, Decimal(2), Decimal("174.50"))
            await until_status(services, cid, "filled", timeout=30)
            expected = [("Live", "Buy", "2", "174.50"), ("Live", "Buy", "1", "175.00")]
            await until(lambda: [r[:4] for r in _rows_of(services, cid)] == expected, timeout=30, message=str(_rows_of(services, cid)))
            if broker == "ibkr":
                # The commission report follows each execution: the row is updated in place, not added.
                await until(lambda: [r[4] for r in _rows_of(services, cid)] == ["$1.00", "$1.00"], timeout=30,
                            message=str(_rows_of(services, cid)))
            else:
                assert [r[4] for r in _rows_of(services, cid)] == ["$0.00", "$0.00"]
            # Further polls and pushed reports of the same executions add nothing.
            for _ in range(10):
                await asyncio.sleep(services.live.follower.poll_interval)
            assert len(_rows_of(services, cid)) == 2
            rows = await fill_rows(services, cid)
            assert sorted((r.quantity, r.commission) for r in rows) == sorted(
                (Decimal(q), Decimal(c[1:])) for _m, _s, q, _p, c in _rows_of(services, cid)
            )
            ids["shown"] = repr(_rows_of(services, cid))

    async def restart() -> None:
        async with running(qtbot, app_paths, feed, clock) as services:
            assert repr(_rows_of(services, ids["order"])) == ids["shown"]
            await until(lambda: services.live.entry_enabled, timeout=30, message="not reconciled after restart")
            for _ in range(5):
                await asyncio.sleep(services.live.follower.poll_interval)
            assert repr(_rows_of(services, ids["order"])) == ids["shown"]
            assert len(await fill_rows(services, ids["order"])) == 2

    try:
        qt_loop.run(trade(), timeout=120)
        qt_loop.run(restart(), timeout=120)
    finally:
        rig.stop()
