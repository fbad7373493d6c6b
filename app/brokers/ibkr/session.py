"""Connection life cycle of the IBKR connector: connect, refuse the wrong account, report state, reconnect with backoff.

Works on the ``ib_insync.IB`` object handed in by ``app.brokers.ibkr.connector`` (the one module importing the
library) and on nothing else of it, so switching to ib_async stays a change to that one import.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

from app.brokers.base import AuthError, BrokerError, BrokerUnavailable, Environment, EnvironmentMismatch
from app.brokers.ibkr.parse import (
    CLIENT_ID_IN_USE,
    IB_LINK_LOST,
    IB_LINK_RESTORED,
    MARKET_DATA_FARM_BROKEN,
    MARKET_DATA_FARM_OK,
    IbkrEndpoint,
    choose_account,
    is_paper_account,
    mask_account,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


def bind_running_loop() -> None:
    """Make the running loop the thread's current loop.

    ib_insync and eventkit look their loop up with ``get_event_loop_policy().get_event_loop()``,
    which ignores the running loop: under qasync (a runner with a loop factory) they would otherwise
    get a different loop that never runs.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    asyncio.set_event_loop(loop)


class ConnectionState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    #: The socket to TWS/IB Gateway dropped; reconnecting with backoff.
    RECONNECTING = "reconnecting"
    #: TWS/IB Gateway is up but has lost IB's servers (code 1100); orders cannot reach the market.
    IB_UNREACHABLE = "ib_unreachable"
    #: Refused for good (wrong account or environment); no more automatic attempts.
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    state: ConnectionState
    message: str
    at: datetime


ConnectionListener = Callable[[ConnectionEvent], None]


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Exponential backoff between reconnect attempts."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    factor: float = 2.0

    def delays(self) -> Iterator[float]:
        delay = self.first_delay
        while True:
            yield delay
            delay = min(delay * self.factor, self.max_delay)


@dataclass(frozen=True, slots=True)
class IbkrTimeouts:
    """Seconds to wait for TWS; quotes allow for IB's snapshot taking up to ~11 s."""

    connect: float = 10.0
    request: float = 10.0
    order_ack: float = 5.0
    quotes: float = 15.0
    reconnect_wait: float = 15.0


async def request(start: Callable[[], Awaitable[T]], what: str, timeout: float) -> T:
    """Await one ib_insync request, turning its timeout or a dropped socket into BrokerUnavailable."""
    try:
        return await asyncio.wait_for(start(), timeout)
    except TimeoutError:
        raise BrokerUnavailable(f"TWS/IB Gateway did not answer the {what} request within {timeout:g} s.") from None
    except ConnectionError:
        raise BrokerUnavailable(f"The connection to TWS/IB Gateway dropped during the {what} request.") from None


class IbkrSession:
    """One ``IB`` connection kept up: the first connect on demand, then reconnects after drops.

    ``after_connect`` runs once the account is accepted (re-sync, market data type); ``on_lost``
    runs the moment the socket drops; ``on_restored`` when TWS regains IB's servers (1101/1102).
    """

    def __init__(
        self,
        ib: Any,
        endpoint: Callable[[], IbkrEndpoint],
        environment: Environment,
        *,
        reconnect: ReconnectPolicy,
        timeouts: IbkrTimeouts,
        after_connect: Callable[[], Awaitable[None]],
        on_lost: Callable[[], None],
        on_restored: Callable[[], None],
    ) -> None:
        self._ib = ib
        self._endpoint = endpoint
        self._environment = environment
        self._policy = reconnect
        self._timeouts = timeouts
        self._after_connect = after_connect
        self._on_lost = on_lost
        self._on_restored = on_restored
        self.account = ""
        self.state = ConnectionState.DISCONNECTED
        self._listeners: list[ConnectionListener] = []
        #: Market-data farms TWS reports broken (2103) and not yet OK again (2104/2108), by farm name.
        self._farms_down: set[str] = set()
        self._market_data_listeners: list[Callable[[str | None], None]] = []
        self._handshake: asyncio.Future[str] | None = None
        self._connected = asyncio.Event()
        self._lock = asyncio.Lock()
        self._reconnect_task: asyncio.Task[None] | None = None
        self._last_error: BrokerError | None = None
        self._closing = False
        self.closed = False
        ib.disconnectedEvent += self._on_disconnected
        ib.client.apiStart += self._on_api_start
        ib.client.apiError += self._on_api_error

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def add_listener(self, listener: ConnectionListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @property
    def market_data_down(self) -> str | None:
        """Why TWS's market data can't be trusted right now (a farm it reports broken), or None."""
        if not self._farms_down:
            return None
        farms = ", ".join(sorted(self._farms_down))
        return f"TWS reports its market data farm connection broken ({farms}); prices are polled until it is back."

    def add_market_data_listener(self, listener: Callable[[str | None], None]) -> Callable[[], None]:
        """``listener(why)`` when a farm breaks (why) or every farm is OK again (None)."""
        self._market_data_listeners.append(listener)
        return lambda: self._market_data_listeners.remove(listener)

    def _on_farm_message(self, code: int, text: str) -> None:
        farm = text.rpartition(":")[2].strip() or "market data"
        was_down = bool(self._farms_down)
        if code == MARKET_DATA_FARM_BROKEN:
            self._farms_down.add(farm)
            log.warning("IBKR market data farm %s: connection broken", farm)
        else:
            self._farms_down.discard(farm)
        if bool(self._farms_down) == was_down and code != MARKET_DATA_FARM_BROKEN:
            return
        why = self.market_data_down
        for listener in list(self._market_data_listeners):
            try:
                listener(why)
            except Exception:
                log.exception("A market data listener failed")

    def set_state(self, state: ConnectionState, message: str) -> None:
        self.state = state
        log.info("IBKR connection %s: %s", state.value, message)
        event = ConnectionEvent(state, message, datetime.now(timezone.utc))
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("IBKR connection listener failed")

    async def ready(self) -> None:
        """Return once connected and synced; connect now if nobody is connecting yet."""
        bind_running_loop()
        if self.closed:
            raise BrokerUnavailable("This Interactive Brokers connection was closed.")
        if self._connected.is_set():
            return
        task = self._reconnect_task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=self._timeouts.reconnect_wait)
            if self._connected.is_set():
                return
            if task.done() and self._last_error is not None:
                raise type(self._last_error)(str(self._last_error))
            raise BrokerUnavailable(f"Lost the connection to TWS/IB Gateway at {self._endpoint().address}; still reconnecting.")
        async with self._lock:
            if self._connected.is_set():
                return
            self.set_state(ConnectionState.CONNECTING, f"Connecting to TWS/IB Gateway at {self._endpoint().address}…")
            try:
                await self._connect_once()
            except BrokerError as exc:
                fatal = isinstance(exc, (EnvironmentMismatch, AuthError))
                self.set_state(ConnectionState.FAILED if fatal else ConnectionState.DISCONNECTED, str(exc))
                raise

    async def close(self) -> None:
        self.closed = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnect_task
        self.drop()
        if self.state is not ConnectionState.DISCONNECTED:
            self.set_state(ConnectionState.DISCONNECTED, "Disconnected from TWS/IB Gateway.")

    def drop(self) -> None:
        """Disconnect on purpose: no reconnect follows."""
        self._closing = True
        try:
            self._connected.clear()
            if self._ib.client.isReady():
                self._ib.disconnect()
            else:
                self._ib.client.disconnect()
        finally:
            self._closing = False

    async def _connect_once(self) -> None:
        endpoint = self._endpoint()
        handshake: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._handshake = handshake
        # A new connection: TWS reports each farm's state again.
        self._farms_down.clear()
        connect = asyncio.ensure_future(
            self._ib.connectAsync(
                endpoint.host,
                endpoint.port,
                clientId=endpoint.client_id,
                timeout=self._timeouts.connect,
                # The order syncs run in after_connect, where a timeout is an error rather than a log line.
                readonly=True,
                account=endpoint.account,
            )
        )
        try:
            await asyncio.wait({connect, handshake}, return_when=asyncio.FIRST_COMPLETED)
            if handshake.done() and handshake.exception() is not None:
                raise handshake.exception()  # type: ignore[misc]
            await connect
            account = await handshake
        except BrokerError:
            raise
        except ConnectionRefusedError:
            raise BrokerUnavailable(
                f"Could not connect to TWS/IB Gateway at {endpoint.address}. Is TWS/IB Gateway running with "
                f"the API enabled on port {endpoint.port}?"
            ) from None
        except TimeoutError:
            raise BrokerUnavailable(
                f"TWS/IB Gateway at {endpoint.address} did not complete the API connection within "
                f"{self._timeouts.connect:g} s. Check that the API is enabled and no dialog is waiting in TWS."
            ) from None
        except OSError as exc:
            raise BrokerUnavailable(f"Could not reach TWS/IB Gateway at {endpoint.address}: {exc}.") from None
        finally:
            self._handshake = None
            if not connect.done():
                connect.cancel()
                await asyncio.wait({connect})
            # Both outcomes were read above or replaced by a clearer error; mark them retrieved.
            for future in (connect, handshake):
                if not future.done():
                    future.cancel()
                elif not future.cancelled():
                    future.exception()
        self.account = account
        try:
            await self._after_connect()
        except (BrokerError, ConnectionError) as exc:
            self.drop()
            raise BrokerUnavailable(f"Connected to TWS/IB Gateway but could not load its orders: {exc}") from None
        self._last_error = None
        self._connected.set()
        kind = "paper" if is_paper_account(account) else "live"
        self.set_state(
            ConnectionState.CONNECTED,
            f"Connected to TWS/IB Gateway at {endpoint.address}, account {mask_account(account)} ({kind}).",
        )

    def _on_api_start(self) -> None:
        """ib_insync saw nextValidId and managedAccounts: check the account before any request goes out."""
        handshake = self._handshake
        if handshake is None or handshake.done():
            return
        try:
            account = choose_account(self._ib.client.getAccounts(), self._endpoint().account, self._environment)
        except BrokerError as exc:
            handshake.set_exception(exc)
            # Closing here, before ib_insync sends its start-up requests, means a refused account is
            # never queried, let alone traded.
            self._ib.client.disconnect()
            return
        handshake.set_result(account)

    def _on_api_error(self, message: str) -> None:
        handshake = self._handshake
        # Only a close by TWS after the version handshake counts here; a failed connect attempt
        # also reports through apiError but raises its own, more precise exception.
        if handshake is None or handshake.done() or not self._ib.client.isConnected():
            return
        endpoint = self._endpoint()
        log.info("IBKR API error during connect: %s", message)
        handshake.set_exception(
            BrokerUnavailable(
                f"TWS/IB Gateway at {endpoint.address} closed the API connection. Check that this computer may "
                f"connect (Trusted IPs) and that client id {endpoint.client_id} is not used by another application."
            )
        )

    def on_system_message(self, code: int, text: str) -> None:
        """An error with reqId -1: connectivity news from TWS, or "client id in use" during the handshake."""
        if code == CLIENT_ID_IN_USE:
            endpoint = self._endpoint()
            if self._handshake is not None and not self._handshake.done():
                self._handshake.set_exception(
                    BrokerError(
                        f"Client id {endpoint.client_id} is already in use by another application connected to "
                        f"TWS/IB Gateway at {endpoint.address}. Choose a different client id in the connection settings."
                    )
                )
            return
        if code == MARKET_DATA_FARM_BROKEN or code in MARKET_DATA_FARM_OK:
            # Farm news comes with every connect, before the session counts as connected.
            self._on_farm_message(code, text)
            return
        if not self._connected.is_set():
            return
        if code in IB_LINK_LOST:
            self.set_state(
                ConnectionState.IB_UNREACHABLE,
                "TWS/IB Gateway has lost its connection to Interactive Brokers; orders cannot reach the market until "
                "it is restored.",
            )
        elif code in IB_LINK_RESTORED:
            self.set_state(ConnectionState.CONNECTED, "TWS/IB Gateway is connected to Interactive Brokers again.")
            self._on_restored()
        else:
            log.debug("IBKR message %s: %s", code, text)

    def _on_disconnected(self) -> None:
        if self._closing or not self._connected.is_set():
            return
        self._connected.clear()
        self.set_state(
            ConnectionState.RECONNECTING, f"Lost the connection to TWS/IB Gateway at {self._endpoint().address}; reconnecting…"
        )
        self._on_lost()
        if not self.closed and (self._reconnect_task is None or self._reconnect_task.done()):
            self._reconnect_task = asyncio.ensure_future(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        for delay in self._policy.delays():
            await asyncio.sleep(delay)
            if self.closed:
                return
            async with self._lock:
                if self._connected.is_set():
                    return
                try:
                    await self._connect_once()
                    return
                except (EnvironmentMismatch, AuthError) as exc:
                    self._last_error = exc
                    self.set_state(ConnectionState.FAILED, str(exc))
                    return
                except BrokerError as exc:
                    self._last_error = exc
                    self.set_state(ConnectionState.RECONNECTING, f"{exc} Trying again…")
