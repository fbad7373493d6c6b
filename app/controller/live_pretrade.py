"""What a live order or a live change is checked against before the trader confirms it, read from the broker.

A new order and a change of a working order pass the same gate: the shared safety checks, the risk
admission for the live account, then the verified account, the broker's positions and a fresh broker
quote, read at once under a timeout. A read that fails becomes a sentence the trader reads, and
nothing is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.brokers.base import AccountInfo, BrokerError
from app.controller.entry_quote import QuoteLookup, look_up
from app.controller.live_views import LiveSession, account_summary, position_view
from app.controller.risk_controller import Admission, RiskController
from app.domain.models import AccountSummary, OrderRequest, Position, TradingMode
from app.marketdata.broker_quotes import BrokerQuoteSource

#: Verify the connection before a live order or change when the last verification is older than this.
VERIFY_MAX_AGE_SECONDS = 60.0
#: How long the broker's positions and quote may take to arrive before the check gives up.
READ_TIMEOUT_SECONDS = 15.0

#: A pre-send check returns the reason an order must not be sent, or None to let it through.
PreSendCheck = Callable[[OrderRequest, LiveSession], "str | None"]


@dataclass(frozen=True, slots=True)
class PreTradeFacts:
    """What the risk checks look at, read from the broker right before the confirmation."""

    info: AccountInfo
    account: AccountSummary
    positions: dict[str, Position]
    #: The fresh quote lookup for the order's symbol (quotes that arrived, symbols that could not be reached).
    found: QuoteLookup


async def read_pretrade_facts(
    session: LiveSession,
    symbol: str,
    *,
    ensure_verified: Callable[[float], Awaitable[AccountInfo]],
    what: str,
    positions_timeout: float = READ_TIMEOUT_SECONDS,
    quote_timeout: float = READ_TIMEOUT_SECONDS,
) -> PreTradeFacts | str:
    """The verified account, the broker's positions and a fresh broker quote, read at once; or why not.

    ``what`` names what is being checked ("order", "change") in the sentence a failed read becomes.
    """
    verified, held, found = await asyncio.gather(
        ensure_verified(VERIFY_MAX_AGE_SECONDS),
        asyncio.wait_for(session.broker.positions(), positions_timeout),
        look_up(BrokerQuoteSource(session.broker), [symbol], quote_timeout),
        return_exceptions=True,
    )
    if isinstance(verified, BaseException):
        if not isinstance(verified, BrokerError):
            raise verified
        return f"the connection to {session.broker_name} failed ({verified})."
    if isinstance(found, BaseException):
        raise found
    if isinstance(held, BaseException):
        if not isinstance(held, (BrokerError, asyncio.TimeoutError)):
            raise held
        why = str(held) or "no answer in time"
        return f"your positions at {session.broker_name} could not be read ({why}), so the {what} can't be checked."
    views = [position_view(p) for p in held if p.quantity != 0]
    return PreTradeFacts(
        info=verified,
        account=account_summary(verified, views),
        positions={v.symbol: v.position for v in views},
        found=found,
    )


def admit_live(risk: RiskController | None, session: LiveSession) -> Admission:
    """The risk admission for an order or change in the session's account (open when no risk gate is set)."""
    if risk is None:
        return Admission.ungated()
    return risk.admit(TradingMode.LIVE, account=session.account_key)


def pre_send_refusal(checks: list[PreSendCheck], request: OrderRequest, session: LiveSession) -> str:
    """The first safety check's reason to hold the order back, or '' when every check lets it through."""
    for check in checks:
        refusal = check(request, session)
        if refusal:
            return refusal
    return ""
