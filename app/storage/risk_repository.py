"""Risk limits, the halted state and each session's starting equity, stored as app settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from app.domain.models import TradingMode
from app.domain.risk import RiskLimits, limits_from_dict, limits_to_dict
from app.storage.settings_repository import get_setting, put_setting

RISK_LIMITS_KEY = "risk.limits"
HALT_KEY = "risk.halt"
DAY_START_KEY = "risk.day_start.{mode}"


@dataclass(frozen=True, slots=True)
class HaltState:
    """Trading halted by the kill switch: since when and why; survives restarts until lifted."""

    halted: bool
    reason: str = ""
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class DayStart:
    """The equity an account had when its trading session began; the daily loss is measured from it.

    ``account`` names the live account it was read from (broker, environment and last 4), so a switch
    to another account starts a new day rather than comparing two accounts' equity; empty for paper.
    """

    session: date
    equity: Decimal
    account: str = ""


def load_risk_limits(session: Session) -> RiskLimits:
    """The saved limits, or the safe defaults on first launch."""
    raw = get_setting(session, RISK_LIMITS_KEY)
    return limits_from_dict(raw) if isinstance(raw, dict) else RiskLimits()


def save_risk_limits(session: Session, limits: RiskLimits) -> None:
    put_setting(session, RISK_LIMITS_KEY, limits_to_dict(limits))


def load_halt(session: Session) -> HaltState:
    raw = get_setting(session, HALT_KEY)
    if not isinstance(raw, dict) or not raw.get("halted"):
        return HaltState(False)
    since = raw.get("since")
    try:
        at = datetime.fromisoformat(since) if isinstance(since, str) else None
    except ValueError:
        at = None
    # Whatever is unreadable, a saved halt stays a halt: failing open would defeat the kill switch.
    return HaltState(True, str(raw.get("reason") or "kill switch"), at)


def save_halt(session: Session, state: HaltState) -> None:
    put_setting(
        session,
        HALT_KEY,
        {
            "halted": state.halted,
            "reason": state.reason,
            "since": state.since.isoformat() if state.since is not None else None,
        },
    )


def load_day_start(session: Session, mode: TradingMode) -> DayStart | None:
    raw = get_setting(session, DAY_START_KEY.format(mode=mode.value))
    if not isinstance(raw, dict):
        return None
    try:
        return DayStart(
            date.fromisoformat(str(raw["session"])), Decimal(str(raw["equity"])), str(raw.get("account") or "")
        )
    except (KeyError, ValueError, InvalidOperation):
        return None


def save_day_start(session: Session, mode: TradingMode, start: DayStart) -> None:
    put_setting(
        session,
        DAY_START_KEY.format(mode=mode.value),
        {"session": start.session.isoformat(), "equity": str(start.equity), "account": start.account},
    )


@dataclass(frozen=True, slots=True)
class RiskState:
    limits: RiskLimits
    halt: HaltState
    day_starts: dict[TradingMode, DayStart]


def load_risk_state(session: Session) -> RiskState:
    """Everything the risk gate needs at start, in one transaction."""
    starts = {mode: load_day_start(session, mode) for mode in TradingMode}
    return RiskState(
        load_risk_limits(session),
        load_halt(session),
        {mode: start for mode, start in starts.items() if start is not None},
    )
