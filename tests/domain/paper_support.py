"""Builders shared by the paper-engine tests: New York times, quotes, requests and engines."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from app.domain.market_calendar import NEW_YORK
from app.domain.models import Order, OrderRequest, OrderStatus, OrderType, Quote, Side, TimeInForce, TradingMode
from app.domain.paper_engine import PaperEngine, PaperSettings
from app.domain.symbols import parse_symbol

# Tuesday 11 March 2025: an ordinary NYSE trading day (regular session 09:30-16:00 EDT).
TRADING_DAY = date(2025, 3, 11)
OPTION = "AAPL250321C00200000"


def ny(hour: int, minute: int = 0, second: int = 0, *, day: date = TRADING_DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=NEW_YORK)


def D(value: str | int) -> Decimal:
    return Decimal(value)


def quote(
    symbol: str = "AAPL",
    *,
    bid: str | None = None,
    ask: str | None = None,
    last: str | None = None,
    at: datetime | None = None,
) -> Quote:
    return Quote(
        symbol=symbol,
        bid=None if bid is None else Decimal(bid),
        ask=None if ask is None else Decimal(ask),
        last=None if last is None else Decimal(last),
        timestamp=at or ny(10),
    )


def request(
    side: Side = Side.BUY,
    quantity: str | int = 10,
    order_type: OrderType = OrderType.MARKET,
    *,
    symbol: str = "AAPL",
    limit: str | None = None,
    stop: str | None = None,
    tif: TimeInForce = TimeInForce.DAY,
    extended: bool = False,
) -> OrderRequest:
    return OrderRequest(
        instrument=parse_symbol(symbol),
        side=side,
        quantity=Decimal(quantity),
        order_type=order_type,
        time_in_force=tif,
        limit_price=None if limit is None else Decimal(limit),
        stop_price=None if stop is None else Decimal(stop),
        extended_hours=extended,
    )


def open_order(req: OrderRequest, *, created: datetime | None = None, triggered: bool = False) -> Order:
    when = created or ny(10)
    return Order(
        request=req,
        mode=TradingMode.PAPER,
        status=OrderStatus.NEW,
        created_at=when,
        updated_at=when,
        stop_triggered=triggered,
    )


def engine(cash: str = "100000", **settings: object) -> PaperEngine:
    paper_settings = PaperSettings(starting_cash=Decimal(cash), **settings)  # type: ignore[arg-type]
    return PaperEngine(paper_settings, cash=Decimal(cash))


def only_order(update_orders: tuple[Order, ...]) -> Order:
    assert len(update_orders) == 1, update_orders
    return update_orders[0]
