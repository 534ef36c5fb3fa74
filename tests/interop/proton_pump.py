"""Pump bytes between our sans-IO engine and proton's C engine, all in memory.

A :class:`ProtonPeer` is proton's engine without any I/O: a ``proton.Transport`` bound to a
``proton.Connection`` that reports to a ``proton.Collector``. A :class:`Pump` joins it to one
of our :class:`qpid_ha.amqp.Connection` objects as a socket would: what our engine writes is
pushed into proton's transport tail, what proton's transport head holds is fed to our engine,
until neither side has anything left to say. An engine that is finished closes its end of
the "socket", and the other side sees end-of-stream.

Every byte that crosses is also recorded, split into protocol headers and frames, in a
:class:`WireLog` per direction, so tests can check frame sizes and count heartbeats. Time is
whatever the test says it is: :meth:`Pump.tick` runs both engines' timers at ``now``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from proton import Collector, Delivery, Event, EventType, Link, Session, Transport
from proton import Connection as ProtonConnection

from qpid_ha.amqp import Connection
from qpid_ha.amqp import Event as OurEvent
from qpid_ha.amqp.codec import DEFAULT_LIMITS
from qpid_ha.amqp.framing import parse_frame

__all__ = ["ProtonEvent", "ProtonPeer", "Pump", "WireFrame", "WireLog"]

E = TypeVar("E", bound=OurEvent)

# Rounds of "move bytes both ways" after which a pump gives up: a conversation between two
# engines that does not go quiet by then is looping.
_MAX_ROUNDS = 10_000


@dataclass(frozen=True)
class WireFrame:
    """One frame as it crossed the wire."""

    size: int
    frame_type: int  # 0 for AMQP, 1 for SASL
    channel: int
    raw: bytes  # the whole frame, header included

    @property
    def empty(self) -> bool:
        """A frame with no body: an AMQP heartbeat."""
        return self.size == 4 * self.raw[4]

    def decode(self) -> Any:
        """The frame's performative (or SASL frame), decoded by our codec."""
        r = parse_frame(self.raw, 0, self.size, DEFAULT_LIMITS)
        assert r is not None
        return r[3]

    def payload(self) -> bytes:
        """The bytes after the performative (a transfer's message bytes)."""
        r = parse_frame(self.raw, 0, self.size, DEFAULT_LIMITS)
        assert r is not None
        return r[4]


@dataclass
class WireLog:
    """One direction of the wire, split into protocol headers and frames."""

    headers: list[bytes] = field(default_factory=list)
    frames: list[WireFrame] = field(default_factory=list)
    _buf: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> None:
        """Record bytes that crossed in this direction."""
        buf = self._buf
        buf += data
        pos = 0
        while len(buf) - pos >= 8:
            if buf[pos : pos + 4] == b"AMQP":
                self.headers.append(bytes(buf[pos : pos + 8]))
                pos += 8
                continue
            size = int.from_bytes(buf[pos : pos + 4], "big")
            if len(buf) - pos < size:
                break
            raw = bytes(buf[pos : pos + size])
            self.frames.append(WireFrame(size, raw[5], int.from_bytes(raw[6:8], "big"), raw))
            pos += size
        del buf[:pos]

    @property
    def heartbeats(self) -> int:
        """How many empty frames crossed."""
        return sum(1 for f in self.frames if f.empty)

    def bodies(self) -> list[Any]:
        """The performatives of every non-empty frame, in order."""
        return [f.decode() for f in self.frames if not f.empty]

    def of_type(self, cls: type[Any]) -> list[WireFrame]:
        """The frames whose performative is a ``cls``."""
        return [f for f in self.frames if not f.empty and isinstance(f.decode(), cls)]


@dataclass(frozen=True)
class ProtonEvent:
    """What a proton collector event referred to, kept after the event is popped."""

    type: EventType
    connection: ProtonConnection | None
    session: Session | None
    link: Link | None
    delivery: Delivery | None


class ProtonPeer:
    """proton's engine, with no I/O: a Transport, a Connection and a Collector.

    Args:
        server: the transport plays the listening side.
        sasl_mechs: mechanisms proton allows (space separated); None skips SASL entirely.
        user, password: client credentials (PLAIN needs both).
        idle_timeout: proton's local idle timeout in seconds (it advertises half of it).
        max_frame_size: proton's max-frame-size, or None for its default.
        container: proton's container-id.
    """

    def __init__(
        self,
        *,
        server: bool,
        sasl_mechs: str | None = "ANONYMOUS",
        user: str | None = None,
        password: str | None = None,
        idle_timeout: float | None = None,
        max_frame_size: int | None = None,
        container: str = "proton",
    ) -> None:
        self.transport = Transport(Transport.SERVER if server else Transport.CLIENT)
        self.connection = ProtonConnection()
        self.connection.container = container
        self.collector = Collector()
        self.connection.collect(self.collector)
        self.events: list[ProtonEvent] = []
        if idle_timeout is not None:
            self.transport.idle_timeout = idle_timeout
        if max_frame_size is not None:
            self.transport.max_frame_size = max_frame_size
        if sasl_mechs is not None:
            sasl = self.transport.sasl()
            sasl.allowed_mechs(sasl_mechs)
            sasl.allow_insecure_mechs = True
        if user is not None:
            self.connection.user = user
        if password is not None:
            self.connection.password = password
        self.transport.bind(self.connection)

    def drain_events(self) -> int:
        """Move collector events into :attr:`events`; returns how many there were."""
        n = 0
        while (ev := self.collector.peek()) is not None:
            self.events.append(
                ProtonEvent(ev.type, ev.connection, ev.session, ev.link, ev.delivery)
            )
            self.collector.pop()
            n += 1
        return n

    def saw(self, etype: EventType) -> list[ProtonEvent]:
        """The recorded events of one type."""
        return [e for e in self.events if e.type == etype]

    def deliveries(self) -> list[Delivery]:
        """The deliveries proton reported through DELIVERY events, first-seen order, unique."""
        seen: list[Delivery] = []
        for e in self.saw(Event.DELIVERY):
            d = e.delivery
            if d is not None and all(d is not s for s in seen):
                seen.append(d)
        return seen


class Pump:
    """Join our engine and a proton peer as a socket would, and record what crosses.

    Args:
        ours: our engine.
        peer: proton's engine.
        on_proton_event: called for every proton event as it is collected (to answer
            opens, grant credit, ...); the pump keeps moving bytes afterwards.
    """

    def __init__(
        self,
        ours: Connection,
        peer: ProtonPeer,
        on_proton_event: Callable[[ProtonEvent], None] | None = None,
    ) -> None:
        self.ours = ours
        self.peer = peer
        self.on_proton_event = on_proton_event
        self.events: list[OurEvent] = []
        #: what our engine wrote, and what proton's transport wrote
        self.sent = WireLog()
        self.received = WireLog()
        self._to_proton = bytearray()
        self._proton_tail_closed = False
        self._our_eof = False

    def run(self) -> None:
        """Move bytes both ways until neither engine has anything left to send."""
        for _ in range(_MAX_ROUNDS):
            moved = self._to_peer()
            moved |= self._from_peer()
            moved |= self._proton_events()
            self.events.extend(self.ours.events())
            if not moved and not self._hang_up():
                return
        raise AssertionError(f"the engines were still talking after {_MAX_ROUNDS} rounds")

    def tick(self, now: float) -> None:
        """Run both engines' timers at ``now`` (seconds), then move the bytes they wrote."""
        self.ours.tick(now)
        self.peer.transport.tick(now)
        self.run()

    def tick_ours(self, now: float) -> float | None:
        """Run only our engine's timers at ``now``, then move bytes; returns its deadline."""
        deadline = self.ours.tick(now)
        self.run()
        return deadline

    def tick_proton(self, now: float) -> float:
        """Run only proton's timers at ``now``, then move bytes; returns its deadline."""
        deadline = self.peer.transport.tick(now)
        self.run()
        return deadline

    def ours_of(self, cls: type[E]) -> list[E]:
        """Our engine's events of one class, in order."""
        return [e for e in self.events if isinstance(e, cls)]

    def one(self, cls: type[E]) -> E:
        """Our engine's only event of one class."""
        found = self.ours_of(cls)
        assert len(found) == 1, f"expected one {cls.__name__}, got {found!r} in {self.events!r}"
        return found[0]

    # -- the "socket" ---------------------------------------------------------------------

    def _to_peer(self) -> bool:
        moved = False
        data = self.ours.data_to_send()
        if data:
            self.sent.feed(data)
            self._to_proton += data
            moved = True
        t = self.peer.transport
        while self._to_proton and not self._proton_tail_closed:
            cap = t.capacity()
            if cap < 0:
                # proton stopped reading: the rest is lost, as on a socket it closed
                self._proton_tail_closed = True
                self._to_proton.clear()
                break
            if cap == 0:
                break
            chunk = bytes(self._to_proton[:cap])
            t.push(chunk)
            del self._to_proton[:cap]
            moved = True
        return moved

    def _from_peer(self) -> bool:
        t = self.peer.transport
        pending = t.pending()
        if pending > 0:
            data = t.peek(pending)
            assert data is not None
            t.pop(pending)
            self.received.feed(data)
            self.ours.receive_data(data)
            return True
        return False

    def _hang_up(self) -> bool:
        """Once the bytes stopped moving, close what a finished engine would close."""
        if self.ours.finished and not self._to_proton and not self._proton_tail_closed:
            # our engine is done: the application closes the socket, proton reads EOS
            self._proton_tail_closed = True
            self.peer.transport.close_tail()
            return True
        if self.peer.transport.pending() < 0 and not self._our_eof:
            # proton closed its output: we read end-of-stream
            self._our_eof = True
            self.ours.receive_data(b"")
            return True
        return False

    def _proton_events(self) -> bool:
        start = len(self.peer.events)
        if not self.peer.drain_events():
            return False
        if self.on_proton_event is not None:
            for ev in self.peer.events[start:]:
                self.on_proton_event(ev)
        return True
