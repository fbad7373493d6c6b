"""Small app settings stored as JSON by key."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.domain.paper_engine import PaperSettings
from app.storage.schema import SettingRow


def get_setting(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(SettingRow, key)
    return default if row is None else json.loads(row.value)


def put_setting(session: Session, key: str, value: Any) -> None:
    text = json.dumps(value, sort_keys=True)
    row = session.get(SettingRow, key)
    if row is None:
        session.add(SettingRow(key=key, value=text))
    else:
        row.value = text


PAPER_SETTINGS_KEY = "paper.settings"


def load_paper_settings(session: Session) -> PaperSettings:
    """The saved paper settings, or the defaults on first launch."""
    raw = get_setting(session, PAPER_SETTINGS_KEY) or {}
    defaults = PaperSettings()
    return PaperSettings(
        starting_cash=Decimal(raw.get("starting_cash", str(defaults.starting_cash))),
        slippage_bps=Decimal(raw.get("slippage_bps", str(defaults.slippage_bps))),
        commission_per_order=Decimal(raw.get("commission_per_order", str(defaults.commission_per_order))),
        commission_per_share=Decimal(raw.get("commission_per_share", str(defaults.commission_per_share))),
        commission_per_contract=Decimal(raw.get("commission_per_contract", str(defaults.commission_per_contract))),
        allow_shorting=bool(raw.get("allow_shorting", defaults.allow_shorting)),
    )


def save_paper_settings(session: Session, settings: PaperSettings) -> None:
    put_setting(
        session,
        PAPER_SETTINGS_KEY,
        {
            "starting_cash": str(settings.starting_cash),
            "slippage_bps": str(settings.slippage_bps),
            "commission_per_order": str(settings.commission_per_order),
            "commission_per_share": str(settings.commission_per_share),
            "commission_per_contract": str(settings.commission_per_contract),
            "allow_shorting": settings.allow_shorting,
        },
    )


VERIFY_INTERVAL_KEY = "connection.verify_interval_minutes"
TRADING_MODE_KEY = "trading.mode"
DEFAULT_VERIFY_INTERVAL_MINUTES = 5


def load_verify_interval(session: Session) -> int:
    """Minutes between verifications of the active broker connection (1 or more)."""
    raw = get_setting(session, VERIFY_INTERVAL_KEY, DEFAULT_VERIFY_INTERVAL_MINUTES)
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return DEFAULT_VERIFY_INTERVAL_MINUTES


def save_verify_interval(session: Session, minutes: int) -> None:
    if minutes < 1:
        raise ValueError("the verification interval is at least one minute")
    put_setting(session, VERIFY_INTERVAL_KEY, int(minutes))


def load_trading_mode(session: Session) -> dict[str, str]:
    """The mode the trader last chose, with the connection and account a live choice was made for."""
    raw = get_setting(session, TRADING_MODE_KEY) or {}
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def save_trading_mode(session: Session, value: dict[str, str]) -> None:
    put_setting(session, TRADING_MODE_KEY, value)
