"""A fake Cboe delayed-quotes CDN: recorded JSON files served over real HTTP on loopback.

Paths mirror the real CDN (``/api/global/delayed_quotes/quotes/{FILE}.json``,
``/api/global/delayed_quotes/options/{FILE}.json`` and the chart files ``charts/historical/{FILE}.json``
and ``charts/intraday/{FILE}.json``). A file that was not loaded answers 404, the
fake's stand-in for a symbol Cboe does not have. Switches:

* ``fail = "drop"`` closes every connection without an answer (the network is down);
  ``fail = "error"`` answers 503 (the CDN is failing);
* ``status_overrides[path] = 403`` answers one file with that status;
* ``stall_seconds = s`` keeps each request waiting ``s`` seconds, then hangs up unanswered;
* ``hold_until_concurrent = n`` parks each request until ``n`` are in flight at once or
  ``hold_seconds`` pass. Set to a cap plus one, it shows a client that breaks the cap (the extra
  request arrives while the others are parked) and one that keeps it (nobody arrives).

Starting and stopping the HTTP server costs half a second, so tests share one server and call
``reset()`` between them.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from tests.fakes.http_server import DropConnection, FakeHTTPServer, Request, Response, Router

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "cboe"
PREFIX = "/api/global/delayed_quotes"


class FakeCboe:
    """Serves ``quotes/*.json``, ``options/*.json`` and ``charts/*/*.json`` from bytes loaded by the test."""

    def __init__(self) -> None:
        router = Router()
        router.add("GET", PREFIX + "/quotes/{name}", self._serve)
        router.add("GET", PREFIX + "/options/{name}", self._serve)
        router.add("GET", PREFIX + "/charts/historical/{name}", self._serve)
        router.add("GET", PREFIX + "/charts/intraday/{name}", self._serve)
        self.server = FakeHTTPServer(router.dispatch)
        self._lock = threading.Lock()
        self._generation = 0
        self._enough = threading.Event()
        self._released = threading.Event()
        self.reset()

    @property
    def base_url(self) -> str:
        return self.server.url + PREFIX

    def start(self) -> FakeCboe:
        self.server.start()
        return self

    def stop(self) -> None:
        self._enough.set()
        self._released.set()
        self.server.stop()

    def reset(self) -> None:
        """Forget files, switches and counters; requests still parked from a previous test are let go."""
        with self._lock:
            self._enough.set()
            self._released.set()
            # Late requests of the previous test must not count against this one.
            self._generation += 1
            self._enough = threading.Event()
            self._released = threading.Event()
            self._in_flight = 0
            self.files: dict[str, bytes] = {}
            self.status_overrides: dict[str, int] = {}
            self.fail: str | None = None
            self.stall_seconds = 0.0
            self.hold_until_concurrent: int | None = None
            self.hold_seconds = 1.0
            self.hits: Counter[str] = Counter()
            self.max_in_flight = 0
            self.server.requests.clear()

    def serve(self, path: str, body: bytes) -> None:
        """Serve ``body`` at ``path`` relative to the CDN prefix, e.g. ``/quotes/AAPL.json``."""
        self.files[path] = body

    def serve_fixture(self, path: str, fixture: str) -> None:
        self.serve(path, (FIXTURES / fixture).read_bytes())

    @property
    def user_agents(self) -> set[str]:
        return {request.header("user-agent") for request in self.server.requests}

    def _serve(self, request: Request, name: str) -> Response:
        path = request.path.removeprefix(PREFIX)
        with self._lock:
            generation, enough, released = self._generation, self._enough, self._released
            self.hits[path] += 1
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            if self.hold_until_concurrent is not None and self._in_flight >= self.hold_until_concurrent:
                enough.set()
        try:
            if self.hold_until_concurrent is not None:
                enough.wait(timeout=self.hold_seconds)
            if self.stall_seconds:
                released.wait(timeout=self.stall_seconds)
                raise DropConnection()
            if self.fail == "drop":
                raise DropConnection()
            if self.fail == "error":
                return Response(503, {"message": "Service Unavailable"})
            if path in self.status_overrides:
                return Response(self.status_overrides[path], "Access Denied", content_type="text/plain")
            body = self.files.get(path)
            if body is None:
                return Response(404, "Not Found", content_type="text/plain")
            return Response(200, body)
        finally:
            with self._lock:
                if generation == self._generation:
                    self._in_flight -= 1
