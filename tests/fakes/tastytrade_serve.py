"""Serve a fake's ``dispatch`` on a chosen loopback port until Ctrl-C (for pointing the app at it).

``tests.fakes.http_server.FakeHTTPServer`` always binds an ephemeral port, which suits tests but
not a developer who must type the URL into the app's base-URL override; this adapter speaks the
same ``Request``/``Response``/``DropConnection`` protocol on a fixed port.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.http_server import DropConnection, Request, Response

log = logging.getLogger(__name__)


def _handler_for(dispatch: Callable[[Request], Response]) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            log.info("%s %s", self.address_string(), format % args)

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            try:
                response = dispatch(request)
            except DropConnection:
                self.close_connection = True
                return
            payload = response.encode()
            self.send_response(response.status)
            if payload:
                self.send_header("Content-Type", response.content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return _Handler


def serve_forever(dispatch: Callable[[Request], Response], port: int, *, banner: str) -> None:
    """Blocks serving ``dispatch`` on 127.0.0.1:``port``; ``banner`` may contain ``{url}``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(dispatch))
    server.daemon_threads = True
    host, bound = server.server_address[:2]
    print(banner.format(url=f"http://{host}:{bound}"), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
