"""TradeBridge: a desktop trading client."""

__version__ = "0.1.0"
