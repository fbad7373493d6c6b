"""Named watchlists: ordered symbols per list, changed only through functions that refuse bad input."""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.domain.symbols import parse_symbol

DEFAULT_LIST = "Watchlist"
MAX_NAME = 40


class WatchlistError(ValueError):
    """A change the trader asked for that can't be made; ``str()`` says why. Nothing was changed."""


@dataclass(frozen=True, slots=True)
class Watchlist:
    name: str
    symbols: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Watchlists:
    """Every list, in the order the trader sees them, and the one on screen."""

    lists: tuple[Watchlist, ...] = (Watchlist(DEFAULT_LIST),)
    active: str = DEFAULT_LIST

    @property
    def current(self) -> Watchlist:
        return self.get(self.active)

    def get(self, name: str) -> Watchlist:
        for watchlist in self.lists:
            if watchlist.name == name:
                return watchlist
        raise WatchlistError(f"There is no watchlist called '{name}'.")

    def all_symbols(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for w in self.lists for s in w.symbols))

    def _with(self, updated: Watchlist) -> Watchlists:
        return replace(self, lists=tuple(updated if w.name == updated.name else w for w in self.lists))

    def add(self, name: str, text: str) -> tuple[Watchlists, str]:
        """The lists with the symbol appended to ``name``, and the canonical symbol; SymbolError for bad text."""
        symbol = parse_symbol(text).symbol
        watchlist = self.get(name)
        if symbol in watchlist.symbols:
            raise WatchlistError(f"{symbol} is already in '{name}'.")
        return self._with(replace(watchlist, symbols=(*watchlist.symbols, symbol))), symbol

    def remove(self, name: str, symbol: str) -> Watchlists:
        watchlist = self.get(name)
        if symbol not in watchlist.symbols:
            raise WatchlistError(f"{symbol} is not in '{name}'.")
        return self._with(replace(watchlist, symbols=tuple(s for s in watchlist.symbols if s != symbol)))

    def move(self, name: str, symbol: str, to_row: int) -> Watchlists:
        """``symbol`` moved to position ``to_row`` (clamped to the list)."""
        watchlist = self.get(name)
        if symbol not in watchlist.symbols:
            raise WatchlistError(f"{symbol} is not in '{name}'.")
        others = [s for s in watchlist.symbols if s != symbol]
        row = max(0, min(to_row, len(others)))
        others.insert(row, symbol)
        return self._with(replace(watchlist, symbols=tuple(others)))

    def create(self, name: str) -> Watchlists:
        cleaned = _clean_name(name)
        if any(w.name.casefold() == cleaned.casefold() for w in self.lists):
            raise WatchlistError(f"A watchlist called '{cleaned}' already exists.")
        return Watchlists(lists=(*self.lists, Watchlist(cleaned)), active=cleaned)

    def delete(self, name: str) -> Watchlists:
        self.get(name)
        if len(self.lists) == 1:
            raise WatchlistError("The last watchlist can't be deleted; remove its symbols instead.")
        remaining = tuple(w for w in self.lists if w.name != name)
        active = self.active if self.active != name else remaining[0].name
        return Watchlists(lists=remaining, active=active)

    def select(self, name: str) -> Watchlists:
        self.get(name)
        return replace(self, active=name)


def _clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise WatchlistError("Give the watchlist a name.")
    if len(cleaned) > MAX_NAME:
        raise WatchlistError(f"Watchlist names are at most {MAX_NAME} characters.")
    return cleaned
