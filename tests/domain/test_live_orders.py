"""Following a live order: reports never move it backwards and every execution is recorded once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.domain.live_orders import (
    CHECKING_REASON,
    NOT_FOLLOWED_REASON,
    BrokerReport,
    apply_report,
    backoff_delay,
    commission_corrections,
    fill_key,
    mark_not_followed,
    mark_unknown,
    needs_resolution,
    pending_live_order,
    same_intent,
)
from app.domain.models import Fill, Instrument, OrderRequest, OrderStatus, OrderType, Side, TradingMode

T0 = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)


def _request(qty: str = "10", limit: str = "100") -> OrderRequest:
    return OrderRequest(Instrument("AAPL"), Side.BUY, Decimal(qty), OrderType.LIMIT, limit_price=Decimal(limit))


def _pending(qty: str = "10") -> object:
    return pending_live_order(_request(qty), broker="alpaca", account_last4="0001", now=T0)


def _report(status: OrderStatus, filled: str, avg: str | None, seconds: int = 1) -> BrokerReport:
    return BrokerReport(status, Decimal(filled), Decimal(avg) if avg else None, T0 + timedelta(seconds=seconds), "B-1")


def test_a_pending_row_is_live_for_its_account_and_awaits_the_broker() -> None:
    order = _pending()
    assert order.mode is TradingMode.LIVE and order.broker == "alpaca" and order.account_last4 == "0001"
    assert order.status is OrderStatus.PENDING_SUBMIT and needs_resolution(order)


def test_partial_then_full_fill_gives_two_fills_at_the_increment_prices() -> None:
    order = apply_report(_pending(), _report(OrderStatus.NEW, "0", None)).order
    first = apply_report(order, _report(OrderStatus.PARTIALLY_FILLED, "4", "100", 2))
    second = apply_report(first.order, _report(OrderStatus.FILLED, "10", "101.2", 3))
    assert [f.quantity for f in (*first.fills, *second.fills)] == [Decimal(4), Decimal(6)]
    assert first.fills[0].price == Decimal(100)
    # 10 @ 101.2 = 1012; 4 @ 100 = 400 -> the last 6 cost 612, i.e. 102 each.
    assert second.fills[0].price == Decimal(102)
    assert second.order.status is OrderStatus.FILLED and second.order.filled_quantity == Decimal(10)
    assert second.fills[0].fill_id == fill_key(order.client_order_id, Decimal(10))


def test_a_stale_report_after_a_fill_changes_nothing() -> None:
    filled = apply_report(_pending(), _report(OrderStatus.FILLED, "10", "100")).order
    stale = apply_report(filled, _report(OrderStatus.NEW, "0", None, 0))
    assert stale.order is filled and not stale.changed and stale.fills == ()


def test_a_cancel_that_raced_a_fill_ends_filled() -> None:
    cancelled = apply_report(_pending(), _report(OrderStatus.CANCELED, "0", None)).order
    filled = apply_report(cancelled, _report(OrderStatus.FILLED, "10", "100", 2))
    assert filled.order.status is OrderStatus.FILLED and len(filled.fills) == 1


def test_unknown_is_resolved_by_the_broker_report_and_its_reason_cleared() -> None:
    unknown = mark_unknown(_pending(), T0)
    assert unknown.status_reason == CHECKING_REASON
    found = apply_report(unknown, _report(OrderStatus.NEW, "0", None)).order
    assert found.status is OrderStatus.NEW and found.status_reason == "" and found.broker_order_id == "B-1"


def test_not_followed_marks_only_open_orders() -> None:
    open_order = apply_report(_pending(), _report(OrderStatus.NEW, "0", None)).order
    assert mark_not_followed(open_order, T0).status_reason == NOT_FOLLOWED_REASON
    filled = apply_report(open_order, _report(OrderStatus.FILLED, "10", "100")).order
    assert mark_not_followed(filled, T0) is filled


def test_the_same_intent_ignores_the_client_order_id_only() -> None:
    assert same_intent(_request(), _request())
    assert not same_intent(_request(), _request(qty="11"))
    assert not same_intent(_request(), _request(limit="101"))


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [backoff_delay(n, base=0.5, cap=4) for n in range(6)] == [0.5, 1, 2, 4, 4, 4]


_steps = st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=12)


@given(cumulatives=_steps, extra_order=st.permutations(list(range(12))))
def test_any_sequence_of_reports_records_each_execution_once(cumulatives: list[int], extra_order: list[int]) -> None:
    """Reports arrive repeated and out of order; filled never goes back and fills sum to the top."""
    order = apply_report(_pending(), _report(OrderStatus.NEW, "0", None)).order
    reports = [
        _report(OrderStatus.FILLED if c == 10 else OrderStatus.PARTIALLY_FILLED, str(c), "100" if c else None, i)
        for i, c in enumerate(cumulatives)
    ]
    shuffled = [reports[i] for i in extra_order if i < len(reports)] + reports
    recorded: dict[str, Decimal] = {}
    highest = Decimal(0)
    for report in shuffled:
        update = apply_report(order, report)
        assert update.order.filled_quantity >= order.filled_quantity
        for fill in update.fills:
            assert fill.fill_id not in recorded
            recorded[fill.fill_id] = fill.quantity
        order = update.order
        highest = max(highest, report.filled_quantity)
    assert order.filled_quantity == highest
    assert sum(recorded.values(), Decimal(0)) == highest


def _fills(*commissions: str) -> list[Fill]:
    return [
        Fill("C-1", "AAPL", Side.BUY, Decimal(1), Decimal(100), Decimal(c), T0 + timedelta(seconds=i), fill_key("C-1", Decimal(i + 1)))
        for i, c in enumerate(commissions)
    ]


def test_a_commission_reported_after_the_fill_goes_on_the_newest_fill() -> None:
    booked = _fills("1.00", "0")
    (corrected,) = commission_corrections(booked, Decimal("2.00"))
    assert corrected.fill_id == booked[-1].fill_id and corrected.commission == Decimal("1.00")
    assert corrected.quantity == booked[-1].quantity and corrected.price == booked[-1].price


def test_a_commission_already_booked_or_with_no_fills_changes_nothing() -> None:
    assert commission_corrections(_fills("1.00", "1.00"), Decimal("2.00")) == []
    assert commission_corrections([], Decimal("1.00")) == []


@given(st.lists(st.decimals("0", "50", places=2), min_size=1, max_size=6), st.decimals("0", "300", places=2))
def test_after_the_corrections_the_fills_add_up_to_the_brokers_total(booked: list[Decimal], total: Decimal) -> None:
    fills = _fills(*(str(c) for c in booked))
    by_id = {f.fill_id: f for f in fills}
    for fill in commission_corrections(fills, total):
        by_id[fill.fill_id] = fill
    assert sum(f.commission for f in by_id.values()) == total
    assert [f.commission for f in list(by_id.values())[:-1]] == [f.commission for f in fills[:-1]]
