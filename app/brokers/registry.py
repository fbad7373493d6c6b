"""Broker name -> connector spec: how to build it and which credential fields its form asks for.

The specs are light: listing the brokers (the Settings form) imports no connector and no SDK. A
connector is imported when a connection of that broker is first used (``load_factory``).
"""

from __future__ import annotations

from app.brokers.base import BrokerFactory, BrokerSpec
from app.brokers.loader import load_factory


def _load_specs() -> dict[str, BrokerSpec]:
    from app.brokers.alpaca.spec import SPEC as ALPACA
    from app.brokers.ibkr.spec import SPEC as IBKR
    from app.brokers.tastytrade.spec import SPEC as TASTYTRADE
    from app.brokers.tradier.spec import SPEC as TRADIER

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


async def connector_factory(spec: BrokerSpec) -> BrokerFactory:
    """The spec's connector class, imported now if this is the first connection of that broker."""
    return await load_factory(spec.factory)
