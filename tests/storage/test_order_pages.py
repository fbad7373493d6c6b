"""Journal pages agree with the Python filter and sort: what the database pages out is what an event would place."""

from __future__ import annotations

import sqlite3

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.models import Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce, TradingMode
from app.domain.order_query import SORT_VALUES, OrderFilter, OrderSort, StatusGroup
from app.domain.symbols import parse_symbol
from app.paths import AppPaths
from app.storage.database import Database, open_database
from app.storage.orders_repository import query_orders, write_orders

START = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)
SYMBOLS = ("AAPL", "AMD", "MSFT", "SPY", "AAPL261218C00200000", "AAPL261218P00200000", "AAPL270115C00202500")
JOURNAL_COLUMNS = sorted(set(SORT_VALUES) - {"account"})


def make_order(
    number: int,
    *,
    symbol: str = "AAPL",
    mode: TradingMode = TradingMode.PAPER,
    status: OrderStatus = OrderStatus.FILLED,
    quantity: str = "1",
    limit: str | None = None,
    minutes: int | None = None,
) -> Order:
    request = OrderRequest(
        instrument=parse_symbol(symbol),
        side=Side.BUY if number % 2 else Side.SELL,
        quantity=Decimal(quantity),
        order_type=OrderType.LIMIT if limit else OrderType.MARKET,
        time_in_force=TimeInForce.DAY,
        limit_price=Decimal(limit) if limit else None,
        client_order_id=f"tb-{number:08d}",
    )
    created = START + timedelta(minutes=number if minutes is None else minutes)
    broker = "paper" if mode is TradingMode.PAPER else "alpaca"
    return Order(request=request, mode=mode, status=status, created_at=created, updated_at=created, broker=broker)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    paths = AppPaths(Path(tmp_path_factory.mktemp("journal")) / "data").ensure()
    database = open_database(paths.database, paths.backups)
    yield database
    database.dispose()


def _replace_journal(database: Database, orders: list[Order]) -> None:
    def write(connection: sqlite3.Connection) -> None:
        for table in ("fills", "order_events", "orders"):
            connection.execute(f"DELETE FROM {table}")
        for broker in ("paper", "alpaca"):
            write_orders(connection, [o for o in orders if o.broker == broker], broker)

    database.write(write)


def _all_pages(database: Database, order_filter: OrderFilter, sort: OrderSort, size: int) -> list[Order]:
    shown: list[Order] = []
    offset = 0
    while True:
        page = database.transaction(lambda s: query_orders(s, order_filter, sort, offset=offset, limit=size))
        shown.extend(page.orders)
        offset += len(page.orders)
        if not page.has_more:
            return shown


orders_strategy = st.lists(
    st.builds(
        dict,
        symbol=st.sampled_from(SYMBOLS),
        mode=st.sampled_from(list(TradingMode)),
        status=st.sampled_from(list(OrderStatus)),
        quantity=st.sampled_from(["1", "2", "10", "9", "100", "0.5"]),
        limit=st.none() | st.sampled_from(["9.5", "10", "100.25", "0.99"]),
        minutes=st.integers(0, 20),
    ),
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    specs=orders_strategy,
    column=st.sampled_from(JOURNAL_COLUMNS),
    descending=st.booleans(),
    mode=st.none() | st.sampled_from(list(TradingMode)),
    status=st.sampled_from(list(StatusGroup)),
    # The OCC code's prefix or the readable name's ("AAPL 18 Dec 26 200 C"), cut anywhere.
    symbol=st.sampled_from(
        ["", "A", "AAPL", "MS", "ZZ", "AAPL26", "aapl 18", "AAPL 1", "AAPL 18 D", "AAPL 15 Jan 27 202.", "AAPL 18 Dec 26 200 C"]
    ),
    size=st.integers(1, 7),
)
def test_pages_equal_the_python_filter_and_sort(
    database: Database,
    specs: list[dict[str, object]],
    column: str,
    descending: bool,
    mode: TradingMode | None,
    status: StatusGroup,
    symbol: str,
    size: int,
) -> None:
    orders = [make_order(n, **spec) for n, spec in enumerate(specs)]  # type: ignore[arg-type]
    _replace_journal(database, orders)
    order_filter = OrderFilter(mode=mode, symbol=symbol, status=status)
    sort = OrderSort(column, descending)

    expected = sorted((o for o in orders if order_filter.matches(o)), key=sort.key)
    shown = _all_pages(database, order_filter, sort, size)

    assert [o.client_order_id for o in shown] == [o.client_order_id for o in expected]


def test_first_page_brings_every_working_order_beyond_it(database: Database) -> None:
    orders = [make_order(n) for n in range(30)]
    orders[0] = make_order(0, status=OrderStatus.NEW)
    orders[1] = make_order(1, status=OrderStatus.UNKNOWN, mode=TradingMode.LIVE)
    _replace_journal(database, orders)

    page = database.transaction(lambda s: query_orders(s, OrderFilter(), OrderSort(), limit=10))

    assert [o.client_order_id for o in page.orders] == [f"tb-{n:08d}" for n in range(29, 19, -1)]
    assert page.has_more
    assert {o.client_order_id for o in page.working_beyond} == {"tb-00000000", "tb-00000001"}


def test_decimal_columns_sort_as_numbers_not_text(database: Database) -> None:
    orders = [make_order(n, quantity=q) for n, q in enumerate(["9", "10", "100", "2.5"])]
    _replace_journal(database, orders)

    page = database.transaction(lambda s: query_orders(s, OrderFilter(), OrderSort("qty", False), limit=10))

    assert [o.request.quantity for o in page.orders] == [Decimal("2.5"), Decimal(9), Decimal(10), Decimal(100)]


def test_date_range_and_mode_filters(database: Database) -> None:
    orders = [make_order(n, mode=TradingMode.LIVE if n % 3 == 0 else TradingMode.PAPER) for n in range(12)]
    _replace_journal(database, orders)
    since = START + timedelta(minutes=6)

    order_filter = OrderFilter(mode=TradingMode.LIVE, since=since)
    page = database.transaction(lambda s: query_orders(s, order_filter, OrderSort(), limit=50))

    assert [o.client_order_id for o in page.orders] == ["tb-00000009", "tb-00000006"]
