"""Alpaca: the connection form and capabilities, readable without importing the connector or its SDK."""

from __future__ import annotations

from app.brokers.base import BrokerSpec, Capabilities, CredentialField, Environment
from app.brokers.loader import LazyConnector

SPEC = BrokerSpec(
    key="alpaca",
    display_name="Alpaca",
    factory=LazyConnector("app.brokers.alpaca.connector", "AlpacaBroker"),
    fields=(
        CredentialField(
            name="api_key_id",
            label="API key ID",
            secret=True,
            help="From the Alpaca dashboard, API Keys panel. Paper and live accounts have different keys.",
        ),
        CredentialField(
            name="api_secret_key",
            label="API secret key",
            secret=True,
            help="Shown once when the key is generated; regenerate the key if you no longer have it.",
        ),
    ),
    environments=(Environment.PAPER, Environment.LIVE),
    capabilities=Capabilities(
        options=True, stop_limit=True, preview=False, extended_hours=True, fractional=True, replace=True,
        replace_quantity=True, quote_stream=True, equity_history=True,
    ),
    docs="docs/brokers/alpaca.md",
)
