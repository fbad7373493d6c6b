"""Audit events: what happened to connections, modes, orders and safety switches, for the append-only log."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class AuditKind(enum.Enum):
    """Every kind of event the audit log records; the value is what the log and its CSV show."""

    CONNECTION_SAVED = "connection saved"
    CONNECTION_VERIFIED = "connection verified"
    CONNECTION_FAILED = "connection failed"
    CONNECTION_REMOVED = "connection removed"
    MODE_SWITCHED = "mode switched"
    LIVE_ORDER_SENT = "live order sent"
    LIVE_ORDER_CANCELLED = "live order cancelled"
    LIVE_ORDER_RESOLVED = "live order resolved"
    RISK_DENIAL = "risk denial"
    RISK_LIMITS_CHANGED = "risk limits changed"
    KILL_SWITCH = "kill switch"
    HALT_LIFTED = "halt lifted"
    VAULT_KEY_ROTATED = "vault key rotated"
    PASSPHRASE_CHANGED = "passphrase changed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One line of the audit log. ``account_last4`` is never more than the last four characters."""

    at: datetime
    kind: AuditKind
    summary: str
    mode: str = ""
    broker: str = ""
    account_last4: str = ""
    id: int | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("audit times are aware datetimes")
        if len(self.account_last4) > 4:
            object.__setattr__(self, "account_last4", self.account_last4[-4:])


CSV_HEADER = ("time_utc", "event", "mode", "broker", "account_last4", "details")


def csv_row(event: AuditEvent) -> tuple[str, str, str, str, str, str]:
    return (
        event.at.isoformat(),
        event.kind.value,
        event.mode,
        event.broker,
        event.account_last4,
        event.summary,
    )


def matches(event: AuditEvent, text: str) -> bool:
    """Whether an event matches the filter text (any word, case-insensitive, across every column)."""
    needle = text.strip().lower()
    if not needle:
        return True
    haystack = " ".join(csv_row(event)).lower()
    return all(word in haystack for word in needle.split())
