"""Tradier: the connection form and capabilities, readable without importing the connector or its SDK."""

from __future__ import annotations

from app.brokers.base import BrokerSpec, Capabilities, CredentialField, Environment
from app.brokers.loader import LazyConnector

SPEC = BrokerSpec(
    key="tradier",
    display_name="Tradier",
    factory=LazyConnector("app.brokers.tradier.connector", "TradierBroker"),
    fields=(
        CredentialField(
            name="access_token",
            label="Access token",
            secret=True,
            help="From your Tradier dashboard's API settings. Sandbox and live tokens are different.",
        ),
        CredentialField(
            name="account_number",
            label="Account number",
            help="The Tradier account to trade, e.g. VA12345678 for a sandbox account.",
        ),
    ),
    environments=(Environment.PAPER, Environment.LIVE),
    capabilities=Capabilities(
        options=True, stop_limit=True, preview=True, extended_hours=False, fractional=False, replace=True,
        replace_quantity=False,
    ),
    docs="docs/brokers/tradier.md",
)
