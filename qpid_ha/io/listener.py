"""TCP listener: accept connections, cap their number, hand each to a handler task.

The protocol header is sniffed by the engine each connection gets (it answers the SASL and
the bare AMQP header, and refuses anything else with the header it supports, as Part 2
section 2.2 asks); TLS listeners come with ``ssl:`` addresses later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import cast

import anyio
import anyio.abc
from anyio.abc import SocketAttribute

__all__ = ["Listener"]

log = logging.getLogger("qpid_ha.io")


class Listener:
    """Listens on one TCP address and runs ``serve(stream)`` for each accepted connection.

    Accepting and serving are separate: :meth:`stop` stops accepting at once while the
    connection tasks, which run in the task group given to :meth:`accept_forever`, go on
    until their owner closes them gracefully.

    Args:
        serve: the per-connection coroutine; it owns the stream and must close it.
        host: the interface to bind (``127.0.0.1`` by default; ``0.0.0.0`` for all).
        port: the port; 0 picks a free one (read :attr:`port` after :meth:`start`).
        max_connections: connections beyond this are closed at once.
    """

    def __init__(
        self,
        serve: Callable[[anyio.abc.SocketStream], Awaitable[None]],
        host: str = "127.0.0.1",
        port: int = 0,
        max_connections: int = 10000,
    ) -> None:
        self.serve = serve
        self.host = host
        self.port = port
        self.max_connections = max_connections
        self.active = 0
        self.refused = 0
        self._listeners: list[anyio.abc.SocketListener] = []
        self._accepting = anyio.CancelScope()

    async def start(self) -> int:
        """Bind and return the bound port."""
        multi = await anyio.create_tcp_listener(local_host=self.host, local_port=self.port)
        self._listeners = [cast(anyio.abc.SocketListener, x) for x in multi.listeners]
        self.port = self._listeners[0].extra(SocketAttribute.local_port)
        return self.port

    async def accept_forever(self, handlers: anyio.abc.TaskGroup) -> None:
        """Accept until :meth:`stop`; each connection runs in ``handlers``."""
        with self._accepting:
            async with anyio.create_task_group() as tg:
                for listener in self._listeners:
                    tg.start_soon(self._accept_loop, listener, handlers)

    async def _accept_loop(
        self, listener: anyio.abc.SocketListener, handlers: anyio.abc.TaskGroup
    ) -> None:
        while True:
            try:
                stream = await listener.accept()
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                return
            except OSError as e:  # EMFILE and friends: log, back off briefly, go on
                log.warning("accept failed: %s", e)
                await anyio.sleep(0.1)
                continue
            if self.active >= self.max_connections:
                self.refused += 1
                log.warning("refusing a connection: %d connections open", self.active)
                await stream.aclose()
                continue
            self.active += 1
            handlers.start_soon(self._run, stream)

    async def _run(self, stream: anyio.abc.SocketStream) -> None:
        try:
            await self.serve(stream)
        finally:
            self.active -= 1

    async def stop(self) -> None:
        """Stop accepting and close the listening sockets."""
        self._accepting.cancel()
        for listener in self._listeners:
            await listener.aclose()
