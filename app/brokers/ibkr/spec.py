"""Interactive Brokers: the connection form and capabilities, readable without importing the connector or its SDK."""

from __future__ import annotations

from app.brokers.base import BrokerSpec, Capabilities, CredentialField
from app.brokers.ibkr.parse import DEFAULT_HOST, PORT_PRESETS
from app.brokers.loader import LazyConnector

_PORT_HELP = ", ".join(f"{name} {port}" for port, name in PORT_PRESETS.items())

SPEC = BrokerSpec(
    key="ibkr",
    display_name="Interactive Brokers",
    factory=LazyConnector("app.brokers.ibkr.connector", "IbkrBroker", thread_safe_import=False),
    fields=(
        CredentialField("host", "Host", help="Computer running TWS or IB Gateway.", default=DEFAULT_HOST),
        CredentialField(
            "port",
            "API port",
            help=f"The socket port set in TWS/IB Gateway API settings: {_PORT_HELP}.",
            default="7497",
            choices=tuple(PORT_PRESETS),
        ),
        CredentialField(
            "client_id",
            "Client ID",
            help="Any number not used by another API application on the same TWS; 0 also receives manual TWS orders.",
            default="1",
        ),
        CredentialField(
            "account",
            "Account",
            help="Only needed when your login manages several accounts (e.g. DU1234567).",
            required=False,
        ),
    ),
    capabilities=Capabilities(
        options=True, stop_limit=True, preview=True, extended_hours=True, fractional=False, replace=True,
        replace_quantity=True, quote_stream=True,
    ),
    docs="docs/brokers/ibkr.md",
)
