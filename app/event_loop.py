"""The app's one asyncio loop: qasync's Qt loop, woken from other threads through a socket pair.

Work finished on another thread (the database worker, the keyring thread, ``asyncio.to_thread``)
comes back to the loop through ``call_soon_threadsafe``. qasync delivers those calls by emitting a
Qt signal from the foreign thread, and drops the callback's context; PySide6's emission from
threads it did not start has crashed the process under load. Here the foreign thread touches no Qt
object at all: it queues the callback and writes one byte to a socket, and the loop thread, woken
by a socket notifier, runs what is queued, in order, each in its own context. This is how
asyncio's own loops wake themselves.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import socket
from collections.abc import Callable
from typing import Any

import qasync
from PySide6.QtCore import QCoreApplication


class DesktopEventLoop(qasync.QEventLoop):  # type: ignore[misc, valid-type]
    def __init__(self, app: QCoreApplication | None = None, *, already_running: bool = False) -> None:
        super().__init__(app, already_running=already_running)
        self._handoff: collections.deque[asyncio.Handle] = collections.deque()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._add_reader(self._wake_read.fileno(), self._take_handoff)

    def call_soon_threadsafe(
        self, callback: Callable[..., object], *args: Any, context: contextvars.Context | None = None
    ) -> asyncio.Handle:
        self._check_closed()
        handle = asyncio.Handle(callback, args, self, context=context)
        self._handoff.append(handle)
        try:
            self._wake_write.send(b"\0")
        except (BlockingIOError, InterruptedError):
            pass  # the socket is already full of wake-ups: the loop thread will drain the queue
        except OSError:
            pass  # closed while this call was under way, as asyncio's own loops allow
        return handle

    def _take_handoff(self) -> None:
        try:
            while self._wake_read.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        # Bounded by what is queued now: a callback that queues another is run on the next wake-up.
        for _ in range(len(self._handoff)):
            handle = self._handoff.popleft()
            if not handle.cancelled():
                handle._run()

    def close(self) -> None:
        if self.is_running() or self.is_closed():
            super().close()
            return
        self._remove_reader(self._wake_read.fileno())
        self._wake_read.close()
        self._wake_write.close()
        self._handoff.clear()
        super().close()
