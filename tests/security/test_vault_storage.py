"""The vault's tables on disk: the 0002 migration, private file modes, and records that carry no secret."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import stat
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from app.paths import AppPaths
from app.security.crash_report import write_crash_report
from app.storage import vault_schema  # noqa: F401 - registers the vault tables on Base.metadata
from app.storage import audit_repository  # noqa: F401 - registers the audit table on Base.metadata
from app.storage.connections_repository import (
    ConnectionDraft,
    ConnectionNotFound,
    get_connection,
    mark_verified,
    save_connection,
)
from app.storage.database import _alembic_config, open_database
from app.storage.schema import Base
from app.storage.worker import DatabaseWorker
from tests.conftest import posix_only
from tests.security.conftest import make_vault



def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_migration_builds_exactly_the_tables_the_code_maps(paths: AppPaths) -> None:
    open_database(paths.database, paths.backups).dispose()
    engine = create_engine(f"sqlite:///{paths.database}")
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_the_vault_migration_downgrades_cleanly(paths: AppPaths) -> None:
    database = open_database(paths.database, paths.backups)
    with database.engine.begin() as connection:
        config = _alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0001_initial")
    database.dispose()
    with closing(sqlite3.connect(paths.database)) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not tables & {"vault_meta", "vault_keys", "connections"}


@posix_only
async def test_database_wal_shm_backups_and_crash_reports_are_private(paths: AppPaths) -> None:
    # Start below head so opening takes a backup, under a umask that would make files world-readable.
    previous_umask = os.umask(0o000)
    try:
        database = open_database(paths.database, paths.backups)
        with database.engine.begin() as connection:
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0001_initial")
        database.dispose()
        worker = DatabaseWorker()
        await worker.open(lambda: open_database(paths.database, paths.backups))
        try:
            vault = make_vault(worker)
            await vault.start()
            await vault.save_connection(ConnectionDraft("alpaca", "paper", "Alpaca"), {"api_secret": "mode-test-secret"})
            wal, shm = Path(f"{paths.database}-wal"), Path(f"{paths.database}-shm")
            assert wal.exists() and shm.exists()
            assert [_mode(p) for p in (paths.database, wal, shm)] == [0o600, 0o600, 0o600]
        finally:
            await worker.close()
        try:
            raise RuntimeError("boom")
        except RuntimeError as exc:
            report = write_crash_report(paths.crash_reports, (RuntimeError, exc, exc.__traceback__))
    finally:
        os.umask(previous_umask)
    backups = list(paths.backups.iterdir())
    assert backups and all(_mode(b) == 0o600 for b in backups)
    assert _mode(report) == 0o600 and _mode(paths.database) == 0o600


def test_records_carry_field_names_and_last4_only(paths: AppPaths) -> None:
    database = open_database(paths.database, paths.backups)
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    try:
        record = database.transaction(
            lambda s: save_connection(
                s,
                ConnectionDraft("tradier", "live", "  Tradier  "),
                fields=["token", "account_id"],
                key_id="k1",
                token=b"gAAAAA-opaque",
                now=now,
            )
        )
        verified = database.transaction(
            lambda s: mark_verified(s, record.id, account_last4="6YA00005", account_type="margin", now=now)
        )
        assert (record.label, record.saved_fields, record.has_credentials) == ("Tradier", ("account_id", "token"), True)
        assert (verified.account_last4, verified.account_type, verified.verified_at) == ("0005", "margin", now)
        assert not any(isinstance(getattr(verified, f.name), bytes) for f in dataclasses.fields(verified))

        moved = database.transaction(
            lambda s: save_connection(
                s,
                ConnectionDraft("tradier", "paper", "Tradier", id=record.id),
                fields=["token"],
                key_id="k1",
                token=b"gAAAAA-other",
                now=now,
            )
        )
        assert (moved.verified_at, moved.account_last4) == (None, None)
        with pytest.raises(ConnectionNotFound):
            database.transaction(lambda s: get_connection(s, "missing"))
    finally:
        database.dispose()


def test_drafts_are_validated() -> None:
    with pytest.raises(ValueError, match="environment"):
        ConnectionDraft("alpaca", "sandbox", "x")
    with pytest.raises(ValueError, match="label"):
        ConnectionDraft("alpaca", "paper", "   ")
