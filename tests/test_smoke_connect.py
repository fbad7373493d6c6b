"""The headless checks packaging runs on the built app, run here from source: --smoke-connect and --keyring-check."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app_process import app_env, run_app
from tests.fakes.alpaca import FakeAlpaca

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.subprocess


def _app(*args: str, keyring: str = "keyring.backends.null.Keyring") -> subprocess.CompletedProcess[str]:
    return run_app(args, app_env(PYTHON_KEYRING_BACKEND=keyring))


@pytest.fixture
def alpaca() -> Iterator[FakeAlpaca]:
    fake = FakeAlpaca()
    fake.start()
    yield fake
    fake.stop()


def _form(tmp_path: Path, fake: FakeAlpaca, **changes: object) -> Path:
    form: dict[str, object] = {
        "broker": "alpaca",
        "environment": "paper",
        "base_url": fake.url,
        "fields": {"api_key_id": fake.key_id, "api_secret_key": fake.secret_key},
        "vault_passphrase": "smoke check passphrase",
    }
    form.update(changes)
    path = tmp_path / "form.json"
    path.write_text(json.dumps(form), encoding="utf-8")
    return path


def test_smoke_connect_connects_saves_and_prints_the_account(tmp_path: Path, alpaca: FakeAlpaca) -> None:
    data = tmp_path / "data"
    result = _app("--developer", "--smoke-connect", str(_form(tmp_path, alpaca)), "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Connected: Alpaca paper account …")
    assert "buying power $" in result.stdout
    # The secret went through the vault: encrypted in the database, nowhere in the log.
    log = (data / "logs" / "tradebridge.log").read_text(encoding="utf-8")
    assert alpaca.secret_key not in log
    assert alpaca.secret_key.encode() not in (data / "tradebridge.sqlite3").read_bytes()


def test_smoke_connect_reports_a_refused_login_and_fails(tmp_path: Path, alpaca: FakeAlpaca) -> None:
    form = _form(tmp_path, alpaca, fields={"api_key_id": alpaca.key_id, "api_secret_key": "wrong"})
    result = _app("--developer", "--smoke-connect", str(form), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 1
    assert "Connection test failed; nothing was saved." in result.stderr
    assert result.stdout == ""


def test_smoke_connect_needs_developer_mode_for_a_custom_address(tmp_path: Path, alpaca: FakeAlpaca) -> None:
    result = _app("--smoke-connect", str(_form(tmp_path, alpaca)), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 1
    assert "A custom API address is a developer setting." in result.stderr


def test_smoke_connect_without_a_passphrase_stops_before_the_broker(tmp_path: Path, alpaca: FakeAlpaca) -> None:
    form = _form(tmp_path, alpaca, vault_passphrase=None)
    result = _app("--developer", "--smoke-connect", str(form), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 1
    assert "setup_required" in result.stderr
    assert alpaca.server.requests == []


def test_an_unreadable_connection_file_is_refused_with_a_message(tmp_path: Path) -> None:
    broken = tmp_path / "form.json"
    broken.write_text("{not json", encoding="utf-8")
    result = _app("--smoke-connect", str(broken), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 1
    assert "is not JSON" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_keyring_check_names_a_usable_keyring() -> None:
    result = _app("--keyring-check", keyring="tests.security.keyrings.MemoryKeyring")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Keyring: tests.security.keyrings.MemoryKeyring (usable)"


def test_keyring_check_explains_a_refused_keyring() -> None:
    result = _app("--keyring-check")
    assert result.returncode == 1
    assert result.stdout.strip() == "Keyring: keyring.backends.null.Keyring (not usable — No system keyring is available.)"


def test_smoke_connect_to_ibkr_leaves_no_warning_when_it_disconnects_at_exit(tmp_path: Path) -> None:
    """Connecting starts reconciliation; the app exiting at once ends it quietly, not as a failed positions read."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.tws", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert server.stdout is not None
        banner = re.search(r"listening on 127\.0\.0\.1:(\d+) \(account (\w+)\)", server.stdout.readline())
        assert banner is not None
        form = tmp_path / "form.json"
        form.write_text(json.dumps({
            "broker": "ibkr",
            "environment": "paper",
            "fields": {"host": "127.0.0.1", "port": banner[1], "client_id": "7", "account": banner[2]},
            "vault_passphrase": "smoke check passphrase",
        }), encoding="utf-8")
        result = _app("--developer", "--smoke-connect", str(form), "--data-dir", str(tmp_path / "data"))
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Connected: Interactive Brokers paper account …{banner[2][-4:]}")
    warnings = [line for line in result.stderr.splitlines() if " WARNING " in line and "SQLite" not in line]
    assert warnings == []
