"""The audit log is append-only on disk; risk limits, the halt and day starts survive a reopen."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError

from app.domain.audit import AuditEvent, AuditKind
from app.domain.models import TradingMode
from app.domain.risk import RiskLimits
from app.paths import AppPaths
from app.storage import audit_repository
from app.storage.audit_repository import AuditRow, append_audit, audit_csv, read_audit
from app.storage.database import Database, open_database
from app.storage.risk_repository import (
    DayStart,
    HaltState,
    load_risk_state,
    save_day_start,
    save_halt,
    save_risk_limits,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths(tmp_path / "data").ensure()


@pytest.fixture
def database(paths: AppPaths):
    db = open_database(paths.database, paths.backups)
    yield db
    db.dispose()


def _event(kind: AuditKind, summary: str, minutes: int = 0, **extra: str) -> AuditEvent:
    return AuditEvent(at=NOW + timedelta(minutes=minutes), kind=kind, summary=summary, **extra)


def _fill(database: Database) -> None:
    database.transaction(lambda s: append_audit(s, _event(AuditKind.MODE_SWITCHED, "Paper to live", 0, mode="live")))
    database.transaction(
        lambda s: append_audit(
            s, _event(AuditKind.CONNECTION_VERIFIED, "Alpaca live account verified", 1, broker="alpaca",
                      account_last4="PA1234")
        )
    )
    database.transaction(lambda s: append_audit(s, _event(AuditKind.KILL_SWITCH, "=2 orders cancelled", 2)))


def test_events_are_read_back_newest_first_and_filtered(database: Database) -> None:
    _fill(database)
    events = database.transaction(lambda s: read_audit(s))
    assert [e.kind for e in events] == [AuditKind.KILL_SWITCH, AuditKind.CONNECTION_VERIFIED, AuditKind.MODE_SWITCHED]
    assert events[1].account_last4 == "1234"
    assert events[1].at == NOW + timedelta(minutes=1)
    assert [e.kind for e in database.transaction(lambda s: read_audit(s, "alpaca 1234"))] == [
        AuditKind.CONNECTION_VERIFIED
    ]
    assert database.transaction(lambda s: read_audit(s, "100%_")) == []


def test_the_database_refuses_to_change_or_remove_audit_rows(database: Database) -> None:
    _fill(database)
    with pytest.raises(SQLAlchemyDatabaseError, match="append-only"):
        database.transaction(lambda s: s.execute(update(AuditRow).values(summary="rewritten")))
    with pytest.raises(SQLAlchemyDatabaseError, match="append-only"):
        database.transaction(lambda s: s.execute(delete(AuditRow)))
    with pytest.raises(SQLAlchemyDatabaseError, match="append-only"):
        database.transaction(lambda s: s.execute(text("DELETE FROM audit_log WHERE id = 1")))
    events = database.transaction(lambda s: read_audit(s))
    assert len(events) == 3
    assert events[0].summary == "=2 orders cancelled"


def test_the_repository_offers_no_way_to_change_or_remove_rows() -> None:
    public = {name for name in dir(audit_repository) if not name.startswith("_")}
    assert not {name for name in public if any(verb in name for verb in ("update", "delete", "remove", "clear"))}


def test_csv_export_has_a_header_every_row_oldest_first_and_no_formulas(database: Database) -> None:
    _fill(database)
    content = audit_csv(database.transaction(lambda s: read_audit(s, limit=None)))
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == ["time_utc", "event", "mode", "broker", "account_last4", "details"]
    assert [r[1] for r in rows[1:]] == ["mode switched", "connection verified", "kill switch"]
    assert rows[2][3:5] == ["alpaca", "1234"]
    assert rows[3][5] == "'=2 orders cancelled"


def test_risk_settings_halt_and_day_start_survive_a_reopen(paths: AppPaths) -> None:
    limits = RiskLimits(Decimal(100), Decimal(2500), Decimal(5), 3, 4, Decimal(750))
    first = open_database(paths.database, paths.backups)
    assert first.transaction(load_risk_state).limits == RiskLimits()
    assert not first.transaction(load_risk_state).halt.halted
    first.transaction(lambda s: save_risk_limits(s, limits))
    first.transaction(lambda s: save_halt(s, HaltState(True, "kill switch at 10:00:00", NOW)))
    first.transaction(lambda s: save_day_start(s, TradingMode.PAPER, DayStart(date(2026, 11, 24), Decimal("99000.5"))))
    first.dispose()
    second = open_database(paths.database, paths.backups)
    state = second.transaction(load_risk_state)
    second.dispose()
    assert state.limits == limits
    assert state.halt == HaltState(True, "kill switch at 10:00:00", NOW)
    assert state.day_starts == {TradingMode.PAPER: DayStart(date(2026, 11, 24), Decimal("99000.5"))}
