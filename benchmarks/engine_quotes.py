"""#1 Paper engine quote updates per second with 1,000 resting orders over 100 symbols, against a bare loop."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from app.domain.market_calendar import NEW_YORK
from app.domain.models import OrderRequest, OrderType, Position, AssetClass, Quote, Side, TimeInForce
from app.domain.paper_engine import PaperEngine, PaperSettings
from app.domain.symbols import parse_symbol
from benchmarks.harness import Figure, interleaved, median, timed

SYMBOLS = tuple(f"S{n:03d}" for n in range(100))
ORDERS_PER_SYMBOL = 10
QUOTES_PER_RUN = 20_000
# Tuesday 11 March 2025, mid-session.
OPEN = datetime(2025, 3, 11, 10, 0, tzinfo=NEW_YORK)
CENT = Decimal("0.01")

# A desk's resting book per symbol: bids under the market, offers and protective stops against the
# position, one breakout stop buy above. (kind, side, type, distance from the price in %)
BOOK = (
    (Side.BUY, OrderType.LIMIT, -6), (Side.BUY, OrderType.LIMIT, -8), (Side.BUY, OrderType.LIMIT, -10),
    (Side.BUY, OrderType.LIMIT, -12), (Side.SELL, OrderType.LIMIT, 6), (Side.SELL, OrderType.LIMIT, 9),
    (Side.SELL, OrderType.LIMIT, 12), (Side.SELL, OrderType.STOP, -7), (Side.SELL, OrderType.STOP, -11),
    (Side.BUY, OrderType.STOP, 8),
)


def _price(base: Decimal, percent: int) -> Decimal:
    return (base * (100 + percent) / 100).quantize(CENT)


def build() -> tuple[PaperEngine, dict[str, list[tuple[int, Decimal]]], dict[str, Decimal]]:
    """The engine with the resting book, the same book for the bare loop, and each symbol's starting price."""
    rng = random.Random(7)
    bases = {symbol: Decimal(rng.randint(2_000, 40_000)) / 100 for symbol in SYMBOLS}
    positions = [Position(s, AssetClass.EQUITY, Decimal(1_000), bases[s]) for s in SYMBOLS]
    engine = PaperEngine(PaperSettings(), cash=Decimal(100_000_000), positions=positions)
    bare: dict[str, list[tuple[int, Decimal]]] = {s: [] for s in SYMBOLS}
    now = OPEN
    for symbol in SYMBOLS:
        base = bases[symbol]
        quote = Quote(symbol, base - CENT, base + CENT, base, now)
        for side, order_type, distance in BOOK:
            price = _price(base, distance)
            request = OrderRequest(
                instrument=parse_symbol(symbol),
                side=side,
                quantity=Decimal(10),
                order_type=order_type,
                time_in_force=TimeInForce.GTC,
                limit_price=price if order_type is OrderType.LIMIT else None,
                stop_price=price if order_type is OrderType.STOP else None,
            )
            update = engine.submit(request, now, quote)
            assert update.orders[-1].status.value == "new", update.orders[-1].status_reason
            kind = (0 if side is Side.BUY else 1) if order_type is OrderType.LIMIT else (2 if side is Side.BUY else 3)
            bare[symbol].append((kind, price))
    assert len(engine.open_orders) == len(SYMBOLS) * ORDERS_PER_SYMBOL
    return engine, bare, bases


def quote_stream(bases: dict[str, Decimal], start: datetime, count: int, seed: int) -> list[tuple[Quote, datetime]]:
    """Random-walk quotes within 4% of each symbol's price: the book rests, as most of a desk's book does."""
    rng = random.Random(seed)
    prices = dict(bases)
    stream = []
    for n in range(count):
        symbol = SYMBOLS[rng.randrange(len(SYMBOLS))]
        base = bases[symbol]
        moved = prices[symbol] * (1 + Decimal(rng.randint(-20, 20)) / 10_000)
        moved = min(max(moved, base * Decimal("0.96")), base * Decimal("1.04")).quantize(CENT)
        prices[symbol] = moved
        at = start + timedelta(milliseconds=n)
        stream.append((Quote(symbol, moved - CENT, moved + CENT, moved, at), at))
    return stream


def run(repeats: int = 7) -> list[Figure]:
    engine, bare, bases = build()
    streams = [quote_stream(bases, OPEN + timedelta(minutes=1 + r), QUOTES_PER_RUN, r) for r in range(repeats)]
    bare_streams = [[(q.symbol, q.bid, q.ask, q.last) for q, _ in stream] for stream in streams]
    rounds = iter(range(repeats))
    bare_rounds = iter(range(repeats))

    def ours() -> float:
        stream = streams[next(rounds)]
        on_quote = engine.on_quote

        def work() -> None:
            for quote, now in stream:
                if on_quote(quote, now):
                    raise AssertionError("a resting order moved")

        return QUOTES_PER_RUN / timed(work)

    def baseline() -> float:
        stream = bare_streams[next(bare_rounds)]

        def work() -> None:
            crossed = 0
            for symbol, bid, ask, last in stream:
                for kind, price in bare[symbol]:
                    if kind == 0:
                        crossed += ask <= price
                    elif kind == 1:
                        crossed += bid >= price
                    elif kind == 2:
                        crossed += last >= price
                    else:
                        crossed += last <= price
            if crossed:
                raise AssertionError("a resting order crossed")

        return QUOTES_PER_RUN / timed(work)

    samples = interleaved({"ours": ours, "baseline": baseline}, repeats)
    ours_rate, base_rate = median(samples["ours"]), median(samples["baseline"])
    # The ratio is of time per quote: how many times longer the engine takes than the bare loop.
    return [
        Figure(
            "1",
            "paper engine: quote updates/s, 1,000 resting orders over 100 symbols",
            ours_rate,
            base_rate,
            "quotes/s",
            "≥ 50,000/s and ≤ 5× the baseline's time",
            ours_rate >= 50_000 and base_rate / ours_rate <= 5,
            rate=True,
        )
    ]
