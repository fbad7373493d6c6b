"""Coalesced repaints: the first change after a quiet spell paints at once, a burst is drawn once, a reset at once."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QTableView

from app.domain.models import OrderStatus
from app.domain.order_query import OrderSort
from app.ui.orders_model import OrdersTableModel
from app.ui.view_throttle import PaintThrottle
from tests.storage.test_order_pages import make_order

#: Longer than any test takes, so "within the interval" never depends on the machine's speed.
LONG_MS = 600_000


def _table(qtbot, count: int = 3) -> tuple[QTableView, OrdersTableModel]:  # type: ignore[no-untyped-def]
    model = OrdersTableModel()
    model.show_page(tuple(make_order(n) for n in range(count)), has_more=False, first=True, sort=OrderSort())
    view = QTableView()
    view.setModel(model)
    qtbot.addWidget(view)
    return view, model


def test_a_change_after_a_quiet_spell_paints_as_usual(qtbot) -> None:  # type: ignore[no-untyped-def]
    view, model = _table(qtbot)
    throttle = PaintThrottle(view, interval_ms=LONG_MS)
    throttle.watch(model)
    model.upsert([replace(model.row_at(0), status=OrderStatus.CANCELED)])
    assert view.updatesEnabled() and not throttle.holding


def test_a_burst_holds_drawing_but_never_the_data_and_is_drawn_once_at_the_end(qtbot) -> None:  # type: ignore[no-untyped-def]
    view, model = _table(qtbot)
    throttle = PaintThrottle(view, interval_ms=LONG_MS)
    throttle.watch(model)
    model.upsert([make_order(10)])
    model.upsert([make_order(11)])
    assert throttle.holding and not view.updatesEnabled()
    # The model already holds every change: readers never wait for the drawing.
    assert model.rowCount() == 5
    throttle.paint_now()
    assert view.updatesEnabled() and not throttle.holding


def test_a_new_page_is_drawn_at_once_even_during_a_burst(qtbot) -> None:  # type: ignore[no-untyped-def]
    view, model = _table(qtbot)
    throttle = PaintThrottle(view, interval_ms=LONG_MS)
    throttle.watch(model)
    model.upsert([make_order(10)])
    model.remove([make_order(0).client_order_id])
    assert throttle.holding
    model.show_page((make_order(20),), has_more=False, first=True, sort=OrderSort())
    assert view.updatesEnabled() and not throttle.holding



def test_a_held_burst_is_drawn_when_its_interval_ends_without_anything_else_happening(qtbot) -> None:  # type: ignore[no-untyped-def]
    view, model = _table(qtbot)
    throttle = PaintThrottle(view, interval_ms=50)
    throttle.watch(model)
    model.upsert([make_order(10)])
    model.upsert([make_order(11)])
    assert throttle.holding and not view.updatesEnabled()
    # The interval's own timer lifts the hold: no later change or reset is needed to see the burst.
    qtbot.waitUntil(lambda: view.updatesEnabled(), timeout=5000)
    assert not throttle.holding
    # And the next burst is held and released the same way, again and again.
    model.upsert([make_order(12)])
    model.upsert([make_order(13)])
    model.upsert([make_order(14)])
    qtbot.waitUntil(lambda: view.updatesEnabled() and not throttle.holding, timeout=5000)
    assert model.rowCount() == 8
