"""Property tests: the indexed paper engine matches a plain reference on random books and quote streams, and
orders never take buying power below zero."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.market_calendar import NEW_YORK
from app.domain.models import Fill, OrderChange, OrderRequest, OrderType, Position, Quote, Side, TimeInForce
from app.domain.paper_account import apply_fill
from app.domain.paper_engine import EngineUpdate, PaperEngine, PaperError, PaperSettings
from app.domain.symbols import parse_symbol
from tests.domain.paper_reference import ReferenceEngine

# Scripts start on Monday 10 March 2025; the option expires on Friday 21 March.
OPTION = "AAPL250321C00200000"
EQUITIES = ("AAPL", "MSFT", "XYZ")
SYMBOLS = (*EQUITIES, OPTION)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Submit:
    symbol: str
    side: Side
    quantity: int
    order_type: OrderType
    tif: TimeInForce
    limit: int | None
    stop: int | None
    extended: bool
    quote: tuple[int | None, int | None, int | None, int] | None


@dataclass(frozen=True)
class Tick:
    symbol: str
    bid: int | None
    ask: int | None
    last: int | None
    age: int


@dataclass(frozen=True)
class Cancel:
    pick: int


@dataclass(frozen=True)
class Change:
    pick: int
    quantity: int | None
    limit: int | None
    stop: int | None
    fit: bool


@dataclass(frozen=True)
class Clock:
    pass


@dataclass(frozen=True)
class Restart:
    pass


def _cents(symbol: str, value: int | None) -> Decimal | None:
    """A price near the symbol's level: options around $1-$5, stocks around $90-$110."""
    if value is None:
        return None
    cents = 300 + value // 5 if symbol == OPTION else 10_000 + value
    return Decimal(cents) / 100


prices = st.one_of(st.none(), st.integers(-1_000, 1_000), st.integers(-300, 300))
# How many minutes old a quote is: mostly fresh, now and then from before the session or out of order.
ages = st.sampled_from((0, 0, 0, 0, 0, 1, 2, 45))
book_prices = st.tuples(prices, prices, prices, ages)

submits = st.builds(
    Submit,
    symbol=st.sampled_from(SYMBOLS),
    side=st.sampled_from(Side),
    quantity=st.sampled_from((1, 2, 5, 10, 20, 60, 150, 2_000)),
    order_type=st.sampled_from(OrderType),
    tif=st.sampled_from(TimeInForce),
    limit=st.integers(-1_000, 1_000),
    stop=st.integers(-1_000, 1_000),
    extended=st.sampled_from((False, False, False, True)),
    quote=st.one_of(st.none(), book_prices, book_prices),
)
ticks = st.builds(
    Tick, symbol=st.sampled_from(SYMBOLS), bid=prices, ask=prices, last=prices, age=ages
)
cancels = st.builds(Cancel, pick=st.integers(0, 50))
# A change names a new size and/or prices; whether they suit the order (its type, what filled) is the engines' to judge.
changes = st.builds(
    Change,
    pick=st.integers(0, 50),
    quantity=st.one_of(st.none(), st.sampled_from((1, 2, 5, 10, 20, 60, 150, 2_000))),
    limit=st.one_of(st.none(), st.integers(-1_000, 1_000), st.integers(-50, 50)),
    stop=st.one_of(st.none(), st.integers(-1_000, 1_000), st.integers(-50, 50)),
    fit=st.sampled_from((True, True, True, False)),
)


# Each mix stresses one part of the engine: the quote path in session, the clock across opens, closes and
# expiries, and everything at once. Jumps are mostly seconds to minutes, now and then a night or a weekend.
MIXES = {
    "session": ((ticks, 12), (submits, 6), (changes, 3), (cancels, 1), (st.just(Clock()), 1)),
    "clock": ((submits, 6), (st.just(Clock()), 6), (ticks, 2), (changes, 2), (cancels, 1), (st.just(Restart()), 1)),
    "mixed": ((ticks, 9), (submits, 6), (changes, 3), (cancels, 2), (st.just(Clock()), 2), (st.just(Restart()), 1)),
}
JUMPS = {
    "session": (0, 0, 0, 1, 1, 1, 2, 3, 5),
    "clock": (0, 1, 5, 10, 30, 90, 240, 400, 1_440),
    "mixed": (0, 0, 0, 1, 1, 1, 1, 2, 3, 5, 10, 20, 90, 400, 1_440),
}
STARTS = {
    "session": datetime(2025, 3, 10, 10, 30, tzinfo=NEW_YORK),
    "clock": datetime(2025, 3, 10, 3, 30, tzinfo=NEW_YORK),
    "mixed": datetime(2025, 3, 10, 9, 20, tzinfo=NEW_YORK),
}


def scripts(mix: str) -> st.SearchStrategy[list[tuple[object, int]]]:
    weighted = [strategy for strategy, weight in MIXES[mix] for _ in range(weight)]
    action = st.integers(0, len(weighted) - 1).flatmap(lambda k: weighted[k])
    return st.lists(st.tuples(action, st.sampled_from(JUMPS[mix])), min_size=5, max_size=80)


accounts = st.builds(
    PaperSettings,
    starting_cash=st.sampled_from((Decimal(5_000), Decimal(25_000), Decimal(100_000))),
    slippage_bps=st.sampled_from((ZERO, Decimal(5), Decimal("12.5"))),
    commission_per_order=st.sampled_from((ZERO, Decimal(1))),
    commission_per_share=st.sampled_from((ZERO, Decimal("0.005"))),
    commission_per_contract=st.sampled_from((ZERO, Decimal("0.65"))),
    allow_shorting=st.booleans(),
)


def _quote(symbol: str, bid: int | None, ask: int | None, last: int | None, at: datetime) -> Quote:
    return Quote(symbol=symbol, bid=_cents(symbol, bid), ask=_cents(symbol, ask), last=_cents(symbol, last), timestamp=at)


def _request(step: Submit, number: int) -> OrderRequest:
    def price(value: int | None) -> Decimal | None:
        return _cents(step.symbol, value)

    return OrderRequest(
        instrument=parse_symbol(step.symbol),
        side=step.side,
        quantity=Decimal(step.quantity),
        order_type=step.order_type,
        time_in_force=step.tif,
        limit_price=price(step.limit) if step.order_type.needs_limit else None,
        stop_price=price(step.stop) if step.order_type.needs_stop else None,
        extended_hours=step.extended,
        client_order_id=f"tb-test-{number:04d}",
    )


class Run:
    """Drives both engines through the same steps and keeps what an observer of the updates would know."""

    def __init__(self, account: PaperSettings, start: datetime) -> None:
        self.settings = account
        self.engine = PaperEngine(account, cash=account.starting_cash)
        self.reference = ReferenceEngine(account, cash=account.starting_cash)
        self.now = start
        self.ids: list[str] = []
        self.symbols: dict[str, str] = {}
        self.fills: list[Fill] = []
        self.short_marks_rose = False

    def step(self, action: object, minutes: int) -> tuple[EngineUpdate | None, EngineUpdate | None]:
        self.now += timedelta(minutes=minutes)
        now = self.now
        if isinstance(action, Submit):
            request = _request(action, len(self.ids))
            self.ids.append(request.client_order_id)
            self.symbols[request.client_order_id] = action.symbol
            quote = None
            if action.quote is not None:
                bid, ask, last, age = action.quote
                quote = _quote(action.symbol, bid, ask, last, now - timedelta(minutes=age))
            self._note_marks(quote)
            return self.engine.submit(request, now, quote), self.reference.submit(request, now, quote)
        if isinstance(action, Tick):
            quote = _quote(action.symbol, action.bid, action.ask, action.last, now - timedelta(minutes=action.age))
            self._note_marks(quote)
            return self.engine.on_quote(quote, now), self.reference.on_quote(quote, now)
        if isinstance(action, Cancel):
            if not self.ids:
                return None, None
            client_order_id = self.ids[action.pick % len(self.ids)]
            return self._cancel(client_order_id, now)
        if isinstance(action, Change):
            if not self.ids:
                return None, None
            # Mostly a working order, with only the prices its type carries; now and then anything at all.
            working = list(self.engine.orders.values())
            if action.fit and working:
                order = working[action.pick % len(working)]
                client_order_id, order_type = order.client_order_id, order.request.order_type
                limit = action.limit if order_type.needs_limit else None
                stop = action.stop if order_type.needs_stop else None
            else:
                client_order_id = self.ids[action.pick % len(self.ids)]
                limit, stop = action.limit, action.stop
            symbol = self.symbols[client_order_id]
            change = OrderChange(
                quantity=None if action.quantity is None else Decimal(action.quantity),
                limit_price=_cents(symbol, limit),
                stop_price=_cents(symbol, stop),
            )
            self.short_marks_rose = False
            return self._change(client_order_id, change, now)
        if isinstance(action, Restart):
            self.engine = PaperEngine(
                self.settings, cash=self.engine.cash, positions=self.engine.positions.values(),
                orders=self.engine.orders.values(),
            )
            self.reference = ReferenceEngine(
                self.settings, cash=self.reference.cash, positions=self.reference.positions.values(),
                orders=self.reference.orders.values(),
            )
            return None, None
        return self.engine.on_clock(now), self.reference.on_clock(now)

    def _cancel(self, client_order_id: str, now: datetime) -> tuple[EngineUpdate | None, EngineUpdate | None]:
        outcomes: list[EngineUpdate | None] = []
        for engine in (self.engine, self.reference):
            try:
                outcomes.append(engine.cancel(client_order_id, now))
            except PaperError:
                outcomes.append(None)
        return outcomes[0], outcomes[1]

    def _change(
        self, client_order_id: str, change: OrderChange, now: datetime
    ) -> tuple[EngineUpdate | None, EngineUpdate | None]:
        outcomes: list[EngineUpdate | None] = []
        for engine in (self.engine, self.reference):
            try:
                outcomes.append(engine.replace(client_order_id, change, now))
            except PaperError:
                outcomes.append(None)
        return outcomes[0], outcomes[1]

    def _note_marks(self, quote: Quote | None) -> None:
        """Whether this step may move a short position's mark: the one way buying power may fall without an order."""
        position = self.engine.positions.get(quote.symbol) if quote is not None else None
        self.short_marks_rose = position is not None and position.quantity < 0


def _replay(account: PaperSettings, fills: list[Fill]) -> tuple[Decimal, dict[str, Position]]:
    cash = account.starting_cash
    positions: dict[str, Position] = {}
    for fill in fills:
        instrument = parse_symbol(fill.symbol)
        flow = fill.quantity * fill.price * instrument.multiplier
        cash += (-flow if fill.side is Side.BUY else flow) - fill.commission
        positions[fill.symbol] = apply_fill(
            positions.get(fill.symbol), instrument=instrument, side=fill.side, quantity=fill.quantity,
            price=fill.price, fee=fill.commission,
        )
    return cash, positions


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _matches_reference(account: PaperSettings, script: list[tuple[object, int]], start: datetime) -> None:
    run = Run(account, start)
    for action, minutes in script:
        mine, theirs = run.step(action, minutes)
        assert mine == theirs, action
        engine, reference = run.engine, run.reference
        assert engine.cash == reference.cash
        assert engine.positions == reference.positions
        assert engine.open_orders == reference.open_orders
        assert engine.orders == {o.client_order_id: o for o in reference.open_orders}
        assert engine.buying_power == reference.buying_power
        assert engine.symbols_to_watch() == reference.symbols_to_watch()
        marks = {symbol: Decimal(100) for symbol in EQUITIES}
        assert engine.summary(marks) == reference.summary(marks)


@PROPERTY
@given(account=accounts, script=scripts("session"))
def test_in_session_quote_streams_match_the_reference(account: PaperSettings, script: list[tuple[object, int]]) -> None:
    _matches_reference(account, script, STARTS["session"])


@PROPERTY
@given(account=accounts, script=scripts("clock"))
def test_opens_closes_and_expiries_match_the_reference(account: PaperSettings, script: list[tuple[object, int]]) -> None:
    _matches_reference(account, script, STARTS["clock"])


@PROPERTY
@given(account=accounts, script=scripts("mixed"))
def test_mixed_histories_match_the_reference(account: PaperSettings, script: list[tuple[object, int]]) -> None:
    _matches_reference(account, script, STARTS["mixed"])


@PROPERTY
@given(account=accounts, mix=st.sampled_from(sorted(MIXES)), data=st.data())
def test_orders_never_take_buying_power_below_zero_and_the_books_match_the_fills(
    account: PaperSettings, mix: str, data: st.DataObject
) -> None:
    run = Run(account, STARTS[mix])
    for action, minutes in data.draw(scripts(mix)):
        power_before = run.engine.buying_power
        mine, _ = run.step(action, minutes)
        if mine is not None:
            run.fills.extend(mine.fills)
        power = run.engine.buying_power
        # Only a rising price of a short position (not any order) may pull buying power under zero.
        assert power >= 0 or power_before < 0 or run.short_marks_rose, (action, power)
        if not account.allow_shorting:
            assert power >= 0, (action, power)
        cash, positions = _replay(account, run.fills)
        assert run.engine.cash == cash
        assert run.engine.positions == positions
        assert account.allow_shorting or all(p.quantity >= 0 for p in positions.values())


def test_a_market_buy_placed_without_a_quote_is_rejected_when_its_price_no_longer_fits() -> None:
    # The trader's report: 1,000,000 SPY at market accepted with no quote, then buying power -$499,924,911.
    paper = PaperEngine(PaperSettings(), cash=Decimal(100_000))
    overnight = datetime(2025, 3, 11, 20, 30, tzinfo=NEW_YORK)
    request = OrderRequest(parse_symbol("SPY"), Side.BUY, Decimal(1_000_000), OrderType.MARKET)
    placed = paper.submit(request, overnight, None)
    assert placed.orders[0].status_reason.startswith("waiting for the market to open")
    assert paper.buying_power == Decimal(100_000)
    quote = Quote("SPY", Decimal("499.90"), Decimal("500.00"), Decimal("499.95"), overnight + timedelta(minutes=1))
    update = paper.on_quote(quote, overnight + timedelta(minutes=1))
    (rejected,) = update.orders
    assert rejected.status.value == "rejected"
    assert rejected.status_reason == (
        "rejected when priced: at ask 500.00 it needs $500,000,000.00 of buying power and $100,000.00 is available"
    )
    assert paper.buying_power == Decimal(100_000) and paper.orders == {}


def test_a_resting_order_keeps_its_claim_when_a_later_quote_fits() -> None:
    paper = PaperEngine(PaperSettings(), cash=Decimal(10_000))
    evening = datetime(2025, 3, 11, 18, 0, tzinfo=NEW_YORK)
    request = OrderRequest(parse_symbol("SPY"), Side.BUY, Decimal(10), OrderType.MARKET)
    paper.submit(request, evening, Quote("SPY", None, Decimal("500.00"), None, evening))
    assert paper.buying_power == Decimal(5_000)
    later = evening + timedelta(minutes=5)
    assert not paper.on_quote(Quote("SPY", None, Decimal("900.00"), None, later), later)
    assert paper.buying_power == Decimal(1_000)
    latest = later + timedelta(minutes=5)
    (rejected,) = paper.on_quote(Quote("SPY", None, Decimal("1000.01"), None, latest), latest).orders
    assert rejected.status_reason == (
        "rejected when priced: at ask 1,000.01 it needs $10,000.10 of buying power and $10,000.00 is available"
    )


def test_the_oldest_claims_stay_when_a_quote_overdraws_several_orders() -> None:
    paper = PaperEngine(PaperSettings(), cash=Decimal(10_000))
    evening = datetime(2025, 3, 11, 18, 0, tzinfo=NEW_YORK)
    first = OrderRequest(parse_symbol("SPY"), Side.BUY, Decimal(5), OrderType.MARKET, client_order_id="tb-first")
    second = OrderRequest(parse_symbol("SPY"), Side.BUY, Decimal(5), OrderType.MARKET, client_order_id="tb-second")
    paper.submit(first, evening, None)
    paper.submit(second, evening + timedelta(minutes=1), None)
    at = evening + timedelta(minutes=2)
    (rejected,) = paper.on_quote(Quote("SPY", None, Decimal("1500.00"), None, at), at).orders
    assert rejected.client_order_id == "tb-second"
    assert set(paper.orders) == {"tb-first"} and paper.buying_power == Decimal(2_500)
