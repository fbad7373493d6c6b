"""Display formats for money, quantities, prices and times."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
#: The zone every time is shown in: None for the computer's own, or New York (set from Settings).
_display_zone: tzinfo | None = None


def set_display_zone(zone: str) -> None:
    """"local" shows times in the computer's zone, "exchange" in New York time (ET)."""
    global _display_zone
    _display_zone = NEW_YORK if zone == "exchange" else None


def in_display_zone(value: datetime) -> datetime:
    return value.astimezone(_display_zone) if _display_zone is not None else value.astimezone()


def zone_label(value: datetime) -> str:
    """The short name of the zone ``value`` is shown in: ET for New York, else the system's abbreviation."""
    if _display_zone is NEW_YORK:
        return "ET"
    return value.tzname() or value.strftime("%z")


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


def fmt_signed_percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"+{rounded}%" if rounded > 0 else f"{rounded}%"


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
    shown = in_display_zone(value)
    return f"{shown:%Y-%m-%d %H:%M:%S} {zone_label(shown)}"


def fmt_clock(value: datetime | None) -> str:
    """A time of day with its zone, e.g. ``10:31:02 ET``."""
    if value is None:
        return "—"
    shown = in_display_zone(value)
    return f"{shown:%H:%M:%S} {zone_label(shown)}"


def fmt_enum(value: object) -> str:
    text = str(getattr(value, "value", value))
    if text in ("day", "gtc"):
        return text.upper()
    return text.replace("_", " ").capitalize()
