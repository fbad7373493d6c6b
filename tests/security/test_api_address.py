"""Developer API addresses: https anywhere, http only on this computer, nothing else."""

from __future__ import annotations

import pytest

from app.security.api_address import api_address_problem


@pytest.mark.parametrize(
    "url",
    [
        "https://api.tradier.com",
        "https://sandbox.tradier.com:8443/v1",
        "http://127.0.0.1:5000",
        "http://127.8.9.10",
        "http://localhost:8080",
        "http://LOCALHOST",
        "http://[::1]:9000",
        "https://10.0.0.5",
    ],
)
def test_accepted(url: str) -> None:
    assert api_address_problem(url) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://api.tradier.com", "unencrypted"),
        ("http://10.0.0.5:5000", "unencrypted"),
        ("http://localhost.evil.example", "unencrypted"),
        ("http://127.0.0.1.nip.io", "unencrypted"),
        ("ftp://127.0.0.1", "not a web address"),
        ("127.0.0.1:5000", "not a web address"),
        ("https://", "not a web address"),
        ("http://127.0.0.1:notaport", "not a web address"),
        ("https://user:pw@api.example.com", "own fields"),
    ],
)
def test_refused_with_a_reason(url: str, why: str) -> None:
    problem = api_address_problem(url)
    assert problem is not None and why in problem
