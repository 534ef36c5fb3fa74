"""One task per connection: drive a sans-IO engine over an anyio byte stream.

The loop reads whatever is available, lets the handler process every event, and writes
everything the engine produced in one send (design.md section 4: read all, process all, write
once). A second, tiny task does the reading, so that work started elsewhere (a message
arriving on a queue this connection consumes from) can wake the writer through
:meth:`ConnectionDriver.wakeup` without waiting for the peer to send anything.

The driver also enforces what the engine cannot know about: a handshake deadline for peers
that connect and stay silent or slow, and a cap on bytes accepted before the peer's open.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Protocol

import anyio
import anyio.abc

from ..amqp.connection import Connection
from ..amqp.performatives import Error

__all__ = ["ConnectionDriver", "ProtocolHandler"]

log = logging.getLogger("qpid_ha.io")

_READ_SIZE = 65536


class ProtocolHandler(Protocol):
    """What the driver needs from the layer above the engine (the broker's AMQP adapter)."""

    engine: Connection

    def process(self) -> None:
        """Handle the engine's pending events (called after each read)."""

    def pump(self) -> None:
        """Do pending outgoing work, such as sending queued messages to consumers."""

    def transport_closed(self) -> None:
        """The transport is gone: release everything the connection held."""


class ConnectionDriver:
    """Runs one connection until the engine is finished or the transport breaks.

    Args:
        stream: the connected byte stream.
        handler: the protocol handler holding the engine.
        handshake_timeout: seconds the peer has to complete its open (0 for no limit).
        max_preauth_bytes: bytes accepted before the peer's open has arrived.
    """

    def __init__(
        self,
        stream: anyio.abc.ByteStream,
        handler: ProtocolHandler,
        *,
        handshake_timeout: float = 10.0,
        max_preauth_bytes: int = 65536,
    ) -> None:
        self.stream = stream
        self.handler = handler
        self.handshake_timeout = handshake_timeout
        self.max_preauth_bytes = max_preauth_bytes
        self._wake = anyio.Event()
        self._abandoned = False

    def wakeup(self) -> None:
        """Ask the writer to run the handler's pump and flush (cheap; safe to call often)."""
        wake = self._wake
        if not wake.is_set():
            wake.set()

    async def run(self) -> None:
        """Drive the connection to its end, then close the stream."""
        engine = self.handler.engine
        started = time.monotonic()
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._read)
                await self._write_loop(engine, started)
                tg.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                with contextlib.suppress(
                    OSError, anyio.BrokenResourceError, anyio.ClosedResourceError
                ):
                    await self.stream.aclose()
                self.handler.transport_closed()

    async def _read(self) -> None:
        engine = self.handler.engine
        received = 0
        try:
            while not engine.finished:
                data = await self.stream.receive(_READ_SIZE)
                if engine.remote_open is None:
                    received += len(data)
                    if received > self.max_preauth_bytes:
                        log.info("closing a connection that sent %d bytes before open", received)
                        self._abandon()
                        return
                engine.receive_data(data)
                self._process()
                self.wakeup()
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            engine.receive_data(b"")
            self._process()
            self.wakeup()

    def _process(self) -> None:
        # A failure in the layer above ends this connection, never the server around it.
        try:
            self.handler.process()
        except Exception:
            log.exception("closing a connection after an internal error")
            self._fail()

    def _fail(self) -> None:
        engine = self.handler.engine
        if not engine.finished:
            engine.close(Error(condition="amqp:internal-error", description="internal error"))

    def _abandon(self) -> None:
        self._abandoned = True
        self.handler.engine.abort()
        self.wakeup()

    async def _write_loop(self, engine: Connection, started: float) -> None:
        send = self.stream.send
        while True:
            self._wake = anyio.Event()
            try:
                self.handler.pump()
            except Exception:
                log.exception("closing a connection after an internal error")
                self._fail()
            data = engine.data_to_send()
            if data and not self._abandoned:
                try:
                    await send(data)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                    engine.receive_data(b"")
                    self.handler.process()
                    return
            if engine.finished or self._abandoned:
                return
            now = time.monotonic()
            deadline = engine.tick(now)
            if engine.remote_open is None and self.handshake_timeout:
                limit = started + self.handshake_timeout
                if now >= limit:
                    log.info("closing a connection that did not open in %.1fs", now - started)
                    self._abandon()
                    return
                deadline = limit if deadline is None else min(deadline, limit)
            if engine.has_data_to_send:
                continue  # tick wrote a heartbeat or closed the connection
            if deadline is None:
                await self._wake.wait()
            else:
                with anyio.move_on_after(max(deadline - now, 0.0)):
                    await self._wake.wait()
