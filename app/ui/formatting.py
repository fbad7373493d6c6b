"""Display formats for money, quantities, prices and times."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal


def fmt_money(value: Decimal | None, currency: str = "$") -> str:
    if value is None:
        return "—"
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    sign = "-" if rounded < 0 else ""
    return f"{sign}{currency}{abs(rounded):,.2f}"


def fmt_signed_money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    text = fmt_money(value)
    return text if value < 0 else f"+{text}" if value > 0 else text


def fmt_price(value: Decimal | None) -> str:
    if value is None:
        return "—"
    places = Decimal("0.0001") if abs(value) < 1 else Decimal("0.01")
    return f"{value.quantize(places, rounding=ROUND_HALF_EVEN):,}"


def fmt_qty(value: Decimal | None) -> str:
    if value is None:
        return "—"
    normalized = value.normalize()
    if normalized == normalized.to_integral():
        return f"{int(normalized):,}"
    return f"{normalized:,f}"


def fmt_time(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def fmt_enum(value: object) -> str:
    text = str(getattr(value, "value", value))
    if text in ("day", "gtc"):
        return text.upper()
    return text.replace("_", " ").capitalize()
