"""Client sessions, senders and receivers (qpid.messaging semantics over AMQP 1.0).

A :class:`Sender` keeps every message until the broker accepts it; at most ``capacity`` are
in flight. After a reconnect the connection re-attaches the link and the sender resends,
in order, everything still unaccepted. A :class:`Receiver` grants ``capacity`` credit
(prefetch) and hands messages out with :meth:`Receiver.fetch`; the session acknowledges
them. Messages fetched but not acknowledged when a connection is lost cannot be settled any
more: the broker gives them back to the queue, and they are delivered again.
"""

from __future__ import annotations

import itertools
import math
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

import anyio

from ..amqp.delivery_states import Accepted, Modified, Rejected, Released
from ..amqp.events import DeliveryReceived, DeliveryUpdated, LinkAttached, LinkDetached
from ..amqp.link import Delivery, Link
from ..amqp.performatives import Error
from ..amqp.session import Session as EngineSession
from ..errors import AmqpError, LinkError, NotFound, QpidHaError, UsageError
from .address import parse_address, reliability, source_for, target_for
from .message import Message, decode, encode

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["Empty", "MessageRejected", "Receiver", "Sender", "Session", "Timeout"]


class Timeout(QpidHaError):
    """An operation did not complete in the time allowed."""


class Empty(Timeout):
    """No message arrived in the time allowed."""


class MessageRejected(AmqpError):
    """The broker rejected a message (its condition says why, e.g. a full queue)."""

    default_condition = "amqp:internal-error"


def _link_error(error: Error | None, what: str) -> AmqpError:
    if error is None:
        return LinkError(f"{what} was detached by the broker")
    cls = NotFound if error.condition == "amqp:not-found" else LinkError
    return cls(error.description or what, error.condition)


def _deadline(timeout: float | None) -> float:
    return math.inf if timeout is None else time.monotonic() + timeout


class Session:
    """A session: a factory of senders and receivers, and the scope of acknowledgements."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.engine_session: EngineSession | None = None
        self._generation = -1
        self._links: list[Sender | Receiver] = []
        self._unacked: deque[tuple[Message, Delivery, int]] = deque()
        self.closed = False

    # -- connection plumbing ---------------------------------------------------------------

    def _restore(self) -> None:
        conn = self.connection
        engine = conn.engine
        if engine is None or self.closed or self._generation == conn.generation:
            return
        self._generation = conn.generation
        self.engine_session = engine.begin()
        # Deliveries of the lost connection can no longer be settled; the broker redelivers.
        self._unacked.clear()
        for link in self._links:
            link._restore(self.engine_session)

    def _lost(self) -> None:
        self.engine_session = None
        for link in self._links:
            link._lost()

    def _pump(self) -> None:
        for link in self._links:
            if isinstance(link, Sender):
                link._pump()

    # -- links ------------------------------------------------------------------------------

    async def sender(self, address: str, *, capacity: int = 50, name: str | None = None) -> Sender:
        """A sender to ``address`` (qpid.messaging syntax), attached when this returns.

        Raises:
            NotFound: the node does not exist (and the address does not create it).
            LinkError: the broker refused the link for another reason.
        """
        sender = Sender(self, address, capacity, name)
        await self._attach(sender)
        return sender

    async def receiver(
        self, address: str, *, capacity: int = 10, name: str | None = None
    ) -> Receiver:
        """A receiver from ``address`` (qpid.messaging syntax), attached when this returns."""
        receiver = Receiver(self, address, capacity, name)
        await self._attach(receiver)
        return receiver

    async def _attach(self, link: Sender | Receiver) -> None:
        self._check()
        self._links.append(link)
        if self.engine_session is not None:
            link._restore(self.engine_session)
        self.connection.wakeup()
        try:
            await link._wait(lambda: link.attached or link.error is not None)
        except BaseException:
            self._links.remove(link)
            raise
        if link.error is not None:
            self._links.remove(link)
            raise link.error

    def _check(self) -> None:
        if self.closed:
            raise UsageError("the session is closed")
        self.connection.check()

    # -- acknowledgements -------------------------------------------------------------------

    def _received(self, message: Message, delivery: Delivery) -> None:
        self._unacked.append((message, delivery, self.connection.generation))

    def _settle(self, message: Message | None, action: str) -> None:
        generation = self.connection.generation
        keep: deque[tuple[Message, Delivery, int]] = deque()
        for item in self._unacked:
            msg, delivery, gen = item
            if message is not None and msg is not message:
                keep.append(item)
                continue
            if gen == generation and not delivery.settled and delivery.link.attached:
                if action == "accept":
                    delivery.accept()
                elif action == "reject":
                    delivery.reject()
                else:
                    delivery.release()
        self._unacked = keep
        self.connection.wakeup()

    def acknowledge(self, message: Message | None = None) -> None:
        """Accept ``message``, or every message fetched on this session so far."""
        self._settle(message, "accept")

    def reject(self, message: Message) -> None:
        """Reject ``message``: the broker does not deliver it again."""
        self._settle(message, "reject")

    def release(self, message: Message) -> None:
        """Release ``message``: the broker may deliver it again, to anyone."""
        self._settle(message, "release")

    @property
    def unacked(self) -> int:
        """Messages fetched and not yet acknowledged."""
        return len(self._unacked)

    async def close(self) -> None:
        """Detach every link and end the session."""
        for link in list(self._links):
            await link.close()
        self.closed = True
        if self.engine_session is not None:
            self.engine_session.end()
            self.connection.wakeup()
        self.connection._forget_session(self)


class _LinkBase:
    """What senders and receivers share: the engine link of the current connection."""

    def __init__(self, session: Session, address: str, name: str | None) -> None:
        self.session = session
        self.address = parse_address(address)
        self.name = name or f"{address.split(';')[0]}-{uuid.uuid4()}"
        self.snd_settle_mode, self.rcv_settle_mode = reliability(self.address)
        self.link: Link | None = None
        self.error: AmqpError | None = None
        self.closed = False

    @property
    def attached(self) -> bool:
        """Attached on the current connection."""
        link = self.link
        return link is not None and link.attached and link.remote_detach is None

    async def _wait(self, condition: Any, deadline: float = math.inf) -> None:
        conn = self.session.connection
        while not condition():
            if self.error is not None:
                raise self.error
            conn.check()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout("timed out")
            with anyio.move_on_after(remaining if remaining != math.inf else None):
                await conn.wait_changed()

    def _lost(self) -> None:
        self.link = None

    def _on_attached(self, event: LinkAttached) -> None:
        pass

    def _on_detached(self, event: LinkDetached) -> None:
        if not self.closed and event.by_peer:
            self.error = _link_error(event.error, f"link {self.name!r}")

    def _on_flow(self) -> None:
        pass

    async def close(self) -> None:
        """Detach the link."""
        self.closed = True
        link = self.link
        if link is not None and link.local.value == "active":
            link.detach()
            self.session.connection.wakeup()
        if self in self.session._links:
            self.session._links.remove(self)


class _Out:
    """A message a sender holds until the broker accepts it."""

    __slots__ = ("data", "delivery", "done", "error", "seq")

    def __init__(self, seq: int, data: bytes) -> None:
        self.seq = seq
        self.data = data
        self.delivery: Delivery | None = None
        self.done = False
        self.error: AmqpError | None = None


class Sender(_LinkBase):
    """Sends messages to one address; at most ``capacity`` unacknowledged at a time."""

    def __init__(self, session: Session, address: str, capacity: int, name: str | None) -> None:
        super().__init__(session, address, name)
        if capacity < 1:
            raise UsageError("a sender's capacity must be at least 1")
        self.capacity = capacity
        self.target = target_for(self.address)
        self._pending: dict[int, _Out] = {}  # insertion-ordered: the resend order
        self._unsent: deque[_Out] = deque()
        self._seq = itertools.count()
        self._failure: AmqpError | None = None
        #: messages sent again after a reconnect
        self.resent = 0

    def _restore(self, engine_session: EngineSession) -> None:
        link = engine_session.attach_sender(
            self.name,
            target=self.target,
            source=None,
            snd_settle_mode=self.snd_settle_mode,
            rcv_settle_mode=self.rcv_settle_mode,
        )
        link.context = self
        if self.link is None and self._pending:
            self.resent += sum(1 for o in self._pending.values() if o.delivery is not None)
        self.link = link
        # Everything not yet accepted goes out again, in the order it was first sent.
        for o in self._pending.values():
            o.delivery = None
        self._unsent = deque(self._pending.values())

    def _pump(self) -> None:
        link = self.link
        if link is None or not link.attached:
            return
        unsent = self._unsent
        while unsent and link.credit > 0:
            o = unsent.popleft()
            delivery = link.send(o.data)
            if delivery.settled:
                self._complete(o, None)
            else:
                delivery.context = o
                o.delivery = delivery

    def _on_flow(self) -> None:
        self._pump()

    def _on_outcome(self, event: DeliveryUpdated) -> None:
        o = event.delivery.context
        if not isinstance(o, _Out) or o.done:
            return
        state = event.state
        if isinstance(state, Accepted):
            self._complete(o, None)
        elif isinstance(state, Rejected):
            error = state.error
            self._complete(
                o,
                MessageRejected(
                    (error.description if error else None) or "message rejected",
                    error.condition if error else None,
                ),
            )
        elif isinstance(state, Released | Modified) and event.settled:
            # Not processed: send it again (after whatever is already waiting).
            o.delivery = None
            self._unsent.append(o)
            self._pump()

    def _complete(self, o: _Out, error: AmqpError | None) -> None:
        o.done = True
        o.error = error
        self._pending.pop(o.seq, None)
        if error is not None and self._failure is None:
            self._failure = error

    @property
    def unsettled(self) -> int:
        """Messages sent (or queued) and not yet acknowledged by the broker."""
        return len(self._pending)

    async def send(
        self, message: Message | Any, *, sync: bool = True, timeout: float | None = None
    ) -> None:
        """Send a message (a :class:`Message`, or any content to wrap in one).

        Waits while ``capacity`` messages are unacknowledged. With ``sync`` it returns once
        the broker accepted the message; otherwise at once, and a later call raises if a
        message was rejected meanwhile.

        Raises:
            MessageRejected: the broker rejected this (or an earlier) message.
            Timeout: ``timeout`` passed first.
        """
        self._raise_failure()
        deadline = _deadline(timeout)
        if len(self._pending) >= self.capacity:
            await self._wait(lambda: len(self._pending) < self.capacity, deadline)
        data = encode(message if isinstance(message, Message) else Message(message))
        o = _Out(next(self._seq), data)
        self._pending[o.seq] = o
        self._unsent.append(o)
        self._pump()
        self.session.connection.wakeup()
        if sync:
            await self._wait(lambda: o.done, deadline)
            if o.error is not None:
                self._failure = None
                raise o.error

    async def sync(self, timeout: float | None = None) -> None:
        """Wait until the broker acknowledged everything sent so far."""
        await self._wait(lambda: not self._pending, _deadline(timeout))
        self._raise_failure()

    def _raise_failure(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure


class Receiver(_LinkBase):
    """Receives messages from one address, prefetching up to ``capacity``."""

    def __init__(self, session: Session, address: str, capacity: int, name: str | None) -> None:
        super().__init__(session, address, name)
        if capacity < 0:
            raise UsageError("a receiver's capacity cannot be negative")
        self.capacity = capacity
        self.source = source_for(self.address)
        self._queue: deque[tuple[Message, Delivery]] = deque()
        self._fetching = 0

    def _restore(self, engine_session: EngineSession) -> None:
        link = engine_session.attach_receiver(
            self.name,
            source=self.source,
            target=None,
            snd_settle_mode=self.snd_settle_mode,
            rcv_settle_mode=self.rcv_settle_mode,
        )
        link.context = self
        self.link = link
        self._queue.clear()  # prefetched on the lost connection: the broker redelivers them
        if self.capacity:
            link.flow(self.capacity)
        elif self._fetching:
            link.flow(1)  # a fetch is waiting on a receiver without prefetch

    def _on_message(self, event: DeliveryReceived) -> None:
        self._queue.append((decode(event.payload), event.delivery))

    @property
    def available(self) -> int:
        """Messages prefetched and not yet fetched."""
        return len(self._queue)

    async def fetch(self, timeout: float | None = None) -> Message:
        """The next message; waits up to ``timeout`` seconds (None: for ever).

        Raises:
            Empty: no message arrived in time.
        """
        deadline = _deadline(timeout)
        link = self.link
        if not self._queue and self.capacity == 0 and link is not None and link.credit == 0:
            link.flow(1)
            self.session.connection.wakeup()
        self._fetching += 1
        try:
            await self._wait(lambda: bool(self._queue), deadline)
        except Timeout:
            raise Empty(f"no message on {self.address.name!r} within {timeout} s") from None
        finally:
            self._fetching -= 1
        message, delivery = self._queue.popleft()
        self.session._received(message, delivery)
        message._settler = self.session._settle
        link = self.link
        if link is not None and self.capacity and link.credit <= self.capacity // 2:
            link.flow(self.capacity - len(self._queue))
            self.session.connection.wakeup()
        if delivery.remote_settled:  # at-most-once: nothing to acknowledge
            self.session._unacked.pop()
        return message

    async def get(self, timeout: float | None = 0) -> Message | None:
        """Like :meth:`fetch`, but None instead of :class:`Empty`."""
        try:
            return await self.fetch(timeout)
        except Empty:
            return None

    def __aiter__(self) -> Receiver:
        return self

    async def __anext__(self) -> Message:
        return await self.fetch()
