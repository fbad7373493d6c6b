"""Paper settings input: every wrong field named at once in plain words; good input builds the settings."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.settings_validation import FIELD_LABELS, SettingsError, parse_paper_settings

GOOD = {
    "starting_cash": "$25,000",
    "slippage_bps": "5",
    "commission_per_order": "1.25",
    "commission_per_share": "0.005",
    "commission_per_contract": "0.65",
    "allow_shorting": True,
}


def test_good_input_builds_the_settings() -> None:
    settings = parse_paper_settings(GOOD)
    assert settings.starting_cash == Decimal("25000")
    assert settings.commission_per_share == Decimal("0.005")
    assert settings.allow_shorting


def test_every_wrong_field_is_reported_together() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_paper_settings({**GOOD, "slippage_bps": "-5", "commission_per_order": "abc", "starting_cash": "0"})
    assert caught.value.errors == {
        "slippage_bps": "Can't be negative.",
        "commission_per_order": "“abc” is not a number.",
        "starting_cash": "Start with more than $0.",
    }


def test_slippage_of_100_percent_or_more_is_refused() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_paper_settings({**GOOD, "slippage_bps": "10000"})
    assert caught.value.errors == {"slippage_bps": "Must be below 10,000 basis points (100%)."}


@given(st.dictionaries(st.sampled_from(sorted(FIELD_LABELS)), st.text(max_size=12)))
def test_any_input_gives_settings_or_plain_errors(values: dict[str, str]) -> None:
    try:
        parse_paper_settings({**GOOD, **values})
    except SettingsError as exc:
        assert exc.errors and set(exc.errors) <= set(FIELD_LABELS)
        for message in exc.errors.values():
            own_words = re.sub("“.*”", "", message, flags=re.S)  # the trader's own input is quoted back
            assert "PaperSettings" not in own_words
            assert not any(key in own_words for key in FIELD_LABELS)
