"""A small real HTTP/1.1 server on 127.0.0.1 for the fake brokers and the fake quote feed.

Each fake is a ``Router`` of handlers ``(request, **path_params) -> Response``. The server runs in
a background thread so both sync clients (alpaca-py's ``requests``) and async clients (httpx) talk
to it over a real socket. Handlers may raise ``DropConnection`` to close the socket without an
answer after they changed state: the "order accepted but the response was lost" fault.

Switches shared by every REST fake: ``down`` hangs up on every request unanswered and unseen (the
broker is gone); with ``order_action`` naming a request "place"/"replace"/"cancel", ``switches``
drop or hold the successful answer to the next such request after the fake has booked it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.control import Hang, OrderCall, RequestSwitches


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class DropConnection(Exception):
    """Close the connection without sending any response."""


Handler = Callable[..., Response]


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        self._routes.append((method.upper(), regex, handler))

    def dispatch(self, request: Request) -> Response:
        allowed = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match:
                allowed = True
                if method == request.method:
                    return handler(request, **match.groupdict())
        return Response(405 if allowed else 404, {"error": f"no route {request.method} {request.path}"})


class FakeHTTPServer:
    """Serves a ``dispatch(request) -> Response`` callable on an ephemeral loopback port."""

    def __init__(
        self,
        dispatch: Callable[[Request], Response],
        port: int = 0,
        *,
        order_action: Callable[[Request], str | None] | None = None,
        switches: RequestSwitches | None = None,
    ) -> None:
        self._dispatch = dispatch
        self._port = port
        self.requests: list[Request] = []
        self.delay_seconds = 0.0
        self.down = False
        self.order_action = order_action
        self.switches = switches or RequestSwitches()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHTTPServer:
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                return

            def _hang_up(self) -> None:
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass

            def _handle(self) -> None:
                if outer.down:
                    self._hang_up()
                    return
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                outer.requests.append(request)
                if outer.delay_seconds:
                    time.sleep(outer.delay_seconds)
                try:
                    response = outer._dispatch(request)
                except DropConnection:
                    self._hang_up()
                    return
                action = outer.order_action(request) if outer.order_action else None
                if action is not None and 200 <= response.status < 300:
                    if outer.switches.take_drop(action):
                        self._hang_up()
                        return
                    hang = outer.switches.take_hang(action)
                    if hang is not None:
                        hang.received.set()
                        hang.wait_released()
                if outer.down:
                    self._hang_up()
                    return
                payload = response.encode()
                self.send_response(response.status)
                if payload:
                    self.send_header("Content-Type", response.content_type)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.switches.release_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_until_stopped(server: FakeHTTPServer, banner: str) -> None:
    """Serve a started fake until Ctrl-C or SIGTERM, for pointing the app at it by hand.

    ``banner`` may contain ``{url}``. Explicit handlers, because a background job may have
    inherited an ignored SIGINT.
    """
    import signal

    print(banner.format(url=server.url), flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
    print("Stopped.", flush=True)


class RestFakeControls:
    """The network half of the fakes' test API, shared by the REST fakes.

    A fake using it has a ``server`` (``FakeHTTPServer``) and says which of its requests are order
    requests (``order_call``) and which place, replace or cancel an order (``order_action``).
    """

    server: FakeHTTPServer

    def order_call(self, request: Request) -> OrderCall | None:
        raise NotImplementedError

    def order_action(self, request: Request) -> str | None:
        call = self.order_call(request)
        if call is None or not call.changes_orders:
            return None
        return {"POST": "place", "PUT": "replace", "PATCH": "replace", "DELETE": "cancel"}.get(call.method)

    def _wire_switches(self) -> None:
        self.server.order_action = self.order_action

    def serve_in_background(self) -> RestFakeControls:
        """Start answering on a free loopback port (threads; no event loop needed)."""
        self._wire_switches()
        self.server.start()
        return self

    def shut_down(self) -> None:
        self.server.stop()

    def order_requests(self) -> list[OrderCall]:
        """Every request that reached an order endpoint (reads, previews and changes), oldest first."""
        calls = (self.order_call(request) for request in list(self.server.requests))
        return [call for call in calls if call is not None]

    def drop_next_order_response(self, action: str = "place") -> None:
        """Book the next order request of this kind ("place", "replace", "cancel"), then hang up unanswered."""
        self._wire_switches()
        self.server.switches.drop_next(action)

    def hang_next_order_response(self, action: str = "place") -> Hang:
        """Book the next order request of this kind, then hold the answer until the handle is released."""
        self._wire_switches()
        return self.server.switches.hang_next(action)

    def go_down(self) -> None:
        """Stop answering: every request is hung up on unanswered and changes nothing."""
        self.server.down = True

    def come_back(self) -> None:
        self.server.down = False
