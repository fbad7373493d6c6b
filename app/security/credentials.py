"""The credential mapping of one broker connection, which never shows its values in a repr or a log.

``Credentials`` is what the vault encrypts and what a connector factory receives (it is a
``Mapping[str, str]``). Every value is registered with the log redactor when the mapping is built,
so a value that escapes into a message, a URL or a traceback is still scrubbed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import NoReturn

from app.security.redaction import MASK, register_secret


class CredentialsFormatError(ValueError):
    """A decrypted blob is not a credential mapping (it says nothing about the content)."""


class Credentials(Mapping[str, str]):
    """Field name -> value for one connection; ``repr``/``str`` show the field names and ``***``."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str] | None = None, /, **fields: str) -> None:
        merged = dict(values or {})
        merged.update(fields)
        for name, value in merged.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError("credential names and values are text")
            if value:
                register_secret(value)
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

    def merged_with(self, updates: Mapping[str, str]) -> Credentials:
        """A copy with ``updates`` applied; an empty update keeps the saved value of that field."""
        values = dict(self._values)
        values.update({name: value for name, value in updates.items() if value})
        return Credentials(values)

    def to_bytes(self) -> bytes:
        """The plaintext the vault encrypts: compact, sorted JSON."""
        return json.dumps(self._values, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Credentials:
        try:
            values = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise CredentialsFormatError("the decrypted credentials are not readable") from None
        if not isinstance(values, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in values.items()
        ):
            raise CredentialsFormatError("the decrypted credentials are not a field mapping")
        return cls(values)


def account_last4(account_number: str) -> str:
    """The only part of an account number the app keeps or shows."""
    return account_number.strip()[-4:]


def masked_account(last4: str | None) -> str:
    """``…1234`` for display; an empty string when the account is not known yet."""
    return f"…{last4}" if last4 else ""
