"""A fake of Alpaca's market-data websocket on 127.0.0.1, speaking the real wire format.

As ``wss://stream.data.alpaca.markets/v2/iex`` does (and as alpaca-py's ``DataStream`` expects): on
connect ``[{"T": "success", "msg": "connected"}]``; ``{"action": "auth", "key", "secret"}`` answered with
``[{"T": "success", "msg": "authenticated"}]`` or ``[{"T": "error", "code": 402, "msg": "auth failed"}]``
(then closed); a second connection while one is open gets 406 "connection limit exceeded";
``subscribe``/``unsubscribe`` of ``trades``/``quotes``/``bars`` answered with the resulting
``{"T": "subscription", ...}``; pushed quotes ``{"T": "q", "S", "bx", "bp", "bs", "ax", "ap", "as", "c", "z", "t"}``
and trades ``{"T": "t", "S", "i", "x", "p", "s", "c", "z", "t"}``. Frames are msgpack (timestamps as msgpack
Timestamp) for a client that sends ``Content-Type: application/msgpack``, JSON (RFC 3339 with nanoseconds)
otherwise. Messages received are kept in ``received``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgpack
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds", "corrections", "cancelErrors")


class _Client:
    def __init__(self, ws: ServerConnection, binary: bool) -> None:
        self.ws = ws
        self.binary = binary
        self.authenticated = False
        self.channels: dict[str, set[str]] = {channel: set() for channel in CHANNELS}

    async def send(self, messages: list[dict[str, Any]]) -> None:
        if self.binary:
            await self.ws.send(msgpack.packb(messages, datetime=False))
            return
        await self.ws.send(json.dumps([_as_json(m) for m in messages]))


def _as_json(message: dict[str, Any]) -> dict[str, Any]:
    """JSON frames carry times as RFC 3339 text with nanoseconds."""
    out = dict(message)
    stamp = out.get("t")
    if isinstance(stamp, msgpack.Timestamp):
        out["t"] = f"{stamp.to_datetime():%Y-%m-%dT%H:%M:%S}.{stamp.nanoseconds:09d}Z"
    return out


class FakeAlpacaStream:
    def __init__(self, key_id: str = "PKFAKE0000000000", secret: str = "fake-secret") -> None:
        self.key_id, self.secret = key_id, secret
        self.port = 0
        self.received: list[dict[str, Any]] = []
        self.connections = 0
        self._clients: set[_Client] = set()
        self._server: Server | None = None
        self._trade_ids = itertools.count(1)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v2/iex"

    async def start(self) -> FakeAlpacaStream:
        self._server = await serve(self._serve, "127.0.0.1", self.port)
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def stop(self) -> None:
        await self.pause()
        await self.drop_connections()

    async def pause(self) -> None:
        """Stop accepting connections (open ones stay) until ``start`` again."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def drop_connections(self) -> None:
        for client in list(self._clients):
            with contextlib.suppress(Exception):
                await client.ws.close(code=1011, reason="fake dropped the connection")

    def subscriptions(self, channel: str) -> set[str]:
        return {s for client in self._clients if client.authenticated for s in client.channels[channel]}

    async def push_quote(self, symbol: str, bid: Decimal, ask: Decimal, at: datetime, *, bid_size: int = 3, ask_size: int = 2) -> None:
        message = {"T": "q", "S": symbol, "bx": "V", "bp": float(bid), "bs": bid_size, "ax": "V", "ap": float(ask),
                   "as": ask_size, "c": ["R"], "z": "C", "t": msgpack.Timestamp.from_datetime(at)}
        await self._publish("quotes", symbol, message)

    async def push_trade(self, symbol: str, price: Decimal, at: datetime, *, size: int = 100) -> None:
        message = {"T": "t", "S": symbol, "i": next(self._trade_ids), "x": "V", "p": float(price), "s": size,
                   "c": ["@"], "z": "C", "t": msgpack.Timestamp.from_datetime(at)}
        await self._publish("trades", symbol, message)

    async def _publish(self, channel: str, symbol: str, message: dict[str, Any]) -> None:
        for client in list(self._clients):
            if client.authenticated and (symbol in client.channels[channel] or "*" in client.channels[channel]):
                with contextlib.suppress(ConnectionClosed):
                    await client.send([message])

    async def _serve(self, ws: ServerConnection) -> None:
        content_type = ws.request.headers.get("Content-Type", "") if ws.request is not None else ""
        client = _Client(ws, binary=content_type == "application/msgpack")
        self.connections += 1
        try:
            await client.send([{"T": "success", "msg": "connected"}])
            async for frame in ws:
                decoded = msgpack.unpackb(frame) if isinstance(frame, bytes) else json.loads(frame)
                for message in decoded if isinstance(decoded, list) else [decoded]:
                    self.received.append(message)
                    if not await self._handle(client, message):
                        return
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)

    async def _handle(self, client: _Client, message: dict[str, Any]) -> bool:
        action = message.get("action")
        if action == "auth":
            if message.get("key") != self.key_id or message.get("secret") != self.secret:
                await client.send([{"T": "error", "code": 402, "msg": "auth failed"}])
                await client.ws.close()
                return False
            if any(other.authenticated for other in self._clients):
                await client.send([{"T": "error", "code": 406, "msg": "connection limit exceeded"}])
                await client.ws.close()
                return False
            client.authenticated = True
            self._clients.add(client)
            await client.send([{"T": "success", "msg": "authenticated"}])
            return True
        if not client.authenticated:
            await client.send([{"T": "error", "code": 401, "msg": "not authenticated"}])
            return True
        if action in ("subscribe", "unsubscribe"):
            for channel in CHANNELS:
                for symbol in message.get(channel, []) or []:
                    (client.channels[channel].add if action == "subscribe" else client.channels[channel].discard)(symbol)
            await client.send([{"T": "subscription", **{c: sorted(client.channels[c]) for c in CHANNELS}}])
            return True
        await client.send([{"T": "error", "code": 400, "msg": "invalid syntax"}])
        return True
