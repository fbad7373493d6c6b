"""Tastytrade: the connection form and capabilities, readable without importing the connector or its SDK."""

from __future__ import annotations

from app.brokers.base import BrokerSpec, Capabilities, CredentialField, Environment
from app.brokers.loader import LazyConnector

SPEC = BrokerSpec(
    key="tastytrade",
    display_name="Tastytrade",
    factory=LazyConnector("app.brokers.tastytrade.connector", "TastytradeBroker"),
    fields=(
        CredentialField(
            "client_secret",
            "Client secret",
            secret=True,
            help="From your OAuth application on my.tastytrade.com (Manage → My Profile → API → OAuth "
            "Applications); for the sandbox, from the sandbox OAuth application.",
        ),
        CredentialField(
            "refresh_token",
            "Refresh token",
            secret=True,
            help="OAuth Applications → Manage → Create Grant. It does not expire; treat it like a password.",
        ),
        CredentialField(
            "account_number",
            "Account number",
            required=False,
            help="Only needed when the login has more than one account (for example 5WT00001).",
        ),
    ),
    environments=(Environment.PAPER, Environment.LIVE),
    capabilities=Capabilities(
        options=True, stop_limit=True, preview=True, extended_hours=True, fractional=False, replace=True,
        replace_quantity=False, bars=False, equity_history=True,
    ),
    docs="docs/brokers/tastytrade.md",
)
