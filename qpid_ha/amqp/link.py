"""Links and deliveries (OASIS AMQP 1.0 Part 2, sections 2.6 and 2.6.12 to 2.6.14).

A :class:`Link` is one end of a unidirectional route; its ``role`` says whether we send
(``Role.SENDER``) or receive. Link flow control follows section 2.6.7: the receiver grants
``link-credit``, the sender counts ``delivery-count``; with ``drain`` the sender uses up or
gives back all credit. A :class:`Delivery` is one message on a link with its local and remote
state and settlement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ._state import EndpointState
from .delivery_states import Accepted, Modified, Rejected, Released
from .performatives import (
    Attach,
    Detach,
    Error,
    ReceiverSettleMode,
    Role,
    SenderSettleMode,
)

if TYPE_CHECKING:
    from .session import Session

__all__ = ["Delivery", "Link"]

_MASK = 0xFFFFFFFF


class Delivery:
    """One message on a link (Part 2 section 2.6.12).

    Attributes:
        link: the link it travels on.
        delivery_id: the session-scoped delivery-id.
        tag: the delivery-tag (at most 32 bytes).
        settled: we settled it.
        remote_settled: the peer settled it.
        state: the last state we sent.
        remote_state: the last state the peer sent.
        context: free for the application (the broker keeps its queue entry here).
    """

    __slots__ = (
        "_chunks",
        "_size",
        "aborted",
        "context",
        "delivery_id",
        "link",
        "remote_settled",
        "remote_state",
        "settled",
        "state",
        "tag",
    )

    def __init__(self, link: Link, delivery_id: int, tag: bytes, remote_settled: bool) -> None:
        self.link = link
        self.delivery_id = delivery_id
        self.tag = tag
        self.settled = False
        self.remote_settled = remote_settled
        self.state: Any = None
        self.remote_state: Any = None
        self.aborted = False
        self.context: Any = None
        self._chunks: list[bytes] | None = None
        self._size = 0

    def update(self, state: Any, settled: bool = False) -> None:
        """Send ``state`` for this delivery, settling it when ``settled``.

        Dispositions are coalesced into ranges and sent with the next batch of output.
        """
        if self.settled:
            raise UsageError("delivery is already settled")
        self.state = state
        if settled:
            self.settled = True
        self.link.session._queue_disposition(self, state, settled)

    def settle(self, state: Any = None) -> None:
        """Settle the delivery, with a final ``state`` if given."""
        self.update(state if state is not None else self.state, settled=True)

    def _receiver_settles_first(self) -> bool:
        return self.link.rcv_settle_mode == ReceiverSettleMode.FIRST

    def accept(self) -> None:
        """Receiver: send ``accepted`` (settled at once in rcv-settle-mode first)."""
        self.update(Accepted(), settled=self._receiver_settles_first())

    def reject(self, error: Error | None = None) -> None:
        """Receiver: send ``rejected`` with an optional error."""
        self.update(Rejected(error=error), settled=self._receiver_settles_first())

    def release(self) -> None:
        """Receiver: send ``released``."""
        self.update(Released(), settled=self._receiver_settles_first())

    def modify(
        self,
        delivery_failed: bool = True,
        undeliverable_here: bool = False,
        annotations: dict[Any, Any] | None = None,
    ) -> None:
        """Receiver: send ``modified``."""
        self.update(
            Modified(
                delivery_failed=delivery_failed,
                undeliverable_here=undeliverable_here,
                message_annotations=annotations,
            ),
            settled=self._receiver_settles_first(),
        )

    def abort(self) -> None:
        """Sender: abort a delivery whose last frame has not been sent (Part 2 section 2.6.14)."""
        self.link._abort(self)

    def __repr__(self) -> str:
        return f"<Delivery {self.delivery_id} tag={self.tag!r} on {self.link.name!r}>"


class Link:
    """One end of a link; made by :meth:`Session.attach` or by the peer's attach.

    Attributes:
        name: the link name, unique per container pair.
        role: ``Role.SENDER`` (False) or ``Role.RECEIVER`` (True): our role.
        handle: our handle for it, or None before we attach.
        remote_handle: the peer's handle, or None before its attach arrives.
        source, target: our terminus description (as we sent it).
        remote_attach: the peer's attach, once it arrived.
        credit: sender: credit the peer granted and we have not used; receiver: credit we
            granted that the peer has not used.
        delivery_count: the delivery-count of section 2.6.7.
        drain: the drain flag in force.
        available: sender: what we reported; receiver: what the peer reported.
        max_message_size: the largest message we accept (receiver), 0 for no limit.
        context: free for the application.
    """

    def __init__(self, session: Session, name: str, role: bool) -> None:
        self.session = session
        self.name = name
        self.role = role
        self.handle: int | None = None
        self.remote_handle: int | None = None
        self.local = EndpointState.UNINIT
        self.remote = EndpointState.UNINIT
        self.source: Any = None
        self.target: Any = None
        self.snd_settle_mode = SenderSettleMode.MIXED
        self.rcv_settle_mode = ReceiverSettleMode.FIRST
        self.remote_attach: Attach | None = None
        self.remote_detach: Detach | None = None
        self.credit = 0
        self.delivery_count = 0
        self.drain = False
        self.available: int | None = None
        self.max_message_size = 0
        self.context: Any = None
        self._partial: Delivery | None = None  # receiver: the delivery being assembled
        self._open_delivery: Delivery | None = None  # sender: sent with more=True
        self._next_tag = 0
        self._initial_delivery_count = 0
        self._flow_pending = False
        self._flow_drain_reply = False
        self._echo = False

    @property
    def is_sender(self) -> bool:
        """Whether we send on this link."""
        return self.role is Role.SENDER

    @property
    def is_receiver(self) -> bool:
        """Whether we receive on this link."""
        return self.role is Role.RECEIVER

    @property
    def remote_source(self) -> Any:
        """The source in the peer's attach."""
        return self.remote_attach.source if self.remote_attach else None

    @property
    def remote_target(self) -> Any:
        """The target in the peer's attach."""
        return self.remote_attach.target if self.remote_attach else None

    @property
    def remote_max_message_size(self) -> int:
        """The largest message the peer accepts on this link; 0 means no limit."""
        if self.remote_attach is None or not self.remote_attach.max_message_size:
            return 0
        return self.remote_attach.max_message_size

    @property
    def attached(self) -> bool:
        """Both ends are attached."""
        return self.local is EndpointState.ACTIVE and self.remote is EndpointState.ACTIVE

    # -- attach / detach ------------------------------------------------------------------

    def attach(
        self,
        source: Any = None,
        target: Any = None,
        *,
        snd_settle_mode: int | None = None,
        rcv_settle_mode: int | None = None,
        max_message_size: int | None = None,
        initial_delivery_count: int = 0,
        offered_capabilities: tuple[str, ...] | None = None,
        desired_capabilities: tuple[str, ...] | None = None,
        properties: dict[Any, Any] | None = None,
        unsettled: dict[Any, Any] | None = None,
    ) -> None:
        """Send our attach. For a link the peer started, this is the answer to its attach.

        Settle modes default to the peer's request when answering, else mixed/first.
        """
        if self.local is not EndpointState.UNINIT:
            raise UsageError(f"link {self.name!r} is already attached")
        ra = self.remote_attach
        if snd_settle_mode is None:
            snd_settle_mode = ra.snd_settle_mode if ra else SenderSettleMode.MIXED
        if rcv_settle_mode is None:
            rcv_settle_mode = ra.rcv_settle_mode if ra else ReceiverSettleMode.FIRST
        self.source = source
        self.target = target
        self.snd_settle_mode = snd_settle_mode
        self.rcv_settle_mode = rcv_settle_mode
        if max_message_size:
            self.max_message_size = max_message_size
        if self.is_sender:
            self.delivery_count = self._initial_delivery_count = initial_delivery_count & _MASK
        self.session._attach_link(
            self,
            Attach(
                name=self.name,
                handle=0,  # replaced by the session's allocation
                role=self.role,
                snd_settle_mode=snd_settle_mode,
                rcv_settle_mode=rcv_settle_mode,
                source=source,
                target=target,
                unsettled=unsettled,
                initial_delivery_count=self.delivery_count if self.is_sender else None,
                max_message_size=max_message_size or None,
                offered_capabilities=offered_capabilities,
                desired_capabilities=desired_capabilities,
                properties=properties,
            ),
        )

    def detach(self, error: Error | None = None, closed: bool = True) -> None:
        """Send our detach; ``closed=False`` only suspends a durable link."""
        if self.local is not EndpointState.ACTIVE:
            if self.local is EndpointState.CLOSED:
                return
            raise UsageError(f"link {self.name!r} was never attached")
        self.session._detach_link(self, error, closed)

    # -- sender ---------------------------------------------------------------------------

    def send(
        self,
        payload: bytes,
        *,
        tag: bytes | None = None,
        settled: bool = False,
        message_format: int = 0,
        more: bool = False,
        state: Any = None,
    ) -> Delivery:
        """Sender: send a message (or its first part when ``more``) and use one credit.

        Frames larger than the peer's max-frame-size are split; frames beyond the peer's
        session window wait in the session until it opens.

        Raises:
            UsageError: not a sender, not attached, no credit, or a delivery still open.
        """
        if not self.is_sender:
            raise UsageError("send() on a receiver link")
        if self.local is not EndpointState.ACTIVE or self.remote is EndpointState.CLOSED:
            raise UsageError(f"link {self.name!r} is not attached")
        if self.credit <= 0:
            raise UsageError(f"link {self.name!r} has no credit")
        if self._open_delivery is not None:
            raise UsageError("the previous delivery is still open (sent with more=True)")
        if self.snd_settle_mode == SenderSettleMode.SETTLED:
            settled = True
        elif self.snd_settle_mode == SenderSettleMode.UNSETTLED:
            settled = False
        limit = self.remote_max_message_size
        if limit and len(payload) > limit:
            raise UsageError(f"message of {len(payload)} bytes exceeds the link's limit {limit}")
        if tag is None:
            tag = str(self._next_tag).encode("ascii")
            self._next_tag += 1
        session = self.session
        delivery = Delivery(self, session._next_delivery_id, tag, False)
        session._next_delivery_id = (session._next_delivery_id + 1) & _MASK
        delivery.settled = settled
        self.credit -= 1
        self.delivery_count = (self.delivery_count + 1) & _MASK
        if not settled:
            session._unsettled_out[delivery.delivery_id] = delivery
        if more:
            self._open_delivery = delivery
        session._send_transfer(self, delivery, payload, True, settled, message_format, more, state)
        return delivery

    def send_more(self, delivery: Delivery, payload: bytes, more: bool = False) -> None:
        """Sender: send the next part of a delivery started with ``send(..., more=True)``."""
        if delivery is not self._open_delivery:
            raise UsageError("not the open delivery of this link")
        if not more:
            self._open_delivery = None
        self.session._send_transfer(self, delivery, payload, False, delivery.settled, 0, more, None)

    def _abort(self, delivery: Delivery) -> None:
        if delivery is not self._open_delivery:
            raise UsageError("only a delivery still being sent can be aborted")
        self._open_delivery = None
        delivery.aborted = True
        delivery.settled = True
        self.session._unsettled_out.pop(delivery.delivery_id, None)
        self.session._send_abort(self, delivery)

    def drained(self) -> None:
        """Sender: answer a drain request after sending what was available.

        Advances delivery-count by the unused credit and sends a flow with credit 0.
        """
        if not self.is_sender:
            raise UsageError("drained() on a receiver link")
        if self.credit > 0:
            self.delivery_count = (self.delivery_count + self.credit) & _MASK
            self.credit = 0
        self.drain = False
        self._request_flow(drain=True)

    def set_available(self, available: int) -> None:
        """Sender: report how many messages are waiting (sent with the next flow)."""
        self.available = available
        self._request_flow()

    # -- receiver -------------------------------------------------------------------------

    def flow(self, credit: int, drain: bool = False) -> None:
        """Receiver: grant ``credit`` (the total outstanding, not an increment)."""
        if not self.is_receiver:
            raise UsageError("flow() on a sender link; the receiver grants credit")
        if self.local is not EndpointState.ACTIVE:
            raise UsageError(f"link {self.name!r} is not attached")
        if credit < 0 or credit > _MASK:
            raise UsageError("credit must be a uint")
        self.credit = credit
        self.drain = drain
        self._request_flow()

    def add_credit(self, n: int) -> None:
        """Receiver: grant ``n`` more credit."""
        self.flow(self.credit + n, self.drain)

    def _request_flow(self, drain: bool | None = None, echo: bool = False) -> None:
        if drain is not None:
            self._flow_drain_reply = drain
        self._echo = self._echo or echo
        if not self._flow_pending:
            self._flow_pending = True
            self.session._queue_flow(self)

    def __repr__(self) -> str:
        role = "sender" if self.is_sender else "receiver"
        return f"<Link {self.name!r} {role} handle={self.handle}>"
