"""The symbol filter matches the OCC code or the readable name; its SQL patterns agree with it exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fnmatch import fnmatchcase

from hypothesis import given
from hypothesis import strategies as st

from app.domain.models import OptionRight
from app.domain.symbol_display import describe_symbol, symbol_sort_key
from app.domain.symbol_filter import normalize_filter, readable_globs, symbol_matches
from app.domain.symbols import option_symbol

OPTION = "AAPL270115C00200000"


def _glob_match(symbol: str, text: str) -> bool:
    return symbol.startswith(text) or any(fnmatchcase(symbol, pattern) for pattern in readable_globs(text))


def test_either_form_matches_and_other_options_do_not():
    for text in ("AAPL", "AAPL27", OPTION, "aapl 15 jan 27 200 c", "AAPL 15 Jan", "AAPL 15 J", "AAPL 1", "AAPL 15 JAN 27 2"):
        norm = normalize_filter(text)
        assert symbol_matches(OPTION, norm), text
        assert _glob_match(OPTION, norm), text
    for text in ("AAPL 16", "AAPL 15 FEB", "AAPL 15 JAN 27 200 P", "AAPL 15 JAN 26", "AAP 15", "AAPL 15 JAN 27 20 C"):
        norm = normalize_filter(text)
        assert not symbol_matches(OPTION, norm), text
        assert not _glob_match(OPTION, norm), text


def test_runs_of_spaces_and_case_do_not_matter():
    assert normalize_filter("  aapl   15  jan ") == "AAPL 15 JAN"


def test_one_word_needs_no_pattern_and_nonsense_gets_none():
    assert readable_globs("AAPL") == ()
    assert readable_globs("AAPL 0") == ()
    assert readable_globs("AAPL 15 XYZ") == ()
    assert readable_globs("AAPL 15 JAN 27 200 C X") == ()


def test_decimal_strikes_match_as_written():
    symbol = "SPXW261218P05912500"
    assert describe_symbol(symbol) == "SPXW 18 Dec 26 5912.5 P"
    for text in ("SPXW 18 DEC 26 5912.5", "SPXW 18 DEC 26 5912.", "SPXW 18 DEC 26 5912.5 P", "SPXW 18 DEC 26 59"):
        assert _glob_match(symbol, text), text
    for text in ("SPXW 18 DEC 26 5912 P", "SPXW 18 DEC 26 5912.50", "SPXW 18 DEC 26 5912.4"):
        assert not _glob_match(symbol, text), text


def test_options_sort_by_expiry_then_strike_not_by_their_text():
    march = option_symbol("AAPL", date(2027, 3, 5), OptionRight.CALL, Decimal(150))
    january = option_symbol("AAPL", date(2027, 1, 15), OptionRight.CALL, Decimal(200))
    ordered = sorted([march, "AAPL", january, "MSFT"], key=symbol_sort_key)
    assert ordered == ["AAPL", january, march, "MSFT"]


options = st.builds(
    option_symbol,
    st.from_regex(r"[A-Z]{1,4}", fullmatch=True),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2039, 12, 31)),
    st.sampled_from(list(OptionRight)),
    st.integers(min_value=1, max_value=99_999_999).map(lambda m: Decimal(m) / 1000),
)


@given(symbol=options, other=options, cut=st.integers(min_value=1, max_value=40))
def test_sql_patterns_match_exactly_the_options_whose_readable_name_starts_with_the_text(symbol: str, other: str, cut: int):
    text = normalize_filter(describe_symbol(symbol)[:cut])
    assert symbol_matches(symbol, text)
    assert _glob_match(symbol, text)
    assert _glob_match(other, text) == symbol_matches(other, text)


@given(
    expiries=st.lists(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)), min_size=2, max_size=2),
    rights=st.lists(st.sampled_from(list(OptionRight)), min_size=2, max_size=2),
    strikes=st.lists(st.sampled_from([Decimal("2.5"), Decimal(2), Decimal(20), Decimal("20.05"), Decimal(200), Decimal("0.5")]), min_size=2, max_size=2),
    cut=st.integers(min_value=5, max_value=30),
)
def test_neighbouring_options_of_one_underlying_are_told_apart(expiries, rights, strikes, cut):
    symbol, other = (option_symbol("SPY", e, r, s) for e, r, s in zip(expiries, rights, strikes, strict=True))
    text = normalize_filter(describe_symbol(symbol)[:cut])
    assert _glob_match(other, text) == symbol_matches(other, text)
