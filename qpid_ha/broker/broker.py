"""The :class:`Broker`: a listener, the model and the management node in one object.

Use it from async code::

    async with Broker(BrokerOptions(port=0)) as broker:
        print(broker.url)               # amqp://127.0.0.1:<port>
        broker.declare_queue("q", arguments={"qpid.max_count": 1000})
        ...

or from synchronous code (tests, scripts) with its own event loop thread::

    with Broker.running(BrokerOptions(port=0)) as broker:
        ...
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import anyio
import anyio.abc
import anyio.from_thread
import msgspec

from .._version import __version__
from ..amqp.connection import Connection
from ..amqp.performatives import Error
from ..amqp.sasl import AnonymousServer, PlainServer, SaslServer, ServerMechanism
from ..io.driver import ConnectionDriver
from ..io.listener import Listener
from .adapter import ANONYMOUS_RELAY, AmqpConnection
from .exchange import Binding, Exchange
from .management import ManagementNode
from .options import BrokerOptions
from .queue import Queue
from .registry import Registry

__all__ = ["Broker"]

log = logging.getLogger("qpid_ha.broker")

_CREDIT_WINDOW = 1000
T = TypeVar("T")


class Broker:
    """An AMQP 1.0 broker, embeddable in any anyio (asyncio or trio) program.

    Args:
        options: the daemon's settings (see :class:`BrokerOptions`); keyword arguments
            override single fields, e.g. ``Broker(port=0)``.

    Attributes:
        registry: the queues, exchanges and bindings.
        management: the ``$management`` node.
        container_id: this broker's AMQP container-id.
    """

    def __init__(self, options: BrokerOptions | None = None, **overrides: Any) -> None:
        options = options or BrokerOptions()
        if overrides:
            options = msgspec.structs.replace(options, **overrides)
        self.options = options
        self.container_id = f"qpid-ha-{uuid.uuid4()}"
        self.registry = Registry()
        self.connections: set[AmqpConnection] = set()
        self.management = ManagementNode(
            self.registry, connections=lambda: [c.info() for c in list(self.connections)]
        )
        #: credit granted to each producer link, topped up when half used
        self.credit_window = _CREDIT_WINDOW
        #: the properties of the broker's open (HA adds ``failover-server-list``)
        self.open_properties: dict[str, Any] = {"product": "qpid-ha", "version": __version__}
        self.port = 0
        self._loop_thread = 0
        self._listener: Listener | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._drained = anyio.Event()
        self._sasl = self._sasl_server()
        self._timer = anyio.Event()
        self.registry.wakeup = self._wake_housekeeping

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Broker:
        opts = self.options
        self._listener = Listener(
            self._serve,
            host=opts.interface,
            port=opts.port,
            max_connections=opts.max_connections,
        )
        self._loop_thread = threading.get_ident()
        self.port = await self._listener.start()
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._listener.accept_forever, self._tg)
        self._tg.start_soon(self._housekeeping)
        log.info("broker %s listening on %s", self.container_id, self.url)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._tg is not None and self._listener is not None
        await self._listener.stop()
        if self.connections:
            closing = Error(condition="amqp:connection:forced", description="broker shutdown")
            for conn in list(self.connections):
                conn.engine.close(closing)
                conn.wakeup()
            with anyio.move_on_after(2):
                await self._drained.wait()
        self._tg.cancel_scope.cancel()
        await self._tg.__aexit__(None, None, None)
        log.info("broker %s stopped", self.container_id)

    @classmethod
    @contextlib.contextmanager
    def running(cls, options: BrokerOptions | None = None, **overrides: Any) -> Iterator[Broker]:
        """Run a broker in a background event loop thread, for synchronous code."""
        with anyio.from_thread.start_blocking_portal() as portal:
            broker = cls(options, **overrides)
            with portal.wrap_async_context_manager(broker):
                broker._portal = portal
                yield broker

    _portal: anyio.from_thread.BlockingPortal | None = None

    # -- properties -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``amqp://host:port`` of the listener."""
        host = self.options.interface
        if host in ("0.0.0.0", "", "::"):
            host = "127.0.0.1"
        return f"amqp://{host}:{self.port}"

    # -- administration (also reachable through $management) --------------------------------

    def declare_queue(
        self,
        name: str,
        *,
        durable: bool = False,
        auto_delete: bool = False,
        exclusive: bool = False,
        arguments: Mapping[str, Any] | None = None,
    ) -> Queue:
        """Declare a queue (an existing one is returned as it is)."""
        return self._call(
            lambda: self.registry.declare_queue(
                name,
                durable=durable,
                auto_delete=auto_delete,
                exclusive=exclusive,
                arguments=arguments,
            )[0]
        )

    def declare_exchange(
        self,
        name: str,
        type: str = "direct",
        *,
        durable: bool = False,
        arguments: Mapping[str, Any] | None = None,
    ) -> Exchange:
        """Declare an exchange of ``type`` (direct, topic, fanout, headers)."""
        return self._call(
            lambda: self.registry.declare_exchange(
                name, type, durable=durable, arguments=arguments
            )[0]
        )

    def bind(
        self,
        exchange: str,
        queue: str,
        key: str = "",
        arguments: Mapping[str, Any] | None = None,
    ) -> Binding:
        """Bind ``queue`` to ``exchange`` with ``key``."""
        return self._call(lambda: self.registry.bind(exchange, queue, key, arguments))

    def _call(self, fn: Callable[[], T]) -> T:
        # From the broker's own event loop thread, call directly; from another thread (a
        # broker started with running()), run the call on the loop, where the model lives.
        portal = self._portal
        if portal is not None and threading.get_ident() != self._loop_thread:
            return portal.call(fn)
        return fn()

    # -- connections ------------------------------------------------------------------------

    def _sasl_server(self) -> SaslServer:
        opts = self.options
        users = dict(opts.users or {})
        if opts.ha_username and opts.ha_password:
            users.setdefault(opts.ha_username, opts.ha_password)
        mechanisms: list[ServerMechanism] = []
        for name in opts.offered_mechanisms:
            if name == "PLAIN" and users:
                mechanisms.append(PlainServer.from_users(users))
            elif name == "ANONYMOUS":
                mechanisms.append(AnonymousServer())
        if not mechanisms:
            mechanisms.append(AnonymousServer())
        return SaslServer(mechanisms)

    async def _serve(self, stream: anyio.abc.SocketStream) -> None:
        try:
            address = stream.extra(anyio.abc.SocketAttribute.remote_address)
            peer = f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)
        except (TypeError, ValueError, anyio.TypedAttributeLookupError):
            peer = "?"
        await self.serve_stream(stream, peer)

    async def serve_stream(self, stream: anyio.abc.ByteStream, peer: str = "memory") -> None:
        """Serve one connected byte stream as an AMQP connection until it ends.

        The listener calls this for each TCP connection; tests and custom transports call it
        with any anyio byte stream (see :func:`qpid_ha.testing.memory_stream_pair`).
        """
        opts = self.options
        engine = Connection(
            server=True,
            container_id=self.container_id,
            sasl=self._sasl,
            allow_bare_amqp=not opts.auth,
            max_frame_size=opts.max_frame_size,
            idle_timeout=opts.idle_timeout or None,
            offered_capabilities=(ANONYMOUS_RELAY,),
            properties=self.open_properties,
        )
        handler = AmqpConnection(self, engine, peer)
        driver = ConnectionDriver(
            stream,
            handler,
            handshake_timeout=opts.handshake_timeout,
            max_preauth_bytes=opts.max_preauth_bytes,
        )
        handler.wakeup = driver.wakeup
        self.connections.add(handler)
        self._drained = anyio.Event()
        await driver.run()

    def _connection_gone(self, conn: AmqpConnection) -> None:
        self.connections.discard(conn)
        if not self.connections:
            self._drained.set()

    async def _housekeeping(self) -> None:
        """The model's timed work: message expiry, auto-delete timeouts (one timer in all)."""
        while True:
            self._timer = anyio.Event()
            now = time.monotonic()
            deadline = self.registry.poll(now)
            delay = 1.0 if deadline is None else min(max(deadline - now, 0.0), 1.0)
            with anyio.move_on_after(delay):
                await self._timer.wait()  # set when the model gets an earlier deadline

    def _wake_housekeeping(self, deadline: float) -> None:
        self._timer.set()
