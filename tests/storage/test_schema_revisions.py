"""The schema revisions and the head's tables read without Alembic agree with what Alembic itself finds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from app.storage import migration

ROOT = Path(__file__).resolve().parents[2]


def test_the_head_and_known_revisions_are_those_alembic_reads_from_the_scripts() -> None:
    scripts = ScriptDirectory.from_config(migration.alembic_config())
    assert migration.head_revision() == scripts.get_current_head()
    assert migration.known_revisions() == {script.revision for script in scripts.walk_revisions()}


def test_the_head_tables_declared_by_the_models_are_those_the_migrations_build() -> None:
    head = migration.head_revision()
    assert migration.expected_tables(head) == migration.migrated_tables(head)
    assert "orders" in migration.expected_tables(head)


def test_the_tables_of_an_older_revision_come_from_migrating_to_it() -> None:
    older = migration.migrated_tables("0001_initial")
    assert migration.expected_tables("0001_initial") == older
    assert "orders" in older and "vault_meta" not in older


OPEN_AND_LIST_ALEMBIC = (
    "import sys; from pathlib import Path; from app.storage.database import open_database; "
    "folder = Path(sys.argv[1]); open_database(folder / 'db.sqlite3', folder / 'backups').dispose(); "
    "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
)


def _open_in_a_fresh_process(folder: Path) -> str:
    run = subprocess.run(
        [sys.executable, "-c", OPEN_AND_LIST_ALEMBIC, str(folder)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return run.stdout.strip()


@pytest.mark.subprocess
def test_alembic_is_imported_only_when_an_existing_database_is_upgraded(tmp_path: Path) -> None:
    # A new database is built from the head schema; the next start finds it at the head: neither needs Alembic.
    new = tmp_path / "new"
    assert _open_in_a_fresh_process(new) == "[]"
    assert _open_in_a_fresh_process(new) == "[]"
    # A database of an earlier revision is upgraded by the migrations, through Alembic.
    old = tmp_path / "old"
    old.mkdir()
    (old / "db.sqlite3").touch()
    migration.migrate_in_place(old / "db.sqlite3", "0001_initial")
    assert "alembic.command" in _open_in_a_fresh_process(old)
