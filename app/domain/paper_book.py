"""The paper engine's working orders, indexed so that a quote or a clock tick visits only the orders it can move.

An order that is resting waits for one thing, and the engine remembers which (`Wait`). The index
files each order under that wait: a limit that is not crossed sits in a list sorted by its limit,
a stop that has not triggered in a list sorted by its stop, an order waiting for the open in a set
that only the open wakes. A quote then finds the orders it crosses by bisection, and a clock tick
finds only orders whose session changed since they were last worked. Expiries wait in a heap.
Finished orders leave the index at once: the journal keeps them, the engine does not.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.domain.models import AssetClass, Order, OrderType, Quote, Side
from app.domain.paper_fills import Wait

#: The phase of an order worked while its session was closed; a session that is open is known by its start.
CLOSED = "closed"
#: The phase of an order that has not been worked since it was loaded.
UNWORKED = None

_AFTER_ANY = float("inf")
#: A price at or below zero is no price; compared as a Decimal, which is quicker than against the int 0.
_NO_PRICE = Decimal(0)

Phase = datetime | str | None
Starts = tuple[datetime | None, datetime | None]


@dataclass(slots=True, eq=False)
class Entry:
    """One working order and what the index knows of it."""

    order: Order
    seq: int
    wait: Wait | None = None
    phase: Phase = UNWORKED

    @property
    def client_order_id(self) -> str:
        return self.order.request.client_order_id

    @property
    def extended(self) -> bool:
        return self.order.request.extended_hours


def quote_floats(order: Order) -> bool:
    """Whether what the order holds back moves with the quote (when it opens a position).

    Market and stop buys are priced at the ask; short sales at the bid, except a sell stop (its stop
    price) and a written option (its strike). Limit buys hold their limit whatever the market does.
    """
    request = order.request
    if request.side is Side.BUY:
        return request.order_type in (OrderType.MARKET, OrderType.STOP)
    return request.instrument.asset_class is AssetClass.EQUITY and request.order_type is not OrderType.STOP


class SymbolBook:
    """The working orders of one symbol, filed by what each is waiting for."""

    __slots__ = (
        "symbol", "entries", "_always", "_closed", "_buy_limits", "_sell_limits", "_buy_stops", "_sell_stops",
        "opening", "floating", "floors", "held_back",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.entries: dict[str, Entry] = {}
        self._always: set[str] = set()
        self._closed: set[str] = set()
        self._buy_limits: list[tuple[Decimal, int, str]] = []
        self._sell_limits: list[tuple[Decimal, int, str]] = []
        self._buy_stops: list[tuple[Decimal, int, str]] = []
        self._sell_stops: list[tuple[Decimal, int, str]] = []
        #: Cached money figures, cleared by the engine when the orders, the position or the settings change.
        self.opening: dict[str, Decimal] | None = None
        self.floating: tuple[str, ...] = ()
        #: The lowest reserve floor of the floating buys and of the floating sells (None: no such order).
        self.floors: tuple[Decimal | None, Decimal | None] = (None, None)
        self.held_back: Decimal | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def forget_money(self) -> None:
        self.opening = None
        self.floating = ()
        self.floors = (None, None)
        self.held_back = None

    def by_age(self) -> list[Entry]:
        return sorted(self.entries.values(), key=entry_key)

    def add(self, entry: Entry) -> None:
        self.entries[entry.client_order_id] = entry
        self._file(entry)
        self.forget_money()

    def remove(self, entry: Entry) -> None:
        del self.entries[entry.client_order_id]
        self._unfile(entry)
        self.forget_money()

    def resize(self, entry: Entry, order: Order) -> None:
        """The same order at a new size, keeping its place: its money figures are worked out again."""
        self._unfile(entry)
        entry.order = order
        self._file(entry)
        self.forget_money()

    def refile(self, entry: Entry, wait: Wait | None, order: Order) -> None:
        """File the order again under its new wait (and its new state, e.g. a stop that triggered)."""
        if wait is not entry.wait or order is not entry.order:
            self._unfile(entry)
            entry.wait = wait
            entry.order = order
            self._file(entry)

    def acting(self, quote: Quote | None, starts: Starts) -> list[Entry]:
        """Orders that working now, against `quote`, would change: every other order would stay as it is.

        `starts` holds the start of the open session for regular and for extended-hours orders (None
        when closed). An order waiting for the open acts once its session is open; a priced wait acts
        when its session closed, the quote is not of this session, the price it needs is missing, or
        the market reached its limit or stop.
        """
        entries = self.entries
        ids: list[str] = list(self._always) if self._always else []
        regular, extended = starts
        stamp = quote.timestamp if quote is not None else None
        stale = (
            regular is None or stamp is None or stamp < regular,
            extended is None or stamp is None or stamp < extended,
        )
        if self._closed:
            ids.extend(i for i in self._closed if starts[entries[i].extended] is not None)
        if stale[0] or stale[1]:
            for shelf in (self._buy_limits, self._sell_limits, self._buy_stops, self._sell_stops):
                ids.extend(i for _, _, i in shelf if stale[entries[i].extended])
        if quote is not None and not (stale[0] and stale[1]):
            # The prices of paper_fills.touch_price (a buy meets the ask, a sell the bid, else the last
            # trade) and trigger_price (the last trade, else the ask or bid), worked out once per quote.
            ask, bid, last = quote.ask, quote.bid, quote.last
            if ask is not None and ask <= _NO_PRICE:
                ask = None
            if bid is not None and bid <= _NO_PRICE:
                bid = None
            if last is not None and last <= _NO_PRICE:
                last = None
            # Each shelf is sorted, so its nearest level says at once whether the price reaches any of it.
            shelf = self._buy_limits
            if shelf:
                price = ask if ask is not None else last
                if price is None or shelf[-1][0] >= price:
                    ids.extend(_reached(shelf, price, below=False))
            shelf = self._sell_limits
            if shelf:
                price = bid if bid is not None else last
                if price is None or shelf[0][0] <= price:
                    ids.extend(_reached(shelf, price, below=True))
            shelf = self._buy_stops
            if shelf:
                price = last if last is not None else ask
                if price is None or shelf[0][0] <= price:
                    ids.extend(_reached(shelf, price, below=True))
            shelf = self._sell_stops
            if shelf:
                price = last if last is not None else bid
                if price is None or shelf[-1][0] >= price:
                    ids.extend(_reached(shelf, price, below=False))
        if not ids:
            return []
        if len(ids) == 1:
            return [entries[ids[0]]]
        return sorted((entries[i] for i in set(ids)), key=entry_key)

    def _file(self, entry: Entry) -> None:
        found = self._shelf(entry)
        if isinstance(found, list):
            insort(found, _shelf_key(entry))
        else:
            found.add(entry.client_order_id)

    def _unfile(self, entry: Entry) -> None:
        found = self._shelf(entry)
        if isinstance(found, list):
            key = _shelf_key(entry)
            index = bisect_left(found, key)
            if index < len(found) and found[index] == key:
                del found[index]
        else:
            found.discard(entry.client_order_id)

    def _shelf(self, entry: Entry) -> set[str] | list[tuple[Decimal, int, str]]:
        request = entry.order.request
        wait = entry.wait
        if wait is Wait.MARKET_CLOSED:
            return self._closed
        if wait is Wait.LIMIT_NOT_CROSSED and request.limit_price is not None:
            return self._buy_limits if request.side is Side.BUY else self._sell_limits
        if wait is Wait.STOP_NOT_TRIGGERED and request.stop_price is not None and not entry.order.stop_triggered:
            return self._buy_stops if request.side is Side.BUY else self._sell_stops
        return self._always


def _shelf_key(entry: Entry) -> tuple[Decimal, int, str]:
    request = entry.order.request
    price = request.limit_price if entry.wait is Wait.LIMIT_NOT_CROSSED else request.stop_price
    assert price is not None
    return (price, entry.seq, entry.client_order_id)


def entry_key(entry: Entry) -> tuple[datetime, int]:
    """The engine works orders in time priority; orders queued at the same instant in arrival order."""
    return (entry.order.queue_time, entry.seq)


def _reached(shelf: list[tuple[Decimal, int, str]], price: Decimal | None, *, below: bool) -> list[str]:
    """Ids on a sorted shelf the price reaches: levels at or below it (`below`), else at or above it.

    With no price at all every order on the shelf acts: its wait becomes "no price".
    """
    if price is None:
        return [i for _, _, i in shelf]
    if below:
        return [i for _, _, i in shelf[: bisect_right(shelf, (price, _AFTER_ANY))]]
    return [i for _, _, i in shelf[bisect_left(shelf, (price,)) :]]


class OrderBook:
    """Every working paper order, by id and by symbol, with expiries in a heap and sessions per order."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.symbols: dict[str, SymbolBook] = {}
        self._expiries: list[tuple[datetime, int, str]] = []
        #: The heap's top: no order expires before it (None: none expires). The order it belonged to may be gone.
        self.next_expiry: datetime | None = None
        # Orders by the phase (session start, CLOSED or UNWORKED) they were last worked in, per hours flag.
        self._phases: dict[tuple[bool, Phase], set[str]] = {}
        self._seq = 0
        #: Symbols whose quote changed while only a new order was worked; the next clock tick looks at them.
        self.requoted: set[str] = set()

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, client_order_id: str) -> bool:
        return client_order_id in self.entries

    def get(self, client_order_id: str) -> Entry | None:
        return self.entries.get(client_order_id)

    def clear(self) -> None:
        self.entries.clear()
        self.symbols.clear()
        self._expiries.clear()
        self.next_expiry = None
        self._phases.clear()
        self.requoted.clear()

    def add(self, order: Order, expires: datetime | None) -> Entry:
        self._seq += 1
        entry = Entry(order, self._seq)
        self.entries[entry.client_order_id] = entry
        book = self.symbols.get(order.symbol)
        if book is None:
            book = self.symbols[order.symbol] = SymbolBook(order.symbol)
        book.add(entry)
        self._phases.setdefault((entry.extended, UNWORKED), set()).add(entry.client_order_id)
        if expires is not None:
            heapq.heappush(self._expiries, (expires, entry.seq, entry.client_order_id))
            self.next_expiry = self._expiries[0][0]
        return entry

    def remove(self, entry: Entry) -> None:
        client_order_id = entry.client_order_id
        del self.entries[client_order_id]
        book = self.symbols[entry.order.symbol]
        book.remove(entry)
        if not book:
            del self.symbols[book.symbol]
        self._leave_phase(entry)

    def change(self, entry: Entry, order: Order, expires: datetime | None, *, requeue: bool) -> Entry:
        """Put a changed order in place of its entry: at the back of the queue (`requeue`), or where it was."""
        if requeue:
            self.remove(entry)
            return self.add(order, expires)
        self.symbols[order.symbol].resize(entry, order)
        return entry

    def worked(self, entry: Entry, wait: Wait | None, phase: Phase, order: Order) -> None:
        """Record what working an order found: its wait, the phase it was worked in, its new state."""
        self.symbols[order.symbol].refile(entry, wait, order)
        if phase != entry.phase:
            self._leave_phase(entry)
            entry.phase = phase
            self._phases.setdefault((entry.extended, phase), set()).add(entry.client_order_id)

    def due(self, now: datetime) -> list[Entry]:
        """Working orders whose expiry is at or before `now`, oldest first."""
        heap = self._expiries
        if not heap or heap[0][0] > now:
            return []
        found: list[Entry] = []
        while heap and heap[0][0] <= now:
            _, seq, client_order_id = heapq.heappop(heap)
            entry = self.entries.get(client_order_id)
            if entry is not None and entry.seq == seq:
                found.append(entry)
        self.next_expiry = heap[0][0] if heap else None
        found.sort(key=entry_key)
        return found

    def acting_on_clock(self, quotes: dict[str, Quote], starts: Starts) -> list[Entry]:
        """Orders a clock tick can move: never worked, worked in another session phase, or newly quoted."""
        ids: set[str] = set()
        for (extended, phase), members in self._phases.items():
            if phase is UNWORKED or phase != phase_of(starts, extended):
                ids.update(members)
        acting = {self.entries[i].seq: self.entries[i] for i in ids}
        for symbol in self.requoted:
            book = self.symbols.get(symbol)
            if book is not None:
                acting.update((e.seq, e) for e in book.acting(quotes.get(symbol), starts))
        self.requoted.clear()
        return sorted(acting.values(), key=entry_key)

    def _leave_phase(self, entry: Entry) -> None:
        key = (entry.extended, entry.phase)
        members = self._phases.get(key)
        if members is not None:
            members.discard(entry.client_order_id)
            if not members:
                del self._phases[key]


def phase_of(starts: Starts, extended: bool) -> Phase:
    start = starts[extended]
    return CLOSED if start is None else start
