"""Scrubbing secrets out of text: log records, crash dialogs and crash reports.

Two nets, applied in order:

1. **Known values.** Every credential the app holds is registered with ``register_secret``; any
   occurrence of it, and any run of 8 or more of its characters (a truncated or split copy), is
   replaced. Values shorter than 8 characters are replaced where they stand alone as a token,
   so a 4-digit PIN does not wipe every "2024" out of a log.
2. **Shapes.** Credentials the app has not seen yet (a token a broker just handed back, a header
   echoed in an error): ``Authorization: …``, ``APCA-API-KEY-ID`` / ``APCA-API-SECRET-KEY``,
   ``Bearer …``, ``access_token=…`` and friends in URLs, query strings, JSON, dict reprs and form
   bodies, passwords in URLs, and Fernet tokens.

Account numbers keep their last 4 characters (``***0001``) and nothing else, by the same two nets:
numbers the app knows (``register_account_number``: entered in a form, read from saved credentials,
returned by a broker) wherever they stand, and, before any is known, values of account fields
(``account_number``, ``account-number``, ``accountId``, ``account='…'``), the segment after
``/accounts/`` in a URL, and IBKR account ids (``U1234567``, ``DU1234567``) — so an httpx request
line, a qasync result or an ib_insync record is scrubbed from the very first request.

``redact`` is idempotent: the mask ``***`` is never itself rewritten.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

MASK = "***"
#: Runs of this many characters of a known secret are scrubbed wherever they appear.
FRAGMENT = 8

# A credential-bearing field name: ``access_token``, ``client_secret``, ``X-Tastyworks-OTP``,
# ``APCA-API-KEY-ID``, ``api_key``, ``password``, ``remember-token``, ``Authorization``, ...
_NAME = (
    r"(?:[A-Za-z0-9_-]*?(?:token|secret|passw(?:or)?d|passphrase|api[_-]?key|authorization|cookie)"
    r"[A-Za-z0-9_-]*|apca-api-key-id|[A-Za-z0-9_-]*-otp)"
)
_NAME_START = r"(?<![A-Za-z0-9_-])"
_NAME_END = r"(?![A-Za-z0-9_-])"
# A bare value: up to the next delimiter of a query string, header list, JSON or repr.
_BARE = r"[^\s&#\"',;)}\]]+"
# An HTTP auth scheme in front of the credential, kept out of the mask's way.
_SCHEME = r"(?:(?:Bearer|Basic|Token|Digest|OAuth)\s+)?"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # "access_token": "abc"  /  'Authorization': 'Bearer abc'
    (
        re.compile(
            r"(?P<key>b?(?P<q>[\"'])" + _NAME + r"(?P=q)\s*:\s*b?(?P<vq>[\"']))(?:\\.|(?!(?P=vq)).)*(?P=vq)",
            re.IGNORECASE,
        ),
        r"\g<key>" + MASK + r"\g<vq>",
    ),
    # (b'authorization', b'Bearer abc'): httpx/httpcore header tuples
    (
        re.compile(
            r"(?P<key>\(\s*b?(?P<q>[\"'])" + _NAME + r"(?P=q)\s*,\s*b?(?P<vq>[\"']))(?:\\.|(?!(?P=vq)).)*(?P=vq)",
            re.IGNORECASE,
        ),
        r"\g<key>" + MASK + r"\g<vq>",
    ),
    # "token": abc (JSON with a bare value, e.g. a number-like PIN)
    (
        re.compile(r"(?P<key>b?(?P<q>[\"'])" + _NAME + r"(?P=q)\s*:\s*)(?![\"'\s]|null\b|None\b)" + _BARE, re.IGNORECASE),
        r"\g<key>" + MASK,
    ),
    # access_token=abc in a URL, query string or form body; also api_key = abc in plain text
    (re.compile(r"(?P<key>" + _NAME_START + _NAME + _NAME_END + r"\s*=\s*)(?![\s&])" + _BARE, re.IGNORECASE), r"\g<key>" + MASK),
    # Authorization: Bearer abc  /  APCA-API-SECRET-KEY: abc (header lines, mid-line too)
    (
        re.compile(r"(?P<key>" + _NAME_START + _NAME + _NAME_END + r"\s*:\s*)" + _SCHEME + r"(?![\s\"'])" + _BARE, re.IGNORECASE),
        r"\g<key>" + MASK,
    ),
    # A bearer credential anywhere else in free text.
    (re.compile(r"(?P<key>\b(?:Bearer|Basic)\s+)(?!\*\*\*)[A-Za-z0-9\-._~+/]{6,}=*", re.IGNORECASE), r"\g<key>" + MASK),
    # https://user:password@host
    (re.compile(r"(?P<key>\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)(?!\*\*\*@)[^@\s/]+(?=@)", re.IGNORECASE), r"\g<key>" + MASK),
    # Fernet tokens (our own encrypted credential blobs) have no business in a log either.
    (re.compile(r"gAAAAA[A-Za-z0-9_-]{40,}={0,2}"), MASK),
)


# An account field's name: account_number, account-number, accountNumber, account_id, accountId, account, acct.
_ACCOUNT_NAME = r"(?:account(?:[_-]?(?:number|num|no|id))?|acct(?:[_-]?(?:number|num|no|id))?)"
# An account number: letters and digits (at least two digits), optionally with dashes.
_ACCOUNT_VALUE = r"(?=[A-Za-z0-9-]*\d[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{3,30}[A-Za-z0-9]"


def _keep_last4(match: re.Match[str]) -> str:
    value = match.group("value")
    return f"{match.group('key')}{MASK}{value[-4:]}"


_ACCOUNT_PATTERNS: tuple[re.Pattern[str], ...] = (
    # "account_number": "PA3FAKE0001"  /  'account': 'DU1234567'  /  account_number=VA12345678
    re.compile(
        r"(?P<key>(?<![A-Za-z0-9_-])b?[\"']?" + _ACCOUNT_NAME + r"[\"']?\s*[:=]\s*b?[\"']?)(?P<value>" + _ACCOUNT_VALUE
        + r")(?![A-Za-z0-9-])",
        re.IGNORECASE,
    ),
    # /v1/accounts/VA12345678/balances
    re.compile(r"(?P<key>/accounts?/)(?P<value>" + _ACCOUNT_VALUE + r")(?![A-Za-z0-9-])", re.IGNORECASE),
    # IBKR account ids in free text and wire dumps: U1234567, DU1234567, F1234567, DF1234567.
    re.compile(r"(?P<key>)(?<![A-Za-z0-9])(?P<value>D?[UF]\d{6,9})(?![A-Za-z0-9])"),
)


@dataclass(frozen=True, slots=True)
class _Known:
    """An immutable snapshot of the registered secrets, swapped atomically on registration."""

    long_values: tuple[str, ...] = ()
    fragments: frozenset[str] = frozenset()
    short_pattern: re.Pattern[str] | None = None
    accounts: tuple[tuple[str, str], ...] = ()


_lock = threading.Lock()
_values: set[str] = set()
_accounts: dict[str, str] = {}
_known = _Known()


def _variants(value: str) -> set[str]:
    """The value as it may appear in a URL, a form body or a JSON string."""
    return {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}


def _rebuild(values: set[str]) -> _Known:
    long_values = tuple(sorted((v for v in values if len(v) >= FRAGMENT), key=len, reverse=True))
    fragments = frozenset(v[i : i + FRAGMENT] for v in long_values for i in range(len(v) - FRAGMENT + 1))
    short = sorted((v for v in values if len(v) < FRAGMENT), key=len, reverse=True)
    pattern = None
    if short:
        pattern = re.compile(
            r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(v) for v in short) + r")(?![A-Za-z0-9])"
        )
    accounts = tuple(sorted(_accounts.items(), key=lambda item: len(item[0]), reverse=True))
    return _Known(long_values, fragments, pattern, accounts)


def register_secret(value: str) -> None:
    """Scrub ``value`` (and its URL/JSON-escaped forms) from everything redacted from now on."""
    global _known
    if not isinstance(value, str):
        raise TypeError("secrets are registered as text")
    value = value.strip()
    if not value or value == MASK:
        return
    with _lock:
        fresh = _variants(value) - _values
        if not fresh:
            return
        _values.update(fresh)
        _known = _rebuild(_values)


def register_account_number(value: str) -> None:
    """Show ``value`` only as ``***`` and its last 4 characters in everything redacted from now on."""
    global _known
    if not isinstance(value, str):
        raise TypeError("account numbers are registered as text")
    value = value.strip()
    if len(value) <= 4:
        return
    shown = MASK + value[-4:]
    with _lock:
        fresh = {variant: shown for variant in _variants(value) if variant not in _accounts}
        if not fresh:
            return
        _accounts.update(fresh)
        _known = _rebuild(_values)


def _mask_fragments(text: str, known: _Known) -> str:
    """Replace every run of text made of overlapping FRAGMENT-long pieces of a known secret."""
    fragments = known.fragments
    covered_until = -1
    spans: list[list[int]] = []
    for start in range(len(text) - FRAGMENT + 1):
        if text[start : start + FRAGMENT] in fragments:
            end = start + FRAGMENT
            if spans and start <= covered_until:
                spans[-1][1] = end
            else:
                spans.append([start, end])
            covered_until = end
    if not spans:
        return text
    pieces: list[str] = []
    position = 0
    for start, end in spans:
        pieces.append(text[position:start])
        pieces.append(MASK)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def redact(text: str) -> str:
    """``text`` with every known secret and every credential-shaped value replaced by ``***``."""
    if not text:
        return text
    known = _known
    for value in known.long_values:
        if value in text:
            text = text.replace(value, MASK)
    if known.fragments and len(text) >= FRAGMENT:
        text = _mask_fragments(text, known)
    if known.short_pattern is not None:
        text = known.short_pattern.sub(MASK, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    for value, shown in known.accounts:
        if value in text:
            text = text.replace(value, shown)
    for account_pattern in _ACCOUNT_PATTERNS:
        text = account_pattern.sub(_keep_last4, text)
    return text


_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_EXCEPTION_FORMATTER = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Put on every handler: rewrites the record's message, arguments, traceback and extra fields.

    The record is rendered once here and its arguments dropped, so no later formatter can put a
    raw argument back. The traceback is rendered to scrubbed text and ``exc_info`` cleared, so a
    handler that formats exceptions itself sees nothing raw either.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not turn into a lost record
            message = f"{record.msg!s} (unformattable arguments: {record.args!r})"
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            text = record.exc_text or _EXCEPTION_FORMATTER.formatException(record.exc_info)
            record.exc_text = redact(text)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


def install_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Add one shared ``RedactingFilter`` to every handler of ``logger`` (the root by default)."""
    target = logger or logging.getLogger()
    redactor = RedactingFilter()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redactor)
    return redactor
