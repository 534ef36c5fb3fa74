"""Sessions (OASIS AMQP 1.0 Part 2, section 2.5).

A session maps a pair of channels, numbers the transfers and deliveries in each direction,
and enforces the session windows of section 2.5.6: we never send a transfer the peer's
incoming window does not admit (those wait here until its flow opens the window), and a
peer that overruns our window ends the session with ``amqp:session:window-violation``.
Dispositions and flows the application asks for are queued and written once per output
batch, dispositions coalesced into ranges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import FramingError, UsageError
from . import conditions
from ._state import EndpointState
from .events import (
    CreditGranted,
    DeliveryAborted,
    DeliveryReceived,
    DeliveryUpdated,
    LinkAttached,
    LinkDetached,
    LinkDrained,
)
from .link import Delivery, Link
from .performatives import (
    Attach,
    Begin,
    Detach,
    Disposition,
    End,
    Error,
    Flow,
    Role,
    Transfer,
)

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["Session"]

_MASK = 0xFFFFFFFF
DEFAULT_WINDOW = 0x7FFFFFFF


class SessionFault(Exception):
    """Internal: the peer broke a session rule; the session ends with ``error``."""

    def __init__(self, condition: str, description: str) -> None:
        super().__init__(description)
        self.error = Error(condition=condition, description=description)


class LinkFault(Exception):
    """Internal: the peer broke a link rule; the link detaches with ``error``."""

    def __init__(self, link: Link, condition: str, description: str) -> None:
        super().__init__(description)
        self.link = link
        self.error = Error(condition=condition, description=description)


class Session:
    """One session; made by :meth:`Connection.begin` or by the peer's begin.

    Attributes:
        channel: our channel, or None before we begin.
        remote_channel: the peer's channel, or None before its begin arrives.
        links: every link by name that is not yet fully detached.
        incoming_window: the window we advertise, in transfer frames.
        remote_begin: the peer's begin.
        context: free for the application.
    """

    def __init__(self, connection: Connection, incoming_window: int = DEFAULT_WINDOW) -> None:
        self.connection = connection
        self.channel: int | None = None
        self.remote_channel: int | None = None
        self.local = EndpointState.UNINIT
        self.remote = EndpointState.UNINIT
        self.remote_begin: Begin | None = None
        self.links: dict[tuple[str, bool], Link] = {}
        self.context: Any = None
        self.handle_max = 0xFFFFFFFF
        # our side of the session flow state
        self.incoming_window = incoming_window
        self._window_size = incoming_window
        self.next_incoming_id = 0
        self.next_outgoing_id = 0
        self._next_delivery_id = 0
        # the peer's side
        self._remote_incoming_window = 0
        self._remote_next_incoming_id = 0
        self._remote_handle_max = 0xFFFFFFFF
        self._handles: dict[int, Link] = {}  # our handle -> link
        self._remote_handles: dict[int, Link] = {}  # peer handle -> link
        self._unsettled_out: dict[int, Delivery] = {}  # deliveries we sent
        self._unsettled_in: dict[int, Delivery] = {}  # deliveries we received
        self._blocked: list[tuple[Transfer, bytes]] = []  # transfers waiting for window
        self._dispositions: list[tuple[bool, int, bool, Any]] = []
        self._flows: list[Link] = []
        self._session_flow = False
        self._queued = False

    @property
    def remote_incoming_window(self) -> int:
        """How many more transfer frames the peer's window admits now."""
        return self._remote_incoming_window

    @property
    def blocked_transfers(self) -> int:
        """Transfer frames waiting for the peer's window to open."""
        return len(self._blocked)

    # -- application commands -------------------------------------------------------------

    def begin(self, handle_max: int = 0xFFFFFFFF) -> None:
        """Send our begin; for a session the peer started, this answers its begin."""
        if self.local is not EndpointState.UNINIT:
            raise UsageError("session already begun")
        self.handle_max = handle_max
        self.connection._begin_session(self)
        self.local = EndpointState.ACTIVE
        self.connection._write(
            self.channel,
            Begin(
                remote_channel=self.remote_channel,
                next_outgoing_id=self.next_outgoing_id,
                incoming_window=self.incoming_window,
                outgoing_window=DEFAULT_WINDOW,
                handle_max=handle_max,
            ),
        )

    def end(self, error: Error | None = None) -> None:
        """Send our end (after any queued dispositions and flows)."""
        if self.local is not EndpointState.ACTIVE:
            return
        self._flush()
        self.local = EndpointState.CLOSED
        for link in self.links.values():
            link.local = EndpointState.CLOSED
        self.connection._write(self.channel, End(error=error))
        self.connection._session_ended_locally(self)

    def attach_sender(self, name: str, target: Any = None, source: Any = None, **kw: Any) -> Link:
        """Create a sender link and send its attach (keywords as :meth:`Link.attach`)."""
        return self._attach_new(name, Role.SENDER, source, target, kw)

    def attach_receiver(self, name: str, source: Any = None, target: Any = None, **kw: Any) -> Link:
        """Create a receiver link and send its attach (keywords as :meth:`Link.attach`)."""
        return self._attach_new(name, Role.RECEIVER, source, target, kw)

    def _attach_new(self, name: str, role: bool, source: Any, target: Any, kw: Any) -> Link:
        link = self._new_link(name, role)
        try:
            link.attach(source=source, target=target, **kw)
        except BaseException:
            del self.links[name, role]
            raise
        return link

    def _new_link(self, name: str, role: bool) -> Link:
        if self.local is not EndpointState.ACTIVE:
            raise UsageError("session is not begun")
        if (name, role) in self.links:
            raise UsageError(f"a link named {name!r} in that role is already on this session")
        link = Link(self, name, role)
        self.links[name, role] = link
        return link

    # -- link plumbing called by Link -----------------------------------------------------

    def _attach_link(self, link: Link, attach: Attach) -> None:
        if self.local is not EndpointState.ACTIVE:
            raise UsageError("session is not begun")
        limit = min(self._remote_handle_max, self.handle_max)
        handle = 0
        while handle in self._handles:
            handle += 1
        if handle > limit:
            raise UsageError("no free link handle on this session")
        self.connection._write(self.channel, attach.__replace__(handle=handle))
        link.handle = handle
        self._handles[handle] = link
        link.local = EndpointState.ACTIVE

    def _detach_link(self, link: Link, error: Error | None, closed: bool) -> None:
        self._flush()
        link.local = EndpointState.CLOSED
        self.connection._write(self.channel, Detach(handle=link.handle, closed=closed, error=error))
        if link.remote is EndpointState.CLOSED:
            self._forget_link(link)

    def _forget_link(self, link: Link) -> None:
        if link.handle is not None and self._handles.get(link.handle) is link:
            del self._handles[link.handle]
        if link.remote_handle is not None and self._remote_handles.get(link.remote_handle) is link:
            del self._remote_handles[link.remote_handle]
        if self.links.get((link.name, link.role)) is link:
            del self.links[link.name, link.role]
        # Unsettled deliveries of a gone link can never be settled over this session.
        for table in (self._unsettled_in, self._unsettled_out):
            stale = [k for k, d in table.items() if d.link is link]
            for k in stale:
                del table[k]

    def _send_transfer(
        self,
        link: Link,
        delivery: Delivery,
        payload: bytes,
        first: bool,
        settled: bool,
        message_format: int,
        more: bool,
        state: Any,
    ) -> None:
        conn = self.connection
        handle = link.handle
        if first:
            head = Transfer(
                handle=handle,
                delivery_id=delivery.delivery_id,
                delivery_tag=delivery.tag,
                message_format=message_format,
                settled=settled or None,
                more=more,
                state=state,
            )
        else:
            head = Transfer(handle=handle, more=more)
        room = conn._transfer_room(head)
        if len(payload) <= room:
            self._push_transfer(head, payload)
            return
        # Split across frames (Part 2 section 2.6.14); later frames carry only the handle.
        self._push_transfer(head.__replace__(more=True), payload[:room])
        pos = room
        cont = Transfer(handle=handle, more=True)
        room = conn._transfer_room(cont)
        n = len(payload)
        while pos < n:
            chunk = payload[pos : pos + room]
            pos += room
            self._push_transfer(cont if pos < n or more else Transfer(handle=handle), chunk)

    def _send_abort(self, link: Link, delivery: Delivery) -> None:
        self._push_transfer(Transfer(handle=link.handle, aborted=True, settled=True), b"")

    def _push_transfer(self, transfer: Transfer, payload: bytes) -> None:
        if self._blocked or self._remote_incoming_window <= 0:
            self._blocked.append((transfer, payload))
            return
        self._remote_incoming_window -= 1
        self.next_outgoing_id = (self.next_outgoing_id + 1) & _MASK
        self.connection._write(self.channel, transfer, payload)

    def _release_blocked(self) -> None:
        blocked = self._blocked
        i = 0
        write = self.connection._write
        while i < len(blocked) and self._remote_incoming_window > 0:
            transfer, payload = blocked[i]
            self._remote_incoming_window -= 1
            self.next_outgoing_id = (self.next_outgoing_id + 1) & _MASK
            write(self.channel, transfer, payload)
            i += 1
        del blocked[:i]

    def _queue_disposition(self, delivery: Delivery, state: Any, settled: bool) -> None:
        link = delivery.link
        if self.local is not EndpointState.ACTIVE or link.local is not EndpointState.ACTIVE:
            raise UsageError("the delivery's link or session is no longer attached")
        if settled:
            table = self._unsettled_in if link.is_receiver else self._unsettled_out
            table.pop(delivery.delivery_id, None)
        if delivery.remote_settled and link.is_receiver and settled:
            # The sender already forgot it (it was sent settled): nothing to say.
            return
        self._dispositions.append((link.role, delivery.delivery_id, settled, state))
        if not self._queued:
            self._queued = True
            self.connection._queue_session(self)

    def _queue_flow(self, link: Link | None) -> None:
        if link is not None:
            self._flows.append(link)
        else:
            self._session_flow = True
        if not self._queued:
            self._queued = True
            self.connection._queue_session(self)

    def _flush(self) -> None:
        """Write queued flows and dispositions (called once per output batch)."""
        self._queued = False
        if self.local is not EndpointState.ACTIVE:
            self._flows.clear()
            self._dispositions.clear()
            return
        write = self.connection._write
        channel = self.channel
        if self._flows:
            flows, self._flows = self._flows, []
            for link in flows:
                link._flow_pending = False
                if link.local is EndpointState.ACTIVE:
                    write(channel, self._flow_frame(link))
            self._session_flow = False
        elif self._session_flow:
            self._session_flow = False
            write(channel, self._flow_frame(None))
        if self._dispositions:
            items, self._dispositions = self._dispositions, []
            role, first, settled, state = items[0]
            last = first
            for r, did, s, st in items[1:]:
                if r is role and s is settled and did == last + 1 and st == state:
                    last = did
                    continue
                write(channel, _disposition(role, first, last, settled, state))
                role, first, last, settled, state = r, did, did, s, st
            write(channel, _disposition(role, first, last, settled, state))

    def _flow_frame(self, link: Link | None) -> Flow:
        next_incoming_id = self.next_incoming_id if self.remote_begin else None
        if link is None:
            return Flow(
                next_incoming_id=next_incoming_id,
                incoming_window=self.incoming_window,
                next_outgoing_id=self.next_outgoing_id,
                outgoing_window=DEFAULT_WINDOW,
            )
        drain = link.drain
        if link.is_sender:
            drain = link._flow_drain_reply or link.drain
            link._flow_drain_reply = False
        echo, link._echo = link._echo, False
        return Flow(
            next_incoming_id=next_incoming_id,
            incoming_window=self.incoming_window,
            next_outgoing_id=self.next_outgoing_id,
            outgoing_window=DEFAULT_WINDOW,
            handle=link.handle,
            delivery_count=link.delivery_count,
            link_credit=link.credit,
            available=link.available,
            drain=drain,
            echo=echo,
        )

    # -- frames from the peer -------------------------------------------------------------

    def _on_begin(self, begin: Begin) -> None:
        self.remote_begin = begin
        self.remote = EndpointState.ACTIVE
        self._remote_handle_max = begin.handle_max
        self.next_incoming_id = begin.next_outgoing_id or 0
        self._remote_next_incoming_id = self.next_outgoing_id
        self._remote_incoming_window = begin.incoming_window or 0

    def _on_attach(self, attach: Attach) -> None:
        handle = attach.handle
        assert handle is not None and attach.name is not None
        if handle > self.handle_max:
            # Part 2 section 2.7.2: a handle beyond handle-max is a connection framing-error.
            raise FramingError(f"handle {handle} exceeds handle-max {self.handle_max}")
        if handle in self._remote_handles:
            raise SessionFault(conditions.HANDLE_IN_USE, f"handle {handle} is already in use")
        # A link is named by its name and direction (Part 2 section 2.6.1): proton gives a
        # sender and a receiver to the same address the same name.
        role = not attach.role
        link = self.links.get((attach.name, role))
        if link is None or link.remote is not EndpointState.UNINIT:
            if link is not None:
                raise SessionFault(
                    conditions.HANDLE_IN_USE, f"link {attach.name!r} is already attached"
                )
            link = Link(self, attach.name, role)
            self.links[attach.name, role] = link
            # Settle modes as the peer asked, until the application answers.
            link.snd_settle_mode = attach.snd_settle_mode
            link.rcv_settle_mode = attach.rcv_settle_mode
        elif link.is_sender:
            # Our attach came first. Part 2 section 2.7.3: each end decides its own settle
            # mode; the other end's value is only a request. The receiver's is the peer's.
            link.rcv_settle_mode = attach.rcv_settle_mode
        else:
            link.snd_settle_mode = attach.snd_settle_mode
        link.remote_handle = handle
        link.remote_attach = attach
        link.remote = EndpointState.ACTIVE
        self._remote_handles[handle] = link
        if link.is_receiver:
            link.delivery_count = attach.initial_delivery_count or 0
        self.connection._emit(LinkAttached(link, attach))

    def _link_for(self, handle: int | None) -> Link:
        link = self._remote_handles.get(handle) if handle is not None else None
        if link is None:
            raise SessionFault(conditions.UNATTACHED_HANDLE, f"handle {handle} is not attached")
        return link

    def _on_detach(self, detach: Detach) -> None:
        link = self._link_for(detach.handle)
        link.remote_detach = detach
        link.remote = EndpointState.CLOSED
        if link._partial is not None:
            self._unsettled_in.pop(link._partial.delivery_id, None)
            link._partial = None
        replied = link.local is EndpointState.ACTIVE
        if replied:
            # Answer at once: the peer's detach leaves nothing for the application to decide.
            self._flush()
            link.local = EndpointState.CLOSED
            self.connection._write(self.channel, Detach(handle=link.handle, closed=detach.closed))
        del self._remote_handles[detach.handle]  # type: ignore[arg-type]
        if link.local is not EndpointState.UNINIT:
            self._forget_link(link)
        elif self.links.get((link.name, link.role)) is link:
            del self.links[link.name, link.role]
        self.connection._emit(LinkDetached(link, detach.error, detach.closed, True))

    def _on_flow(self, flow: Flow) -> None:
        # Session flow state (Part 2 section 2.5.6).
        nii = flow.next_incoming_id
        if nii is None:
            nii = 0  # the peer has not seen our begin yet: it counts from our initial id
        self._remote_incoming_window = (
            nii + (flow.incoming_window or 0) - self.next_outgoing_id
        ) & _MASK
        if self._remote_incoming_window > DEFAULT_WINDOW * 2:
            self._remote_incoming_window = 0  # the peer counted past what we sent: no room
        if self._blocked:
            self._release_blocked()
        if flow.handle is None:
            if flow.echo:
                self._queue_flow(None)
            return
        link = self._link_for(flow.handle)
        if link.local is EndpointState.CLOSED:
            return
        if link.is_sender:
            dc = flow.delivery_count
            if dc is None:
                # The receiver has not seen our attach: its credit counts from our initial count.
                dc = link._initial_delivery_count
            credit = ((dc + (flow.link_credit or 0) - link.delivery_count) + 0x80000000) & _MASK
            link.credit = max(credit - 0x80000000, 0)
            link.drain = flow.drain
            self.connection._emit(CreditGranted(link, link.credit, flow.drain))
        else:
            if flow.delivery_count is not None:
                advanced = (flow.delivery_count - link.delivery_count) & _MASK
                if advanced > 0x7FFFFFFF:
                    advanced = 0
                link.delivery_count = flow.delivery_count
                link.credit = max(link.credit - advanced, 0)
            link.available = flow.available
            if link.drain and link.credit == 0:
                link.drain = False
                self.connection._emit(LinkDrained(link))
        if flow.echo:
            link._request_flow(echo=False)

    def _on_transfer(self, t: Transfer, payload: bytes) -> None:
        # Session window accounting happens for every frame, attached or not (2.5.6).
        if self.incoming_window <= 0:
            raise SessionFault(conditions.WINDOW_VIOLATION, "transfer beyond the incoming window")
        self.incoming_window -= 1
        self.next_incoming_id = (self.next_incoming_id + 1) & _MASK
        if self.incoming_window < self._window_size >> 1:
            self.incoming_window = self._window_size
            self._queue_flow(None)
        link = self._link_for(t.handle)
        if link.is_sender:
            raise SessionFault(conditions.INVALID_FIELD, "transfer on our sender link")
        if link.local is EndpointState.CLOSED:
            return  # we detached it; frames in flight are dropped
        delivery = link._partial
        if delivery is None:
            if t.aborted:
                return  # an aborted first frame: nothing was started
            if t.delivery_id is None:
                raise SessionFault(
                    conditions.INVALID_FIELD, "first transfer of a delivery without delivery-id"
                )
            if link.credit <= 0:
                raise LinkFault(
                    link, conditions.TRANSFER_LIMIT_EXCEEDED, "transfer without link credit"
                )
            link.credit -= 1
            link.delivery_count = (link.delivery_count + 1) & _MASK
            delivery = Delivery(link, t.delivery_id, t.delivery_tag or b"", bool(t.settled))
            if t.state is not None:
                delivery.remote_state = t.state
            if not t.more and not t.aborted:
                # The common case: a whole message in one frame.
                self._check_size(link, len(payload))
                if not delivery.remote_settled:
                    self._unsettled_in[delivery.delivery_id] = delivery
                self.connection._emit(DeliveryReceived(link, delivery, payload))
                return
            if not delivery.remote_settled:
                self._unsettled_in[delivery.delivery_id] = delivery
            delivery._chunks = []
            link._partial = delivery
        elif t.delivery_id is not None and t.delivery_id != delivery.delivery_id:
            raise SessionFault(
                conditions.INVALID_FIELD, "continuation transfer with another delivery-id"
            )
        if t.settled:
            delivery.remote_settled = True
            self._unsettled_in.pop(delivery.delivery_id, None)
        if t.aborted:
            link._partial = None
            delivery.aborted = True
            delivery._chunks = None
            self._unsettled_in.pop(delivery.delivery_id, None)
            self.connection._emit(DeliveryAborted(link, delivery))
            return
        chunks = delivery._chunks
        assert chunks is not None
        if payload:
            delivery._size += len(payload)
            self._check_size(link, delivery._size)
            chunks.append(payload)
        if not t.more:
            link._partial = None
            delivery._chunks = None
            self.connection._emit(DeliveryReceived(link, delivery, b"".join(chunks)))

    def _check_size(self, link: Link, size: int) -> None:
        if link.max_message_size and size > link.max_message_size:
            raise LinkFault(
                link,
                conditions.MESSAGE_SIZE_EXCEEDED,
                f"message larger than max-message-size {link.max_message_size}",
            )

    def _on_disposition(self, d: Disposition) -> None:
        # role is the role of the peer that sent it: a receiver's disposition is about what we sent.
        table = self._unsettled_out if d.role is Role.RECEIVER else self._unsettled_in
        first = d.first
        assert first is not None
        last = first if d.last is None else d.last
        span = (last - first) & _MASK
        if span + 1 <= len(table):
            ids: Any = ((first + i) & _MASK for i in range(span + 1))
        else:
            ids = [i for i in table if ((i - first) & _MASK) <= span]
        emit = self.connection._emit
        settled = d.settled
        state = d.state
        for did in ids:
            delivery = table.get(did)
            if delivery is None:
                continue
            if state is not None:
                delivery.remote_state = state
            if settled:
                delivery.remote_settled = True
                del table[did]
            emit(DeliveryUpdated(delivery, state, settled))

    def _on_end(self) -> None:
        self.remote = EndpointState.CLOSED
        for link in self.links.values():
            link.remote = EndpointState.CLOSED


def _disposition(role: bool, first: int, last: int, settled: bool, state: Any) -> Disposition:
    return Disposition(
        role=role, first=first, last=last if last != first else None, settled=settled, state=state
    )
