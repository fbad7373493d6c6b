"""The credential mapping of one broker connection, which never shows its values in a repr or a log.

``Credentials`` is what the vault encrypts and what a connector factory receives (it is a
``Mapping[str, str]``). Every value is registered with the log redactor when the mapping is built,
so a value that escapes into a message, a URL or a traceback is still scrubbed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import NoReturn

from app.security.redaction import MASK, register_account_number, register_secret

#: Credential fields holding an account number: shown in logs by their last 4 characters only.
ACCOUNT_FIELDS = frozenset({"account_number", "account"})


class CredentialsFormatError(ValueError):
    """A decrypted blob is not a credential mapping (it says nothing about the content)."""


class Credentials(Mapping[str, str]):
    """Field name -> value for one connection; ``repr``/``str`` show the field names and ``***``."""

    __slots__ = ("_public", "_values")

    def __init__(self, values: Mapping[str, str] | None = None, /, *, public: Iterable[str] = (), **fields: str) -> None:
        """``public`` names the fields that are not secret (a host, a port, a client id); every other
        value is registered with the log redactor, so masking stays on secrets and logs stay readable."""
        merged = dict(values or {})
        merged.update(fields)
        self._public: frozenset[str] = frozenset(public) & merged.keys()
        for name, value in merged.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError("credential names and values are text")
            if value and name not in self._public:
                register_secret(value)
            if value and name in ACCOUNT_FIELDS:
                register_account_number(value)
        self._values: dict[str, str] = merged

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={MASK}" for name in self._values)
        return f"Credentials({shown})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        # Pickling would write the values somewhere this class can no longer watch.
        raise TypeError("Credentials can't be pickled")

    @property
    def public_fields(self) -> frozenset[str]:
        return self._public

    def merged_with(self, updates: Mapping[str, str]) -> Credentials:
        """A copy with ``updates`` applied; an empty update keeps the saved value of that field."""
        values = dict(self._values)
        values.update({name: value for name, value in updates.items() if value})
        public = self._public | (updates.public_fields if isinstance(updates, Credentials) else frozenset())
        return Credentials(values, public=public)

    def without_empty(self) -> Credentials:
        return Credentials({k: v for k, v in self._values.items() if v}, public=self._public)

    def to_bytes(self) -> bytes:
        """The plaintext the vault encrypts: compact, sorted JSON (the field mapping, plus the names
        of the public fields when there are any)."""
        payload: object = self._values
        if self._public:
            payload = {"values": self._values, "public": sorted(self._public)}
        return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Credentials:
        try:
            values = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise CredentialsFormatError("the decrypted credentials are not readable") from None
        public: list[object] = []
        if isinstance(values, dict) and set(values) == {"values", "public"} and isinstance(values["values"], dict):
            public = values["public"] if isinstance(values["public"], list) else []
            values = values["values"]
        if not all(isinstance(name, str) for name in public):
            raise CredentialsFormatError("the decrypted credentials are not a field mapping")
        if not isinstance(values, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in values.items()
        ):
            raise CredentialsFormatError("the decrypted credentials are not a field mapping")
        return cls(values, public=[str(name) for name in public])


def account_last4(account_number: str) -> str:
    """The only part of an account number the app keeps or shows."""
    return account_number.strip()[-4:]


def masked_account(last4: str | None) -> str:
    """``…1234`` for display; an empty string when the account is not known yet."""
    return f"…{last4}" if last4 else ""
