"""When paper orders may trade: open sessions, fresh quotes, and when orders expire."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from app.domain.market_calendar import NEW_YORK, REGULAR_CLOSE, UsEquityCalendar, describe_time, local_date
from app.domain.models import Order, Quote, TimeInForce
from app.domain.paper_fills import Resting, Wait


def usable_quote(calendar: UsEquityCalendar, order: Order, quote: Quote | None, now: datetime) -> Quote | Resting:
    """The quote the order may trade against at `now`, or why it cannot meet the market yet.

    A quote is usable only if stamped at or after the start of the current session (the regular
    open, or 04:00 for extended-hours orders): yesterday's close never fills an order at the open.
    """
    start = session_start(calendar, now, extended=order.request.extended_hours)
    return quote_in_session(calendar, order, quote, now, start)


def quote_in_session(
    calendar: UsEquityCalendar, order: Order, quote: Quote | None, now: datetime, start: datetime | None
) -> Quote | Resting:
    """`usable_quote` with the session's start (None when closed) already known for `now`."""
    request = order.request
    extended = request.extended_hours
    triggered = order.stop_triggered
    if start is None:
        return Resting(Wait.MARKET_CLOSED, lambda: closed_reason(calendar, now, extended=extended), triggered)
    if quote is None:
        return Resting(Wait.NO_QUOTE, lambda: f"no quote for {request.symbol} yet", triggered)
    if quote.timestamp < start:
        stamp = quote.timestamp
        return Resting(
            Wait.STALE_QUOTE,
            lambda: f"waiting for a fresh quote for {request.symbol}: the last one is from "
            f"{describe_time(stamp)}, before this session",
            triggered,
        )
    return quote


def session_start(calendar: UsEquityCalendar, now: datetime, *, extended: bool) -> datetime | None:
    """The start of the session open at `now` (04:00 when extended, else the regular open); None when closed.

    Everything the clock decides about a resting order follows from this one value: whether it may
    trade at all, and how fresh a quote must be.
    """
    session = calendar.session(local_date(now))
    if session is None or not session.contains(now, extended=extended):
        return None
    return session.start(extended=extended)


def phase_bounds(calendar: UsEquityCalendar, now: datetime) -> tuple[datetime, datetime]:
    """The stretch of time around `now` in which `session_start` gives the same answers, for both hours flags.

    It ends at the next open or close of the regular or extended session, or at New York midnight.
    """
    day = local_date(now)
    points = [
        datetime.combine(day, time(0), tzinfo=NEW_YORK),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=NEW_YORK),
    ]
    session = calendar.session(day)
    if session is not None:
        points += [session.extended_open, session.open, session.close, session.extended_close]
    since = max(p for p in points if p <= now)
    until = min(p for p in points if p > now)
    return since, until


def closed_reason(calendar: UsEquityCalendar, now: datetime, *, extended: bool) -> str:
    opens = describe_time(calendar.next_open(now, extended=extended))
    market = "the pre-market" if extended else "the market"
    return f"waiting for {market} to open at {opens}"


def expiry_time(calendar: UsEquityCalendar, order: Order) -> datetime | None:
    """When an open order stops working; None for a GTC stock order (the reason is `expiry`'s)."""
    request = order.request
    end: datetime | None = None
    if request.time_in_force is TimeInForce.DAY:
        extended = request.extended_hours
        end = calendar.trading_session(order.created_at, extended=extended).end(extended=extended)
    option = request.instrument.option
    if option is not None:
        closes = option_close(calendar, option.expiry)
        end = closes if end is None else min(end, closes)
    return end


def expiry(calendar: UsEquityCalendar, order: Order) -> tuple[datetime, str] | None:
    """When an open order stops working and the reason shown then; None for a GTC stock order.

    A DAY order belongs to the session it was placed for (that day's, or the next one when placed
    after the close), so an engine restarted the next morning still expires it.
    """
    request = order.request
    candidates: list[tuple[datetime, str]] = []
    if request.time_in_force is TimeInForce.DAY:
        extended = request.extended_hours
        end = calendar.trading_session(order.created_at, extended=extended).end(extended=extended)
        what = "the end of the post-market" if extended else "the close"
        candidates.append((end, f"expired: a day order not filled by {what} at {describe_time(end)}"))
    option = request.instrument.option
    if option is not None:
        end = option_close(calendar, option.expiry)
        candidates.append((end, f"expired with the option at {describe_time(end)}"))
    return min(candidates, key=lambda c: c[0]) if candidates else None


def option_close(calendar: UsEquityCalendar, expiry_day: date) -> datetime:
    """The last moment an option trades: the close of its expiry day (16:00 if that is no trading day)."""
    session = calendar.session(expiry_day)
    return session.close if session else datetime.combine(expiry_day, REGULAR_CLOSE, tzinfo=NEW_YORK)
