"""A canary secret goes through a whole DEBUG session and never comes out anywhere a person could read it.

The session: save the canary through the vault, read it back, call a fake broker over loopback with
it as a Bearer token, an APCA secret header and an ``access_token`` query parameter (httpx logs the
URL), get a 401, raise an error carrying the canary and send it through the crash reporter. Then
the database, its -wal, every log file, stderr and the crash report are searched for any run of 8
or more characters of the canary, and what a person reads (logs, stderr, the crash report) for any
run of 4. The canary is drawn from letters that never meet in ordinary text, so a 4-character
match can only be a leak.

Account numbers the app has not been told yet travel the same session the way brokers send them:
in a URL path (httpx, urllib3), as a result dict field (qasync's DEBUG lines) and as an IBKR account
id (ib_insync); only their last 4 characters may come out.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app.brokers.rate_limit import RateLimiter
from app.brokers.rest import RestTransport
from app.logs import configure_logging
from app.paths import AppPaths
from app.security.crash_report import CrashReporter
from app.storage.connections_repository import ConnectionDraft
from app.storage.worker import DatabaseWorker
from tests.fakes.http_server import FakeHTTPServer, Request, Response, Router
from tests.security.conftest import make_vault

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alpaca"
WINDOW = 8
SHORT_WINDOW = 4
RARE_LETTERS = "JQXZjqxz"

log = logging.getLogger("tests.security.canary")


def leaks(canary: str, haystack: bytes, window: int = WINDOW) -> list[str]:
    """Every ``window``-long piece of the canary found in ``haystack`` (as UTF-8 bytes)."""
    pieces = {canary[i : i + window] for i in range(len(canary) - window + 1)}
    return sorted(piece for piece in pieces if piece.encode() in haystack)


def _rare(length: int) -> str:
    return "".join(secrets.choice(RARE_LETTERS) for _ in range(length))


@pytest.fixture
def debug_logging(paths: AppPaths) -> Iterator[Callable[[], None]]:
    """Turns on the app's own logging set-up (rotating file + stderr, redaction on both) at DEBUG.

    Called from the test body: pytest hands ``capfd`` a fresh stderr for the call phase, and the
    stderr handler must write to that one.
    """
    root = logging.getLogger()
    level = root.level
    yield lambda: configure_logging(paths, logging.DEBUG)
    for handler in [h for h in root.handlers if getattr(h, "_tradebridge", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


def _alpaca_router(unauthorized: dict[str, object]) -> Router:
    router = Router()
    router.add("GET", "/v2/account", lambda request: Response(401, unauthorized))
    router.add(
        "GET",
        "/v1/accounts/{account}/balances",
        lambda request, account: Response(200, {"balances": {"account_number": account, "total_cash": 1}}),
    )
    return router


async def test_the_canary_never_appears_in_the_database_logs_stderr_or_crash_report(
    paths: AppPaths,
    worker: DatabaseWorker,
    debug_logging: Callable[[], None],
    capfd: pytest.CaptureFixture[str],
) -> None:
    debug_logging()
    canary = _rare(40)
    account = "VA" + _rare(6) + str(secrets.randbelow(9000) + 1000)
    ibkr_account = "DU" + str(secrets.randbelow(9_000_000) + 1_000_000)
    vault = make_vault(worker)
    await vault.start()
    saved = await vault.save_connection(
        ConnectionDraft(broker="alpaca", environment="paper", label="Alpaca paper"),
        {"api_key": "PKCANARYKEYID01", "api_secret": canary},
    )
    credentials = await vault.credentials(saved.id)
    log.debug("Loaded credentials %r for connection %s", credentials, saved.id)

    unauthorized = json.loads((FIXTURES / "error_401_unauthorized.json").read_text())
    reporter = CrashReporter(paths.crash_reports, app_version="test")
    with FakeHTTPServer(_alpaca_router(unauthorized).dispatch) as server:
        transport = RestTransport(
            server.url,
            limiter=RateLimiter(50, 1.0),
            headers={
                "Authorization": f"Bearer {credentials['api_secret']}",
                "APCA-API-KEY-ID": credentials["api_key"],
                "APCA-API-SECRET-KEY": credentials["api_secret"],
            },
            broker_name="Alpaca",
        )
        try:
            # Before anything registers the account number: the shapes alone must hide it.
            balances = await transport.read("GET", f"/v1/accounts/{account}/balances")
            logging.getLogger("qasync").debug("Future finished, result %r", balances.json()["balances"])
            logging.getLogger("urllib3.connectionpool").debug(
                'http://127.0.0.1:80 "GET /v1/accounts/%s/orders HTTP/1.1" 200 None', account
            )
            logging.getLogger("ib_insync.wrapper").error(
                "Error 321, reqId 7: account %s: AccountValue(account='%s', tag='NetLiquidation')",
                ibkr_account,
                ibkr_account,
            )
            logging.getLogger("httpcore.http11").debug("receive_response_body.complete account_number=%s", account)
            response = await transport.read("GET", "/v2/account", params={"access_token": credentials["api_secret"]})
            log.debug("Request headers were %s", dict(response.request.headers))
            log.debug("Raw request line %s %s", response.request.method, response.request.url)
            try:
                try:
                    response.raise_for_status()
                except httpx.HTTPStatusError as exc:
                    raise RuntimeError(f"verify() failed for secret {credentials['api_secret']}") from exc
            except RuntimeError:
                log.exception("Connecting failed")
                report = reporter.report(sys.exc_info())  # type: ignore[arg-type]
        finally:
            await transport.close()

    # The canary really travelled: as a header and in the query string of the request.
    sent = server.requests[-1]
    assert len(server.requests) == 2
    assert sent.header("authorization") == f"Bearer {canary}"
    assert sent.arg("access_token") == canary and sent.header("apca-api-secret-key") == canary
    assert response.status_code == 401

    database, wal = paths.database, Path(f"{paths.database}-wal")
    assert wal.exists(), "the session should have left a write-ahead log to search"
    stored = {database.name: database.read_bytes(), wal.name: wal.read_bytes()}
    await worker.close()
    stored[database.name + " (closed)"] = database.read_bytes()
    for handler in logging.getLogger().handlers:
        handler.flush()
    logs = {path.name: path.read_bytes() for path in paths.logs.iterdir()}
    stderr = capfd.readouterr().err
    assert report is not None
    crash = report.read_bytes()

    # The session did log the request (so the logs were worth searching) and did crash.
    log_text = b"".join(logs.values()).decode()
    assert "HTTP Request: GET" in log_text and "access_token=***" in log_text
    assert "Connecting failed" in log_text and "HTTPStatusError" in log_text
    assert b"RuntimeError: verify() failed for secret ***" in crash
    assert "Connecting failed" in stderr

    for name, content in {**stored, **logs, "stderr": stderr.encode(), report.name: crash}.items():
        assert leaks(canary, content) == [], f"canary fragments found in {name}"
    for name, content in {**logs, "stderr": stderr.encode(), report.name: crash}.items():
        assert leaks(canary, content, SHORT_WINDOW) == [], f"4-character canary fragments found in {name}"
        for number in (account, ibkr_account):
            assert number[:-4].encode() not in content, f"an account number beyond its last 4 in {name}"
    # The account numbers were logged, as their last 4 only.
    assert f"/v1/accounts/***{account[-4:]}/balances" in log_text
    assert f"'account_number': '***{account[-4:]}'" in log_text
    assert f"account='***{ibkr_account[-4:]}'" in log_text
