"""A child process for the SIGKILL test: the whole app on a data folder, one live order sent to a fake broker.

Run as ``python -m tests.gui.live_child <data_dir> <alpaca_url>`` with
``PYTHON_KEYRING_BACKEND=tests.security.keyrings.FileKeyring`` so the vault's key outlives the process. It
connects the fake (sandbox), switches to live, and sends one confirmed limit order; it prints ``SENDING <id>``
just before the order leaves, then waits for the answer the parent never lets it read.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app.domain.models import Quote
from app.event_loop import DesktopEventLoop
from app.main import start_app
from app.paths import AppPaths
from tests.fakes.alpaca import KEY_ID, SECRET_KEY


class NoQuotes:
    """Delayed quotes stay off: the child talks only to the fake broker."""

    name = "none"
    delayed = False

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        return {}

    async def close(self) -> None:
        return None


async def _until(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise SystemExit("condition not met in the child")
        await asyncio.sleep(0.05)


async def _main(data_dir: Path, url: str) -> None:
    services = await start_app(AppPaths(data_dir).ensure(), quotes=NoQuotes(), developer_mode=True)
    await _until(lambda: services.vault.status.state.value == "ready")
    form = {"broker": "alpaca", "environment": "paper", "base_url": url,
            "fields": {"api_key_id": KEY_ID, "api_secret_key": SECRET_KEY}}
    assert await services.connections.connect(form) is not None
    await _until(lambda: services.mode.live_available)
    services.mode.request_live("")
    ticket = {"symbol": "AAPL", "side": "buy", "quantity": "5", "order_type": "limit", "limit_price": "175"}
    client_order_id = await services.live.submit(ticket)
    assert client_order_id is not None
    print(f"SENDING {client_order_id}", flush=True)
    await services.live.place(client_order_id)
    print("ANSWERED", flush=True)


if __name__ == "__main__":
    app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = DesktopEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(_main(Path(sys.argv[1]), sys.argv[2]))
