"""Live fills in the journal: a commission reported later is booked once, and today's fills are read by account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from app.domain.day_change import day_start
from app.domain.live_orders import BrokerReport, apply_report, pending_live_order
from app.domain.models import Fill, OrderRequest, OrderStatus, OrderType, Side, TradingMode
from app.domain.symbols import parse_symbol
from app.paths import AppPaths
from app.storage.database import open_database
from app.storage.fills_repository import fills_since
from app.storage.live_journal import record_pending, save_live_update, settle_commission

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _filled_twice(db, account: str = "0001", at: datetime = NOW) -> tuple[str, list[Fill]]:
    request = OrderRequest(parse_symbol("AAPL"), Side.BUY, Decimal(3), OrderType.LIMIT, limit_price=Decimal(150))
    order = pending_live_order(request, broker="ibkr", account_last4=account, now=at)
    db.transaction(lambda s: record_pending(s, order))
    recorded: list[Fill] = []
    for filled, status, seconds in ((1, OrderStatus.PARTIALLY_FILLED, 1), (3, OrderStatus.FILLED, 2)):
        update = apply_report(order, BrokerReport(status, Decimal(filled), Decimal(150), at + timedelta(seconds=seconds)))
        order = update.order
        recorded += db.transaction(lambda s: save_live_update(s, update.order, update.fills))
    return order.client_order_id, recorded


def test_a_later_commission_lands_on_the_newest_fill_once(tmp_path: Path) -> None:
    paths = AppPaths(tmp_path / "data").ensure()
    db = open_database(paths.database, paths.backups)
    try:
        cid, fills = _filled_twice(db)
        assert [f.commission for f in fills] == [0, 0]
        (first,) = db.transaction(lambda s: settle_commission(s, cid, Decimal("1.00")))
        assert first.fill_id == fills[-1].fill_id and first.commission == Decimal("1.00")
        (second,) = db.transaction(lambda s: settle_commission(s, cid, Decimal("2.50")))
        assert second.fill_id == fills[-1].fill_id and second.commission == Decimal("2.50")
        assert db.transaction(lambda s: settle_commission(s, cid, Decimal("2.50"))) == []
        assert db.transaction(lambda s: settle_commission(s, "no-such-order", Decimal("1.00"))) is None
        stored = db.transaction(lambda s: fills_since(s, day_start(NOW), TradingMode.LIVE))
        assert sum(f.commission for f in stored) == Decimal("2.50")
    finally:
        db.dispose()


def test_todays_fills_are_read_per_account_and_from_the_start_of_the_new_york_day(tmp_path: Path) -> None:
    paths = AppPaths(tmp_path / "data").ensure()
    db = open_database(paths.database, paths.backups)
    try:
        _filled_twice(db, "0001")
        _filled_twice(db, "0002")
        _filled_twice(db, "0001", at=NOW - timedelta(days=1))
        mine = db.transaction(
            lambda s: fills_since(s, day_start(NOW), TradingMode.LIVE, broker="ibkr", account_last4="0001")
        )
        assert [f.quantity for f in mine] == [Decimal(1), Decimal(2)]
        assert all(f.filled_at >= day_start(NOW) for f in mine)
        assert db.transaction(lambda s: fills_since(s, day_start(NOW), TradingMode.PAPER)) == []
    finally:
        db.dispose()
