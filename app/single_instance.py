"""One app per data folder: a lock held for the app's life, and a local channel to the running window.

Two apps on one data folder would each keep their own paper account in memory and write over each
other's cash and positions. The first start takes a ``QLockFile`` in the data folder (a lock left by
a crashed process is recognised by its process id and taken over) and listens on a ``QLocalServer``
named after the folder (the launcher starts listening once the window's first frame is drawn, so QtNetwork
is not imported before it; a later start that finds the lock but no server yet keeps trying for a few
seconds). A later start on the same folder writes nothing: it asks the running app to bring its window to
the front and exits, or says why it can't.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLockFile

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

LOCK_FILE_NAME = "tradebridge.lock"
ACTIVATE = b"activate\n"
ACKNOWLEDGED = b"ok\n"
#: How long a second start waits for the running app to answer before saying it can't reach it.
ANSWER_TIMEOUT_MS = 5000
#: How often a second start tries again to reach a running app that is not listening yet (it is still starting).
RETRY_INTERVAL_S = 0.1


def server_name(data_dir: Path) -> str:
    """A local socket name that is the same for every start on this folder and differs between folders."""
    import hashlib

    digest = hashlib.sha256(str(data_dir.resolve()).encode("utf-8")).hexdigest()[:24]
    return f"tradebridge-{digest}"


@dataclass(frozen=True, slots=True)
class AlreadyRunning:
    """Another app holds the data folder. ``reached`` says whether it answered and raised its window."""

    message: str
    reached: bool


class InstanceGuard:
    """Holds the data folder's lock and answers later starts; ``release()`` when the app has shut down."""

    def __init__(self, lock: QLockFile, data_dir: Path) -> None:
        self._lock = lock
        self._data_dir = data_dir
        self._server: QLocalServer | None = None
        self._on_activate: Callable[[], None] | None = None
        self._activation_pending = False
        self._sockets: set[QLocalSocket] = set()

    def listen(self) -> None:
        """Answer later starts on this folder from now on (before any state is touched)."""
        if self._server is not None:
            return
        from PySide6.QtNetwork import QLocalServer

        server = QLocalServer()
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        name = server_name(self._data_dir)
        # We hold the lock, so any socket of this name was left by a crashed app.
        QLocalServer.removeServer(name)
        if not server.listen(name):
            log.warning("A later start can't reach this window (%s); it will be told so", server.errorString())
        server.newConnection.connect(self._accept)
        self._server = server

    def on_activate(self, bring_to_front: Callable[[], None]) -> None:
        """Call ``bring_to_front`` whenever another start asks; a request that came early is honoured now."""
        self._on_activate = bring_to_front
        if self._activation_pending:
            self._activation_pending = False
            bring_to_front()

    def release(self) -> None:
        for socket in list(self._sockets):
            socket.abort()
        self._sockets.clear()
        if self._server is not None:
            self._server.close()
        self._lock.unlock()

    def _accept(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            self._sockets.add(socket)
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._forget(s))
            if socket.bytesAvailable():
                self._read(socket)

    def _forget(self, socket: QLocalSocket) -> None:
        if socket in self._sockets:
            self._sockets.discard(socket)
            socket.deleteLater()

    def _read(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            return
        request = bytes(socket.readLine().data())
        if request != ACTIVATE:
            socket.disconnectFromServer()
            return
        log.info("Another start on this data folder asked for this window")
        socket.write(ACKNOWLEDGED)
        socket.flush()
        if self._on_activate is None:
            self._activation_pending = True
        else:
            self._on_activate()


def claim_data_folder(
    data_dir: Path, *, contact_running: bool = True, listen: bool = True
) -> InstanceGuard | AlreadyRunning:
    """Take the folder's lock, or find out who holds it. Writes nothing in the folder unless the lock is taken.

    With ``contact_running`` the running app is asked to bring its window to the front; without it
    (smoke tests) only the reason is returned. Without ``listen`` the guard answers later starts once
    its ``listen()`` is called.
    """
    lock = QLockFile(str(data_dir / LOCK_FILE_NAME))
    # Age alone never makes a lock stale: the app may run for weeks. A lock is stale only when the
    # process that wrote it is gone, which QLockFile checks by process id on this host.
    lock.setStaleLockTime(0)
    locked = lock.tryLock(0)
    if locked and os.name == "posix":
        os.chmod(data_dir / LOCK_FILE_NAME, 0o600)
    if not locked:
        if lock.error() != QLockFile.LockError.LockFailedError:
            return AlreadyRunning(
                f"The data folder {data_dir} can't be locked for this app ({lock.error().name}); "
                "check that the folder is writable.",
                reached=False,
            )
        handed = _hand_over(data_dir, lock, contact_running=contact_running)
        if handed is not None:
            return handed
        # The app holding the folder ended while this start waited for it: the lock is this start's now.
        if os.name == "posix":
            os.chmod(data_dir / LOCK_FILE_NAME, 0o600)
    guard = InstanceGuard(lock, data_dir)
    if listen:
        guard.listen()
    return guard


def _holder(lock: QLockFile) -> str:
    info = lock.getLockInfo()
    if isinstance(info, tuple) and len(info) == 3 and info[0] > 0:
        return f" (process {info[0]} on {info[1]})"
    return ""


def _hand_over(data_dir: Path, lock: QLockFile, *, contact_running: bool) -> AlreadyRunning | None:
    """Ask the app holding the folder to come to the front; ``None`` if it ended meanwhile and ``lock`` is taken."""
    running = f"TradeBridge is already running on the data folder {data_dir}{_holder(lock)}"
    if not contact_running:
        return AlreadyRunning(f"{running}. Only one app may use a data folder at a time.", reached=False)
    from PySide6.QtNetwork import QLocalSocket

    socket = QLocalSocket()
    answered = False
    reached = _connect(socket, server_name(data_dir), lock)
    if reached is None:
        return None
    if reached:
        socket.write(ACTIVATE)
        socket.flush()
        while not socket.canReadLine() and socket.waitForReadyRead(ANSWER_TIMEOUT_MS):
            pass
        answered = socket.canReadLine() and bytes(socket.readLine().data()) == ACKNOWLEDGED
        socket.disconnectFromServer()
    if answered:
        return AlreadyRunning(f"{running}; its window was brought to the front.", reached=True)
    return AlreadyRunning(
        f"{running} but is not answering. Close it (or end its process) and start again.", reached=False
    )


def _connect(socket: QLocalSocket, name: str, lock: QLockFile) -> bool | None:
    """Connect to the running app; one that holds the lock but is still starting is given about 5 s to listen.

    ``None`` when, meanwhile, that app ended and ``lock`` could be taken."""
    from PySide6.QtNetwork import QLocalSocket

    not_listening = (
        QLocalSocket.LocalSocketError.ServerNotFoundError,
        QLocalSocket.LocalSocketError.ConnectionRefusedError,
    )
    deadline = time.monotonic() + ANSWER_TIMEOUT_MS / 1000
    while True:
        socket.connectToServer(name)
        if socket.waitForConnected(ANSWER_TIMEOUT_MS):
            return True
        if socket.error() not in not_listening or time.monotonic() >= deadline:
            return False
        socket.abort()
        time.sleep(RETRY_INTERVAL_S)
        if lock.tryLock(0):
            return None
