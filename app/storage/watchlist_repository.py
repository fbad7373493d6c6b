"""Watchlists and market-data settings kept in the app settings table, so they survive a restart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.domain.quote_age import DEFAULT_STALE_AFTER
from app.domain.symbols import SymbolError, parse_symbol
from app.domain.watchlists import Watchlist, Watchlists
from app.storage.settings_repository import get_setting, put_setting

WATCHLISTS_KEY = "marketdata.watchlists"
STALE_AFTER_KEY = "marketdata.stale_after_seconds"


def load_watchlists(session: Session) -> Watchlists:
    """The saved lists, or one empty list on first launch; symbols that no longer parse are dropped."""
    raw: Any = get_setting(session, WATCHLISTS_KEY)
    if not isinstance(raw, dict) or not isinstance(raw.get("lists"), list) or not raw["lists"]:
        return Watchlists()
    lists: list[Watchlist] = []
    for entry in raw["lists"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        symbols: list[str] = []
        for text in entry.get("symbols", []):
            try:
                symbols.append(parse_symbol(str(text)).symbol)
            except SymbolError:
                continue
        lists.append(Watchlist(entry["name"], tuple(dict.fromkeys(symbols))))
    if not lists:
        return Watchlists()
    names = [w.name for w in lists]
    active = raw.get("active") if raw.get("active") in names else names[0]
    return Watchlists(lists=tuple(lists), active=active)


def save_watchlists(session: Session, watchlists: Watchlists) -> None:
    put_setting(
        session,
        WATCHLISTS_KEY,
        {"active": watchlists.active, "lists": [{"name": w.name, "symbols": list(w.symbols)} for w in watchlists.lists]},
    )


def load_stale_after(session: Session) -> timedelta:
    raw = get_setting(session, STALE_AFTER_KEY)
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        return DEFAULT_STALE_AFTER
    return timedelta(seconds=seconds) if seconds > 0 else DEFAULT_STALE_AFTER


def save_stale_after(session: Session, stale_after: timedelta) -> None:
    put_setting(session, STALE_AFTER_KEY, stale_after.total_seconds())
