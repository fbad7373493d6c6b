"""The redactor: known values and their fragments, credential-shaped text, and the logging filter."""

from __future__ import annotations

import io
import logging
import secrets
import threading

import pytest

from app.security.credentials import Credentials, account_last4, masked_account
from app.security.redaction import RedactingFilter, install_redaction, redact, register_secret


def _fresh(prefix: str = "s") -> str:
    return prefix + secrets.token_urlsafe(24)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abcdef123456", "Authorization: ***"),
        ("authorization: Token abc.def.ghi", "authorization: ***"),
        ("APCA-API-KEY-ID: PKTEST123 APCA-API-SECRET-KEY: sv123", "APCA-API-KEY-ID: *** APCA-API-SECRET-KEY: ***"),
        ("{'authorization': 'Bearer abcdef123456', 'accept': 'json'}", "{'authorization': '***', 'accept': 'json'}"),
        ("[(b'authorization', b'Bearer abc123456'), (b'host', b'x')]", "[(b'authorization', b'***'), (b'host', b'x')]"),
        ("GET https://h/v1/q?access_token=abc.def-1&symbol=SPY", "GET https://h/v1/q?access_token=***&symbol=SPY"),
        ("https://h/stream?sessionid=1&token=tok123&x=1", "https://h/stream?sessionid=1&token=***&x=1"),
        ("grant_type=refresh_token&refresh_token=rt1&client_secret=cs2", "grant_type=refresh_token&refresh_token=***&client_secret=***"),
        ('{"grant_type":"refresh_token","client_secret":"cs9","refresh_token":"rt\\"x"}', '{"grant_type":"refresh_token","client_secret":"***","refresh_token":"***"}'),
        ('{"apikey": "k1", "expires_in": 900, "token": 12345}', '{"apikey": "***", "expires_in": 900, "token": ***}'),
        ("session-token: abc X-Tastyworks-OTP: 123456", "session-token: *** X-Tastyworks-OTP: ***"),
        ("wss://user:hunter22@host/path", "wss://user:***@host/path"),
        ("sent Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig upstream", "sent Bearer *** upstream"),
        ("blob gAAAAABnYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWZnaGlqa2xtbm9w== end", "blob *** end"),
        ("Bought 100 SPY at 450.25; order 8f3c accepted", "Bought 100 SPY at 450.25; order 8f3c accepted"),
    ],
)
def test_credential_shaped_text_is_scrubbed_and_the_rest_is_kept(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected


def test_a_registered_secret_and_any_8_character_piece_of_it_are_scrubbed() -> None:
    secret = _fresh()
    register_secret(secret)

    assert redact(f"got {secret} back") == "got *** back"
    assert redact(f"truncated {secret[:12]}\u2026") == "truncated ***\u2026"
    assert redact(f"tail {secret[-9:]}!") == "tail ***!"
    assert redact(f"split {secret[:10]} / {secret[10:]}") == "split *** / ***"
    assert secret[3:10] in redact(f"seven {secret[3:10]} is too short to be a fragment")


def test_url_and_json_escaped_forms_of_a_secret_are_scrubbed() -> None:
    secret = "p@ss/word+" + secrets.token_hex(6)
    register_secret(secret)
    from urllib.parse import quote, quote_plus

    assert redact(f"url ?x={quote(secret, safe='')}") == "url ?x=***"
    assert redact(f"form x={quote_plus(secret)}") == "form x=***"


def test_short_secrets_are_scrubbed_where_they_stand_alone() -> None:
    register_secret("7391")
    assert redact("pin 7391 entered") == "pin *** entered"
    assert redact("order 173915 and year 2024") == "order 173915 and year 2024"


def test_the_filter_scrubs_message_args_traceback_stack_and_extras() -> None:
    secret = _fresh()
    register_secret(secret)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s | %(account)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.security.redaction.filter")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError(f"bad token {secret}")
        except ValueError:
            logger.error(
                "calling with %s and %r",
                secret,
                {"token": "fresh-token-1"},
                exc_info=True,
                stack_info=True,
                extra={"account": f"acct {secret}"},
            )
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    output = stream.getvalue()
    assert secret not in output and secret[:8] not in output
    assert "calling with *** and {'token': '***'} | acct ***" in output
    assert "ValueError: bad token ***" in output and "Stack (most recent call last)" in output


def test_a_record_with_broken_formatting_is_still_logged_and_scrubbed() -> None:
    secret = _fresh()
    register_secret(secret)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %d", (secret,), None)
    assert RedactingFilter().filter(record)
    assert record.args is None and secret not in record.getMessage() and "unformattable" in record.getMessage()


def test_install_adds_one_filter_to_every_handler() -> None:
    logger = logging.getLogger("tests.security.redaction.install")
    handlers = [logging.StreamHandler(io.StringIO()), logging.StreamHandler(io.StringIO())]
    for handler in handlers:
        logger.addHandler(handler)
    try:
        install_redaction(logger)
        install_redaction(logger)
        assert [sum(isinstance(f, RedactingFilter) for f in h.filters) for h in handlers] == [1, 1]
    finally:
        for handler in handlers:
            logger.removeHandler(handler)


def test_registration_is_safe_from_many_threads() -> None:
    values = [_fresh(f"t{i}") for i in range(64)]
    threads = [threading.Thread(target=register_secret, args=(v,)) for v in values]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert redact(" ".join(values)) == " ".join(["***"] * len(values))


def test_credentials_never_show_their_values() -> None:
    secret = _fresh()
    credentials = Credentials({"api_key": "PKVISIBLEID", "api_secret": secret})

    for shown in (repr(credentials), str(credentials), f"{credentials}", "%s" % (credentials,)):
        assert shown == "Credentials(api_key=***, api_secret=***)"
    assert credentials["api_secret"] == secret
    assert redact(f"leaked {secret}") == "leaked ***"  # building it registered the values
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(credentials)
    assert Credentials.from_bytes(credentials.to_bytes()) == credentials
    assert dict(credentials.merged_with({"api_key": "", "api_secret": "new-one-000"})) == {
        "api_key": "PKVISIBLEID",
        "api_secret": "new-one-000",
    }


def test_account_numbers_are_cut_to_the_last_four() -> None:
    assert account_last4(" 5PA12345678 ") == "5678"
    assert masked_account("5678") == "\u20265678" and masked_account(None) == ""
