"""Paper settings as the trader types them: every field checked at once, each mistake said in plain words."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from app.domain.paper_account import PaperSettings
from app.domain.paper_fills import BPS

FIELD_LABELS = {
    "starting_cash": "Starting cash",
    "slippage_bps": "Slippage",
    "commission_per_order": "Commission per order",
    "commission_per_share": "Commission per share",
    "commission_per_contract": "Commission per option contract",
}


class SettingsError(ValueError):
    """``errors`` maps each field to what is wrong with it, in words for the trader."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{FIELD_LABELS.get(k, k)}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def parse_paper_settings(values: Mapping[str, object]) -> PaperSettings:
    """Build the settings or raise SettingsError naming every field that is wrong (never an internal name)."""
    errors: dict[str, str] = {}
    parsed: dict[str, Decimal] = {}
    for key in FIELD_LABELS:
        raw = str(values.get(key, "") or "").replace(",", "").replace("$", "").strip()
        if not raw:
            errors[key] = "Enter an amount (0 for none)." if key != "starting_cash" else "Enter the starting cash."
            continue
        try:
            number = Decimal(raw)
        except InvalidOperation:
            errors[key] = f"“{values.get(key)}” is not a number."
            continue
        if not number.is_finite():
            errors[key] = f"“{values.get(key)}” is not a number."
        elif number < 0:
            errors[key] = "Can't be negative."
        else:
            parsed[key] = number
    if "starting_cash" in parsed and parsed["starting_cash"] == 0:
        errors["starting_cash"] = "Start with more than $0."
    if "slippage_bps" in parsed and parsed["slippage_bps"] >= BPS:
        errors["slippage_bps"] = f"Must be below {BPS:,} basis points (100%)."
    if errors:
        raise SettingsError(errors)
    return PaperSettings(**parsed, allow_shorting=bool(values.get("allow_shorting", False)))
