"""Public fields of a connection (host, port, client id) stay readable in logs; secrets never do."""

from __future__ import annotations

import json

from app.security.credentials import Credentials
from app.security.redaction import redact


def test_only_secret_fields_are_scrubbed() -> None:
    Credentials(
        {"host": "10.9.8.7", "port": "7391", "refresh_token": "rt-public-field-test-0001"}, public=["host", "port"]
    )
    text = redact("connecting to 10.9.8.7:7391 with rt-public-field-test-0001")
    assert "10.9.8.7:7391" in text
    assert "rt-public-field-test-0001" not in text


def test_public_field_names_survive_the_sealed_round_trip() -> None:
    original = Credentials({"client_id": "3", "api_secret": "as-round-trip-secret-77"}, public=["client_id"])
    restored = Credentials.from_bytes(original.to_bytes())
    assert dict(restored) == dict(original)
    assert restored.public_fields == frozenset({"client_id"})
    merged = restored.merged_with(Credentials({"api_secret": "as-new-secret-value-88"}))
    assert merged.public_fields == frozenset({"client_id"})
    assert merged["api_secret"] == "as-new-secret-value-88"


def test_a_blob_without_public_names_treats_every_value_as_secret() -> None:
    flat = json.dumps({"port": "6123", "token": "flat-format-token-0099"}).encode()
    restored = Credentials.from_bytes(flat)
    assert restored.public_fields == frozenset()
    assert "6123" not in redact("port 6123")
