"""An in-memory, connected pair of anyio byte streams (a socketpair without sockets)."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["MemoryByteStream", "memory_stream_pair"]


class MemoryByteStream(anyio.abc.ByteStream):
    """One end of an in-memory byte stream pair; see :func:`memory_stream_pair`."""

    def __init__(
        self, send: MemoryObjectSendStream[bytes], receive: MemoryObjectReceiveStream[bytes]
    ) -> None:
        self._send = send
        self._receive = receive
        self._pending = b""

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Bytes the other end sent; raises ``anyio.EndOfStream`` once it closed."""
        if not self._pending:
            self._pending = await self._receive.receive()
        data, self._pending = self._pending[:max_bytes], self._pending[max_bytes:]
        return data

    async def send(self, item: bytes) -> None:
        """Send bytes to the other end."""
        if item:
            await self._send.send(bytes(item))

    async def send_eof(self) -> None:
        """Close the sending direction: the other end reads end-of-stream."""
        await self._send.aclose()

    async def aclose(self) -> None:
        """Close both directions."""
        await self._send.aclose()
        await self._receive.aclose()

    @property
    def extra_attributes(self) -> Any:
        """No socket attributes: an in-memory stream has no address."""
        return {}


def memory_stream_pair(buffer: int = 1024) -> tuple[MemoryByteStream, MemoryByteStream]:
    """Two connected byte streams: what one sends, the other receives."""
    a_send, b_receive = anyio.create_memory_object_stream[bytes](buffer)
    b_send, a_receive = anyio.create_memory_object_stream[bytes](buffer)
    return MemoryByteStream(a_send, a_receive), MemoryByteStream(b_send, b_receive)
