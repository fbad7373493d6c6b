"""The fake Tastytrade API itself: the broker's rules it enforces, over raw HTTP, and its standalone mode."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.brokers.base import Environment
from app.brokers.tastytrade.connector import TastytradeBroker
from tests.fakes.tastytrade import CLIENT_SECRET, REFRESH_TOKEN, TastytradeFake

UA = {"User-Agent": "fake-check/1.0"}
ORDER = {
    "time-in-force": "Day", "order-type": "Limit", "price": "100.0", "price-effect": "Debit",
    "source": "someone-else/2.0", "behavior": "immediate",  # unknown keys are ignored, as by the real API
    "legs": [{"instrument-type": "Equity", "symbol": "AAPL", "quantity": 1, "action": "Buy to Open"}],
}  # fmt: skip


@pytest.fixture
async def fake() -> AsyncIterator[TastytradeFake]:
    server = TastytradeFake().start()
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


@pytest.fixture
async def http(fake: TastytradeFake) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fake.url, headers=UA) as client:
        yield client


async def bearer(http: httpx.AsyncClient) -> dict[str, str]:
    grant = {"grant_type": "refresh_token", "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}
    token = (await http.post("/oauth/token", json=grant)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def test_user_agent_without_product_version_gets_nginx_html(http: httpx.AsyncClient) -> None:
    response = await http.get("/customers/me/accounts", headers={"User-Agent": "Mozilla"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "text/html" and "nginx" in response.text


async def test_grant_rules(http: httpx.AsyncClient) -> None:
    good = await http.post("/oauth/token", json={"grant_type": "refresh_token", "client_secret": CLIENT_SECRET,
                                                  "refresh_token": REFRESH_TOKEN})  # fmt: skip
    assert good.status_code == 200 and good.json()["expires_in"] == 900 and good.json()["token_type"] == "Bearer"
    wrong = await http.post("/oauth/token", json={"grant_type": "refresh_token", "client_secret": "nope",
                                                   "refresh_token": REFRESH_TOKEN})  # fmt: skip
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    legacy = await http.post("/oauth/token", json={"grant_type": "password", "username": "u", "password": "p"})
    assert legacy.status_code == 400


async def test_bearer_checks_and_token_expiry(fake: TastytradeFake, http: httpx.AsyncClient) -> None:
    auth = await bearer(http)
    raw_token = auth["Authorization"].removeprefix("Bearer ")
    legacy = await http.get("/customers/me/accounts", headers={"Authorization": raw_token})
    assert legacy.status_code == 401 and legacy.json()["error"]["code"] == "unauthorized"
    accounts = await http.get("/customers/me/accounts", headers=auth)
    assert accounts.json()["context"] == "/customers/me/accounts"
    assert accounts.json()["data"]["items"][0]["account"]["account-number"] == "5WT00001"
    with fake.book.lock:
        fake.book.expire_tokens()
    assert (await http.get("/customers/me/accounts", headers=auth)).status_code == 401


async def test_foreign_account_is_not_permitted(http: httpx.AsyncClient) -> None:
    response = await http.get("/accounts/5WT99999/positions", headers=await bearer(http))
    assert response.status_code == 403
    assert response.json() == {"error": {"code": "not_permitted", "message": "User not permitted access"}}


async def test_order_life_cycle_and_ignored_keys(fake: TastytradeFake, http: httpx.AsyncClient) -> None:
    auth = await bearer(http)
    placed = (await http.post("/accounts/5WT00001/orders", json=ORDER, headers=auth)).json()["data"]
    assert placed["order"]["status"] == "Received" and set(placed) >= {"buying-power-effect", "fee-calculation"}
    order_id = placed["order"]["id"]
    live = (await http.get("/accounts/5WT00001/orders/live", headers=auth)).json()["data"]["items"]
    assert [(o["id"], o["status"]) for o in live] == [(order_id, "Live")]
    assert isinstance(live[0]["updated-at"], int)
    cancel = await http.delete(f"/accounts/5WT00001/orders/{order_id}", headers=auth)
    assert cancel.json()["data"]["status"] == "Cancel Requested"
    final = (await http.get(f"/accounts/5WT00001/orders/{order_id}", headers=auth)).json()["data"]
    assert final["status"] == "Cancelled" and "terminal-at" in final
    again = await http.delete(f"/accounts/5WT00001/orders/{order_id}", headers=auth)
    assert again.status_code == 422


@pytest.mark.parametrize(
    ("change", "status"),
    [({"order_type": "Limit"}, 400), ({"price": None}, 400),
     ({"legs": [{"instrument-type": "Equity Option", "symbol": "AAPL250117C00150000", "quantity": 1,
                 "action": "Buy to Open"}]}, 400)],
    ids=["underscored-keys", "limit-without-price", "unpadded-occ"],
)  # fmt: skip
async def test_order_validation(http: httpx.AsyncClient, change: dict[str, Any], status: int) -> None:
    body = {k: v for k, v in {**ORDER, **change}.items() if v is not None}
    if "order_type" in change:
        body.pop("order-type")
    response = await http.post("/accounts/5WT00001/orders", json=body, headers=await bearer(http))
    assert response.status_code == status and "error" in response.json()


async def test_accept_version_rules() -> None:
    for sandbox, version, start, expected in (
        (True, "20261012", "2026-01-01", 406),
        (False, "20240101", "2026-01-01", 406),
        (False, "20261012", None, 400),
        (False, "20261012", "2026-01-01", 200),
        (False, "", None, 200),
    ):
        fake = TastytradeFake(sandbox=sandbox).start()
        try:
            async with httpx.AsyncClient(base_url=fake.url, headers=UA) as http:
                headers = {**(await bearer(http)), **({"Accept-Version": version} if version else {})}
                params = {"start-date": start} if start else {}
                response = await http.get("/accounts/5WT00001/orders", headers=headers, params=params)
        finally:
            await asyncio.to_thread(fake.stop)
        assert response.status_code == expected, (sandbox, version, start)


@pytest.mark.subprocess
async def test_standalone_fake_serves_the_app() -> None:
    root = Path(__file__).resolve().parents[2]
    with subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.tastytrade", "--port", "0"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:  # fmt: skip
        try:
            assert process.stdout is not None
            banner = [await asyncio.to_thread(process.stdout.readline) for _ in range(4)]
            url = banner[0].rsplit(" at ", 1)[1].strip()
            assert banner[1].split(":", 1)[1].strip() == CLIENT_SECRET
            assert banner[2].split(":", 1)[1].strip() == REFRESH_TOKEN
            credentials = {"client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}
            broker = TastytradeBroker(credentials, Environment.PAPER, base_url=url)
            try:
                info = await broker.verify()
                quotes = await broker.quotes(["AAPL"])
            finally:
                await broker.close()
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert info.account_number == "5WT00001" and info.is_paper
    assert quotes["AAPL"].ask is not None
