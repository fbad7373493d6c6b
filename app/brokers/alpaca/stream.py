"""Alpaca's real-time market-data stream for stocks: quotes and trades over its websocket, as alpaca-py speaks it.

alpaca-py's ``StockDataStream`` can't run on the app's loop: ``run()`` starts a loop of its own and its
``subscribe_*`` calls block on ``run_coroutine_threadsafe(...).result()``, which deadlocks when called from the
loop it runs on. So this module speaks the same wire as alpaca-py (``alpaca/data/live/websocket.py``) with
``websockets``: msgpack frames (``Content-Type: application/msgpack``), ``{"action": "auth", "key", "secret"}``
after the server's ``[{"T": "success", "msg": "connected"}]``, then ``subscribe``/``unsubscribe`` of ``quotes``
and ``trades``. Pure parsing is in ``parse`` (``stream_messages``, ``apply_stream_message``).
Options are not on this stream (Alpaca's option stream is a separate endpoint); they are polled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import msgpack
import websockets
from websockets.asyncio.client import ClientConnection, connect

from app.brokers.alpaca.parse import (
    STREAM_FATAL,
    StreamRefused,
    apply_stream_message,
    check_stream_control,
    stream_messages,
)
from app.brokers.streaming import StreamDropped
from app.domain.models import Quote
from app.domain.symbols import SymbolError, parse_symbol

log = logging.getLogger(__name__)

#: alpaca-py's ``BaseURL.MARKET_DATA_STREAM`` with the free plan's IEX feed.
STREAM_URL = "wss://stream.data.alpaca.markets/v2/iex"
OPEN_TIMEOUT = 10.0
#: Channels subscribed for each symbol: the top of book and the last trade.
CHANNELS = ("quotes", "trades")


def stream_url(base_url: str | None) -> str:
    """The stream's address: Alpaca's, or for an overridden base URL (a fake) the same host over ws(s)."""
    if not base_url:
        return STREAM_URL
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}/v2/iex"


class AlpacaQuoteStream:
    """Stock quotes and trades pushed by Alpaca (see ``app/brokers/streaming.py`` for the contract)."""

    name = "Alpaca market data (IEX), streaming"
    delayed = False

    def __init__(self, url: str, key_id: str, secret: str, *, open_timeout: float = OPEN_TIMEOUT) -> None:
        self._url = url
        self._auth = {"action": "auth", "key": key_id, "secret": secret}
        self._open_timeout = open_timeout
        self._ws: ClientConnection | None = None
        self._subscribed: frozenset[str] = frozenset()
        self._latest: dict[str, Quote] = {}

    def serves(self, symbol: str) -> bool:
        try:
            return not parse_symbol(symbol).is_option
        except SymbolError:
            return False

    async def open(self) -> None:
        self._subscribed = frozenset()
        try:
            self._ws = await connect(
                self._url,
                additional_headers={"Content-Type": "application/msgpack"},
                open_timeout=self._open_timeout,
                proxy=None,
            )
            self._expect(await self._read(), "connected")
            await self._send(self._auth)
            self._expect(await self._read(), "authenticated")
        except StreamRefused as exc:
            await self.close()
            raise StreamDropped(_refusal(exc)) from exc
        except (OSError, asyncio.TimeoutError, websockets.WebSocketException, ValueError) as exc:
            await self.close()
            raise StreamDropped(f"Alpaca's market-data stream could not be opened ({type(exc).__name__}).") from exc

    async def subscribe(self, symbols: frozenset[str]) -> None:
        added, removed = sorted(symbols - self._subscribed), sorted(self._subscribed - symbols)
        if removed:
            await self._send({"action": "unsubscribe", **{channel: removed for channel in CHANNELS}})
            for symbol in removed:
                self._latest.pop(symbol, None)
        if added:
            await self._send({"action": "subscribe", **{channel: added for channel in CHANNELS}})
        self._subscribed = symbols

    async def receive(self) -> list[Quote]:
        while True:
            messages = await self._read()
            changed: dict[str, Quote] = {}
            for message in messages:
                try:
                    check_stream_control(message)
                except StreamRefused as exc:
                    if exc.code in STREAM_FATAL:
                        raise StreamDropped(_refusal(exc)) from exc
                    log.warning("Alpaca stream: %s (%s)", exc, exc.code)
                    continue
                symbol = message.get("S")
                if symbol not in self._subscribed:
                    continue
                quote = apply_stream_message(self._latest.get(symbol), message)
                if quote is not None:
                    self._latest[symbol] = changed[symbol] = quote
            if changed:
                return list(changed.values())

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        self._subscribed = frozenset()
        if ws is not None:
            try:
                await ws.close()
            except Exception:
                log.debug("Closing the Alpaca stream failed", exc_info=True)

    async def _send(self, message: dict[str, Any]) -> None:
        if self._ws is None:
            raise StreamDropped("Alpaca's market-data stream is not open.")
        try:
            await self._ws.send(msgpack.packb(message))
        except websockets.WebSocketException as exc:
            raise StreamDropped(f"Alpaca's market-data stream closed ({type(exc).__name__}).") from exc

    async def _read(self) -> list[dict[str, Any]]:
        if self._ws is None:
            raise StreamDropped("Alpaca's market-data stream is not open.")
        try:
            frame = await self._ws.recv()
        except websockets.ConnectionClosed as exc:
            raise StreamDropped("Alpaca's market-data stream closed; prices are polled until it is back.") from exc
        return stream_messages(frame)

    @staticmethod
    def _expect(messages: list[dict[str, Any]], what: str) -> None:
        for message in messages:
            check_stream_control(message)
        if not any(m.get("T") == "success" and m.get("msg") == what for m in messages):
            raise ValueError(f"expected '{what}' from the stream")


def _refusal(exc: StreamRefused) -> str:
    reasons: dict[int, Callable[[], str]] = {
        402: lambda: "Alpaca refused the market-data stream's keys (auth failed).",
        406: lambda: "Alpaca allows one market-data stream per account and another one is open (connection limit exceeded).",
        409: lambda: "The Alpaca account's market-data plan does not include this feed (insufficient subscription).",
    }
    return reasons.get(exc.code, lambda: f"Alpaca's market-data stream refused: {exc} ({exc.code}).")()
