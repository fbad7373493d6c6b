"""The developer API address of a connection: https for any host, plain http only for this computer.

Credentials travel in every request's headers; over plain http they would cross the network in the
clear. A fake broker on the same computer (the developer setting's purpose) is the one exception.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

#: Shown next to the field and in the refusal, so the rule is known before it bites.
API_ADDRESS_RULE = "https:// for any host; http:// only for this computer (localhost, 127.0.0.1 or ::1)."


def is_loopback_host(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def api_address_problem(url: str) -> str | None:
    """Why ``url`` can't be a connection's API address, in the trader's words, or ``None``."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return f"That is not a web address. Use {API_ADDRESS_RULE}"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return f"That is not a web address. Use {API_ADDRESS_RULE}"
    if parts.username or parts.password:
        return "Put credentials in their own fields, not in the address."
    if scheme == "http" and not is_loopback_host(host):
        return f"Plain http would send your credentials unencrypted. Use {API_ADDRESS_RULE}"
    return None
