"""The async client connection, with transparent failover.

A :class:`Connection` owns one background task that keeps an AMQP connection to one of its
URLs alive. When the transport breaks (a killed broker, a silence longer than twice the
heartbeat, a backup refusing clients by dropping the socket) and ``reconnect`` is on, the
task walks the URL list with a growing delay until a broker opens, then brings every
session and link back under the same names, resends every message no broker has
acknowledged (in order) and grants receivers their credit again. Messages that were
delivered but not acknowledged are dropped locally: the old broker gives them back to the
queue, and they arrive again.

Usage::

    async with Connection("amqp:tcp:h1:5672,tcp:h2:5672", reconnect=True, heartbeat=2) as c:
        session = await c.session()
        sender = await session.sender("q;{create:always}")
        await sender.send(Message("hello"))
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import anyio
import anyio.abc

from ..amqp.connection import Connection as Engine
from ..amqp.events import (
    Authenticated,
    AuthenticationFailed,
    ConnectionClosed,
    ConnectionOpened,
    CreditGranted,
    DeliveryReceived,
    DeliveryUpdated,
    LinkAttached,
    LinkDetached,
    LinkDrained,
    SessionEnded,
)
from ..amqp.sasl import SaslClient
from ..errors import AuthenticationError, ConnectionFailed, InvalidArgument, QpidHaError
from ..io.driver import ConnectionDriver
from ..url import Address, parse_url

__all__ = ["ConnectError", "Connection"]

log = logging.getLogger("qpid_ha.client")


class ConnectError(ConnectionFailed):
    """No broker of the URL list could be reached (within the reconnect policy)."""

    default_condition = "amqp:connection:forced"


def _addresses(url: str | Sequence[str], extra: Sequence[str]) -> tuple[list[Address], Any]:
    urls = [url] if isinstance(url, str) else list(url)
    urls += list(extra)
    if not urls:
        raise InvalidArgument("a connection needs at least one URL")
    addresses: list[Address] = []
    credentials: Any = None
    for text in urls:
        parsed = parse_url(text)
        addresses.extend(parsed.addresses)
        if credentials is None and parsed.user is not None:
            credentials = (parsed.user, parsed.password)
    return addresses, credentials


class Connection:
    """An AMQP 1.0 client connection that fails over across its URLs.

    Args:
        url: a Qpid URL (``amqp:user/pass@tcp:h1:5672,tcp:h2:5672``), an ``amqp://`` URL, or
            a list of them; every address is a failover candidate, in order.
        reconnect: reconnect after the connection is lost (and retry the first connect).
        reconnect_urls: more addresses to fail over to.
        reconnect_timeout: give up reconnecting after this many seconds (None: never).
        reconnect_limit: give up after this many failed attempts (None: never).
        reconnect_interval_min: the first delay between attempts on the whole list.
        reconnect_interval_max: the delay doubles up to this.
        heartbeat: seconds; the broker is asked to send something at least this often, and
            a silence of twice this long (or a connect that does not open in that time)
            counts as a lost connection.
        username, password: credentials for SASL PLAIN (else ANONYMOUS).
        sasl_mechanisms: the mechanisms allowed, e.g. ``["PLAIN"]``.
        container_id: the AMQP container-id (kept across reconnects).
        properties: the open's properties (the tools send ``qpid.ha-admin``).
        connect_timeout: seconds for one attempt to reach an open, when there is no
            heartbeat to bound it.
    """

    def __init__(
        self,
        url: str | Sequence[str] = "amqp://127.0.0.1:5672",
        *,
        reconnect: bool = False,
        reconnect_urls: Sequence[str] = (),
        reconnect_timeout: float | None = None,
        reconnect_limit: int | None = None,
        reconnect_interval_min: float = 0.05,
        reconnect_interval_max: float = 2.0,
        heartbeat: float | None = None,
        username: str | None = None,
        password: str | None = None,
        sasl_mechanisms: Sequence[str] | None = None,
        container_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        self.addresses, credentials = _addresses(url, reconnect_urls)
        if credentials is not None and username is None:
            username, password = credentials
        if reconnect_interval_min <= 0 or reconnect_interval_max < reconnect_interval_min:
            raise InvalidArgument("reconnect intervals must be positive, min <= max")
        if heartbeat is not None and heartbeat <= 0:
            raise InvalidArgument("heartbeat must be positive")
        self.reconnect = reconnect
        self.reconnect_timeout = reconnect_timeout
        self.reconnect_limit = reconnect_limit
        self.reconnect_interval_min = reconnect_interval_min
        self.reconnect_interval_max = reconnect_interval_max
        self.heartbeat = heartbeat
        self.username = username
        self.password = password
        self.sasl_mechanisms = list(sasl_mechanisms) if sasl_mechanisms else None
        self.container_id = container_id or f"qpid-ha-client-{uuid.uuid4()}"
        self.properties = dict(properties or {})
        self.connect_timeout = connect_timeout
        #: the address of the broker currently connected, or None
        self.address: Address | None = None
        #: how many times the connection was re-established
        self.reconnects = 0
        self.engine: Engine | None = None
        self.generation = 0
        self.error: QpidHaError | None = None
        self._sessions: list[Any] = []
        self._tg: anyio.abc.TaskGroup | None = None
        self._driver: ConnectionDriver | None = None
        self._opened = anyio.Event()
        self._changed = anyio.Event()
        self._closing = False
        self._next = 0

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Connection:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect (following the reconnect policy) and start the connection's task.

        Raises:
            ConnectError: no broker could be reached.
            AuthenticationError: a broker refused the credentials.
        """
        if self._tg is not None:
            return
        tg = self._tg = anyio.create_task_group()
        await tg.__aenter__()
        tg.start_soon(self._run)
        try:
            await self._opened.wait()
        except BaseException:
            # Cancelled (a timeout around the open): leave the task group properly.
            self._tg = None
            tg.cancel_scope.cancel()
            await tg.__aexit__(*sys.exc_info())
            raise
        if self.engine is None or self.error is not None:
            error = self.error or ConnectError("could not connect")
            await self._shutdown()
            raise error

    async def close(self) -> None:
        """Close the connection (unacknowledged messages are not resent any more)."""
        if self._tg is None:
            return
        self._closing = True
        engine = self.engine
        if engine is not None and not engine.finished:
            engine.close()
            self.wakeup()
            with anyio.move_on_after(2):
                while self.engine is not None and not engine.finished:
                    await self.wait_changed()
        await self._shutdown()

    async def _shutdown(self) -> None:
        tg, self._tg = self._tg, None
        if tg is not None:
            tg.cancel_scope.cancel()
            await tg.__aexit__(None, None, None)
        self._notify()

    @property
    def opened(self) -> bool:
        """Connected to a broker now."""
        return self.engine is not None and self.engine.remote_open is not None

    async def session(self) -> Any:
        """A new session on this connection."""
        from .session import Session

        session = Session(self)
        self._sessions.append(session)
        session._restore()
        self.wakeup()
        return session

    def _forget_session(self, session: Any) -> None:
        if session in self._sessions:
            self._sessions.remove(session)

    # -- plumbing for sessions and links ----------------------------------------------------

    def wakeup(self) -> None:
        """Ask the I/O task to flush what the engine has to send."""
        if self._driver is not None:
            self._driver.wakeup()

    def _notify(self) -> None:
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    async def wait_changed(self) -> None:
        """Wait until something happens on the connection (an event, a reconnect)."""
        await self._changed.wait()

    def check(self) -> None:
        """Raise the connection's fatal error, if it has one."""
        if self.error is not None:
            raise self.error
        if self._tg is None:
            raise ConnectionFailed("the connection is closed")

    # -- the I/O task ---------------------------------------------------------------------

    async def _run(self) -> None:
        started = time.monotonic()
        attempts = 0  # whole passes over the address list that failed, since the last open
        failed_in_pass = 0
        delay = self.reconnect_interval_min
        while not self._closing:
            stream = await self._connect_once()
            if stream is not None:
                lost = await self._serve(stream)
                if lost is not None:  # it had opened, and broke
                    if not self.reconnect or self._closing:
                        self.error = self.error or lost
                        self._finish()
                        return
                    self.reconnects += 1
                    log.info("connection to %s lost (%s); reconnecting", self.address, lost)
                    started = time.monotonic()
                    attempts = failed_in_pass = 0
                    delay = self.reconnect_interval_min
                    continue
                if isinstance(self.error, AuthenticationError):
                    self._finish()
                    return
                # Connected but never opened (a backup dropping clients, a stopped process):
                # try the other addresses of this pass before counting the pass as failed.
                failed_in_pass += 1
                if failed_in_pass < len(self.addresses):
                    continue
            failed_in_pass = 0
            attempts += 1
            if not self._may_retry(attempts, started):
                self.error = self.error or ConnectError(
                    f"could not connect to {', '.join(str(a) for a in self.addresses)}"
                )
                self._finish()
                return
            await anyio.sleep(delay)
            delay = min(delay * 2, self.reconnect_interval_max)

    def _finish(self) -> None:
        self.engine = None
        self._opened.set()
        self._notify()

    def _may_retry(self, attempts: int, started: float) -> bool:
        if isinstance(self.error, AuthenticationError):
            return False
        if not self.reconnect:
            return False
        if self.reconnect_limit is not None and attempts > self.reconnect_limit:
            return False
        return not (
            self.reconnect_timeout is not None
            and time.monotonic() - started > self.reconnect_timeout
        )

    async def _connect_once(self) -> anyio.abc.SocketStream | None:
        """One pass over the address list, starting after the address used last."""
        n = len(self.addresses)
        for i in range(n):
            index = (self._next + i) % n
            address = self.addresses[index]
            if address.scheme != "tcp":
                log.warning("skipping %s: only tcp addresses are supported", address)
                continue
            try:
                with anyio.fail_after(self._attempt_timeout()):
                    stream = await anyio.connect_tcp(address.host, address.port)
            except (OSError, TimeoutError) as e:
                log.debug("connect to %s failed: %s", address, e)
                continue
            self.address = address
            # Whatever happens to this one, the next attempt starts with the next address.
            self._next = (index + 1) % n
            return stream
        return None

    def _attempt_timeout(self) -> float:
        return 2 * self.heartbeat if self.heartbeat else self.connect_timeout

    async def _serve(self, stream: anyio.abc.SocketStream) -> QpidHaError | None:
        """Run one transport until it ends; the error that ended it if it had opened."""
        engine = Engine(
            container_id=self.container_id,
            hostname=self.address.host if self.address else None,
            sasl=SaslClient.for_credentials(self.username, self.password, self.sasl_mechanisms),
            idle_timeout=2 * self.heartbeat if self.heartbeat else None,
            properties=self.properties or None,
        )
        engine.open()
        self.engine = engine
        self.generation += 1
        handler = _Handler(self, engine)
        driver = ConnectionDriver(
            stream,
            handler,
            handshake_timeout=self._attempt_timeout(),
            max_preauth_bytes=1 << 30,
        )
        self._driver = driver
        for session in list(self._sessions):
            session._restore()
        await driver.run()
        self._driver = None
        opened = handler.opened
        self.engine = None
        for session in list(self._sessions):
            session._lost()
        self._notify()
        if not opened:
            return None
        return handler.error or ConnectionFailed(f"connection to {self.address} lost")

    def _opened_now(self, engine: Engine) -> None:
        ro = engine.remote_open
        if ro is not None and ro.properties:
            self._adopt_failover_list(ro.properties.get("failover-server-list"))
        self._opened.set()
        self._notify()

    def _adopt_failover_list(self, servers: Any) -> None:
        """Qpid JMS's REPLACE policy: the current broker, then the ones it advertises."""
        if not isinstance(servers, list):
            return
        found: list[Address] = []
        for server in servers:
            if not isinstance(server, dict):
                continue
            host = server.get("network-host")
            port = server.get("port", 5672)
            scheme: Literal["tcp", "ssl"] = "ssl" if server.get("scheme") == "amqps" else "tcp"
            if isinstance(host, str) and isinstance(port, int | str):
                try:
                    found.append(Address(host=host, port=int(port), scheme=scheme))
                except (QpidHaError, ValueError, TypeError):
                    continue
        if found and self.address is not None:
            rest = [a for a in found if a != self.address]
            self.addresses = [self.address, *rest]
            self._next = 1 % len(self.addresses)


class _Handler:
    """Dispatches engine events to the sessions and links of a client Connection."""

    def __init__(self, connection: Connection, engine: Engine) -> None:
        self.connection = connection
        self.engine = engine
        self.opened = False
        self.error: QpidHaError | None = None

    def process(self) -> None:
        """Handle the engine's events."""
        conn = self.connection
        for event in self.engine.events():
            if isinstance(event, DeliveryUpdated):
                state = event.delivery.link.context
                if state is not None:
                    state._on_outcome(event)
            elif isinstance(event, DeliveryReceived):
                state = event.link.context
                if state is not None:
                    state._on_message(event)
            elif isinstance(event, CreditGranted | LinkDrained):
                state = event.link.context
                if state is not None:
                    state._on_flow()
            elif isinstance(event, LinkAttached):
                state = event.link.context
                if state is not None:
                    state._on_attached(event)
            elif isinstance(event, LinkDetached):
                state = event.link.context
                if state is not None:
                    state._on_detached(event)
            elif isinstance(event, ConnectionOpened):
                self.opened = True
                conn._opened_now(self.engine)
            elif isinstance(event, AuthenticationFailed):
                conn.error = AuthenticationError(event.description)
                self.error = conn.error
            elif isinstance(event, ConnectionClosed):
                if event.error is not None:
                    self.error = ConnectionFailed(
                        event.error.description or "", event.error.condition or None
                    )
            elif isinstance(event, SessionEnded | Authenticated):
                pass
        conn._notify()

    def pump(self) -> None:
        """Send what the senders have queued."""
        for session in self.connection._sessions:
            session._pump()

    def transport_closed(self) -> None:
        """Nothing to release here; the connection's task sees the driver return."""
