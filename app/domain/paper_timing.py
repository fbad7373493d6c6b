"""When paper orders may trade: open sessions, fresh quotes, and when orders expire."""

from __future__ import annotations

from datetime import date, datetime

from app.domain.market_calendar import NEW_YORK, REGULAR_CLOSE, UsEquityCalendar, describe_time, local_date
from app.domain.models import Order, Quote, TimeInForce
from app.domain.paper_fills import Resting, Wait


def usable_quote(calendar: UsEquityCalendar, order: Order, quote: Quote | None, now: datetime) -> Quote | Resting:
    """The quote the order may trade against at `now`, or why it cannot meet the market yet.

    A quote is usable only if stamped at or after the start of the current session (the regular
    open, or 04:00 for extended-hours orders): yesterday's close never fills an order at the open.
    """
    request = order.request
    extended = request.extended_hours
    triggered = order.stop_triggered
    if not calendar.is_open(now, extended=extended):
        opens = describe_time(calendar.next_open(now, extended=extended))
        market = "the pre-market" if extended else "the market"
        return Resting(Wait.MARKET_CLOSED, f"waiting for {market} to open at {opens}", triggered)
    if quote is None:
        return Resting(Wait.NO_QUOTE, f"no quote for {request.symbol} yet", triggered)
    session = calendar.session(local_date(now))
    if session is None or quote.timestamp < session.start(extended=extended):
        return Resting(
            Wait.STALE_QUOTE,
            f"waiting for a fresh quote for {request.symbol}: the last one is from "
            f"{describe_time(quote.timestamp)}, before this session",
            triggered,
        )
    return quote


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
