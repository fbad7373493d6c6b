"""The append-only audit log: one table, rows added and read, never changed or removed.

The repository offers no update or delete, and the migration adds SQLite triggers that abort any
UPDATE or DELETE on the table, so not even a stray query can rewrite history.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Integer, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.domain.audit import CSV_HEADER, AuditEvent, AuditKind, csv_row
from app.storage.schema import Base, UtcDateTime

#: How many rows one view of the log loads; the export reads everything that matches.
PAGE_SIZE = 500


class AuditRow(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    mode: Mapped[str] = mapped_column(String(10), default="")
    broker: Mapped[str] = mapped_column(String(20), default="")
    account_last4: Mapped[str] = mapped_column(String(4), default="")
    summary: Mapped[str] = mapped_column(Text, default="")


def append_audit(session: Session, event: AuditEvent) -> AuditEvent:
    """Add one event; returns it with its row id."""
    row = AuditRow(
        at=event.at,
        kind=event.kind.value,
        mode=event.mode,
        broker=event.broker,
        account_last4=event.account_last4[-4:],
        summary=event.summary,
    )
    session.add(row)
    session.flush()
    return _event(row)


def read_audit(session: Session, text: str = "", *, limit: int | None = PAGE_SIZE) -> list[AuditEvent]:
    """Events newest first, those matching every word of ``text`` in any column."""
    query = select(AuditRow).order_by(AuditRow.id.desc())
    for word in text.lower().split():
        pattern = f"%{_escape(word)}%"
        query = query.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (AuditRow.kind, AuditRow.mode, AuditRow.broker, AuditRow.account_last4, AuditRow.summary)
                )
            )
        )
    if limit is not None:
        query = query.limit(limit)
    return [_event(row) for row in session.scalars(query)]


def audit_csv(events: Iterable[AuditEvent]) -> str:
    """The events as CSV text with a header row, oldest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    ordered: Sequence[AuditEvent] = sorted(events, key=lambda e: (e.at, e.id or 0))
    for event in ordered:
        writer.writerow(_csv_safe(csv_row(event)))
    return buffer.getvalue()


def _csv_safe(cells: Iterable[str]) -> list[str]:
    # A cell starting with = + - @ would run as a formula when the file is opened in a spreadsheet.
    return [f"'{cell}" if cell[:1] in ("=", "+", "-", "@") else cell for cell in cells]


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _event(row: AuditRow) -> AuditEvent:
    return AuditEvent(
        at=row.at,
        kind=AuditKind(row.kind),
        summary=row.summary,
        mode=row.mode,
        broker=row.broker,
        account_last4=row.account_last4,
        id=row.id,
    )
