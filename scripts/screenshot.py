"""Screenshot of the real main window, offscreen, for the README: ``python scripts/screenshot.py [out.png]``.

The app runs on a throw-away data folder with a fixed market clock and a scripted quote feed (no
network, no keyring), places a few paper orders through the ticket's own controller, and saves the
window as a PNG.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.domain.models import Quote  # noqa: E402
from app.event_loop import DesktopEventLoop  # noqa: E402
from app.main import start_app  # noqa: E402
from app.paths import AppPaths  # noqa: E402

#: Tuesday 24 November 2026, 11:05 in New York: the regular session is open.
NOW = datetime(2026, 11, 24, 16, 5, tzinfo=UTC)
QUOTES = {
    "AAPL": ("189.50", "189.60", "189.55", "187.20"),
    "MSFT": ("410.10", "410.30", "410.20", "412.85"),
    "NVDA": ("131.05", "131.15", "131.10", "128.40"),
    "SPY": ("598.20", "598.25", "598.22", "596.10"),
}
SIZE = (1280, 800)
#: Other sizes the layout is checked at (``--all`` writes one PNG per size beside the first).
SIZES = ((1280, 800), (1024, 700), (800, 600))


class ScriptedQuotes:
    name = "Sample quotes"
    delayed = False

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        found = {}
        for symbol in symbols:
            if symbol in QUOTES:
                bid, ask, last, close = (Decimal(v) for v in QUOTES[symbol])
                found[symbol] = Quote(symbol, bid, ask, last, NOW - timedelta(seconds=20), prev_close=close)
        return found

    async def close(self) -> None:
        return None


async def capture(out: Path, size: tuple[int, int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = AppPaths(Path(folder)).ensure()
        services = await start_app(paths, quotes=ScriptedQuotes(), clock=lambda: NOW, poll_interval=0.2)
        window = services.window
        window.resize(*size)
        window.show()
        for ticket in (
            {"symbol": "AAPL", "side": "buy", "quantity": "50", "order_type": "market"},
            {"symbol": "NVDA", "side": "buy", "quantity": "120", "order_type": "market"},
            {"symbol": "MSFT", "side": "buy", "quantity": "20", "order_type": "limit", "limit_price": "405.00"},
            {"symbol": "SPY", "side": "buy", "quantity": "10", "order_type": "limit", "limit_price": "590.00",
             "time_in_force": "gtc"},
        ):
            await services.paper.submit(ticket)
        await asyncio.sleep(1.0)
        window.orders_pane.ticket.load_values({"symbol": "MSFT", "side": "buy", "quantity": "20", "order_type": "limit",
                                               "limit_price": "405.00"})
        await asyncio.sleep(0.5)
        window.grab().save(str(out))
        window.close()
        await services.shutdown()


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--all"]
    out = Path(args[0]) if args else Path("docs/images/main-window.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    sizes = SIZES if "--all" in sys.argv else (SIZE,)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("TradeBridge")
    app.setQuitOnLastWindowClosed(False)
    loop = DesktopEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        for size in sizes:
            target = out if size == SIZE else out.with_name(f"{out.stem}-{size[0]}x{size[1]}{out.suffix}")
            loop.run_until_complete(capture(target, size))
            print(f"Saved {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
