"""Broker name -> connector spec: how to build it and which credential fields its form asks for."""

from __future__ import annotations

from app.brokers.base import BrokerSpec


def _load_specs() -> dict[str, BrokerSpec]:
    from app.brokers.alpaca.connector import SPEC as ALPACA
    from app.brokers.ibkr.connector import SPEC as IBKR
    from app.brokers.tastytrade.connector import SPEC as TASTYTRADE
    from app.brokers.tradier.connector import SPEC as TRADIER

    specs = (ALPACA, TRADIER, TASTYTRADE, IBKR)
    return {spec.key: spec for spec in specs}


_SPECS: dict[str, BrokerSpec] | None = None


def specs() -> dict[str, BrokerSpec]:
    """Every supported broker, in display order."""
    global _SPECS
    if _SPECS is None:
        _SPECS = _load_specs()
    return _SPECS


def get_spec(key: str) -> BrokerSpec:
    try:
        return specs()[key]
    except KeyError:
        raise KeyError(f"Unknown broker '{key}'.") from None
