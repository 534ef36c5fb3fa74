"""The AMQP adapter: one :class:`AmqpConnection` per client connection, between the engine's
events and the protocol-independent model (queues, exchanges, the management node).

Links a client attaches are resolved to nodes the way qpidd resolves them
(:mod:`qpid_ha.broker.addressing`):

- a client **sender** (our receiving link) feeds a queue, an exchange (routing key: the
  message subject), the anonymous relay (null target address: route each message by its
  ``to``), or the ``$management`` node;
- a client **receiver** (our sending link) consumes from a queue (``move``) or browses it
  (``copy``), or subscribes to an exchange through a subscription queue named
  ``<container-id>_<link-name>`` bound with the link's legacy binding filters; a dynamic
  source gets a temporary queue for replies.

Producers are accepted when the registry says the enqueue is complete (at once, or later when
HA's completers release it: delayed acceptance). Consumers are fed while they have credit;
their outcomes dequeue, release, modify or reject the queue entry, as the spec describes.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from ..amqp import conditions
from ..amqp._state import EndpointState
from ..amqp.connection import Connection
from ..amqp.delivery_states import Accepted, Modified, Rejected, Released
from ..amqp.events import (
    ConnectionClosed,
    ConnectionOpened,
    CreditGranted,
    DeliveryReceived,
    DeliveryUpdated,
    LinkAttached,
    LinkDetached,
    SessionBegun,
    SessionEnded,
)
from ..amqp.link import Delivery, Link
from ..amqp.message import Message
from ..amqp.performatives import Attach, Error, SenderSettleMode
from ..amqp.session import Session
from ..amqp.terminus import ExpiryPolicy, Source, Target
from ..amqp.transactions import Coordinator
from ..amqp.types import Described, symbol
from ..errors import AmqpError, NotFound
from .addressing import (
    CREATE_ON_DEMAND,
    LEGACY_DIRECT,
    LEGACY_TOPIC,
    SHARED,
    NodeSpec,
    wants_exchange,
    wants_queue,
)
from .selector import compile_selector

if TYPE_CHECKING:
    from .broker import Broker
    from .queue import Queue, QueueEntry, Subscription

__all__ = ["MANAGEMENT_ADDRESS", "AmqpConnection"]

log = logging.getLogger("qpid_ha.broker")

MANAGEMENT_ADDRESS = "$management"
ANONYMOUS_RELAY = symbol("ANONYMOUS-RELAY")
# Filter descriptors (Apache Qpid filter registry).
_DIRECT_FILTER = {symbol("apache.org:legacy-amqp-direct-binding:string"), 0x0000468C00000000}
_TOPIC_FILTER = {symbol("apache.org:legacy-amqp-topic-binding:string"), 0x0000468C00000001}
_HEADERS_FILTER = {symbol("apache.org:legacy-amqp-headers-binding:map"), 0x0000468C00000002}
_SELECTOR_FILTER = {symbol("apache.org:selector-filter:string"), 0x0000468C00000004}
_ACCEPTED = Accepted()


class _Incoming:
    """State of a link on which the client sends to us."""

    __slots__ = ("exchange", "kind", "link", "queue", "window")

    def __init__(self, link: Link, kind: str, window: int) -> None:
        self.link = link
        self.kind = kind  # "queue" | "exchange" | "relay" | "management"
        self.queue: Queue | None = None
        self.exchange: str | None = None
        self.window = window


class _Outgoing:
    """State of a link on which we send to the client (a consumer)."""

    __slots__ = (
        "browse",
        "connection",
        "delete_on_close",
        "durable",
        "link",
        "presettled",
        "queue",
        "ready",
        "subscription",
        "unsettled",
    )

    def __init__(self, connection: AmqpConnection, link: Link, queue: Queue, browse: bool):
        self.connection = connection
        self.link = link
        self.queue = queue
        self.browse = browse
        self.presettled = link.snd_settle_mode == SenderSettleMode.SETTLED
        self.subscription: Subscription | None = None
        self.unsettled: set[Delivery] = set()
        self.ready = False
        self.delete_on_close = False  # a temporary or subscription queue owned by this link
        self.durable = False  # a durable subscription survives a detach that does not close

    def notify(self) -> None:
        """The queue has something this consumer may take: schedule a pump."""
        if not self.ready:
            self.ready = True
            self.connection.ready.append(self)
            self.connection.wakeup()


def _noop() -> None:
    pass


class AmqpConnection:
    """Broker side of one AMQP connection (a :class:`~qpid_ha.io.ProtocolHandler`)."""

    def __init__(self, broker: Broker, engine: Connection, peer: str = "") -> None:
        self.broker = broker
        self.engine = engine
        self.peer = peer
        self.registry = broker.registry
        self.ready: list[_Outgoing] = []
        self.wakeup: Callable[[], None] = _noop
        self._outgoing: set[_Outgoing] = set()
        self._topup: set[_Incoming] = set()
        self.created = time.time()
        self.closed = False

    # -- ProtocolHandler --------------------------------------------------------------------

    def process(self) -> None:
        """Handle the engine's pending events."""
        for event in self.engine.events():
            # Most frequent first: this runs once per message.
            if isinstance(event, DeliveryReceived):
                self._on_message(event.link, event.delivery, event.payload)
            elif isinstance(event, DeliveryUpdated):
                self._on_outcome(event)
            elif isinstance(event, CreditGranted):
                state = event.link.context
                if isinstance(state, _Outgoing):
                    state.notify()
            elif isinstance(event, LinkAttached):
                self._on_attach(event.link, event.attach)
            elif isinstance(event, LinkDetached):
                self._on_detach(event.link, event.closed)
            elif isinstance(event, SessionBegun):
                # The peer may have closed in the same read: answer only an open connection.
                if (
                    event.session.local is EndpointState.UNINIT
                    and self.engine.local is EndpointState.ACTIVE
                ):
                    event.session.begin()
            elif isinstance(event, SessionEnded):
                self._session_ended(event.session)
            elif isinstance(event, ConnectionOpened):
                self._on_open()
            elif isinstance(event, ConnectionClosed):
                self._release_links(lambda o: True)
        if self._topup:
            for inc in self._topup:
                link = inc.link
                if link.local is EndpointState.ACTIVE and link.credit < inc.window // 2:
                    link.flow(inc.window)
            self._topup.clear()

    def pump(self) -> None:
        """Send queued messages to every consumer that has credit and was notified."""
        if not self.ready:
            return
        ready, self.ready = self.ready, []
        now = time.monotonic()
        for out in ready:
            out.ready = False
            self._deliver(out, now)

    def transport_closed(self) -> None:
        """Release everything this connection held."""
        self._release_links(lambda o: True)
        self.registry.release_owner(self)
        self.closed = True
        self.broker._connection_gone(self)

    # -- connection -------------------------------------------------------------------------

    def _on_open(self) -> None:
        if self.engine.local is not EndpointState.UNINIT:
            return
        self.engine.open()

    @property
    def container_id(self) -> str:
        """The client's container-id, once its open arrived."""
        ro = self.engine.remote_open
        return ro.container_id or "" if ro is not None else ""

    def info(self) -> dict[str, Any]:
        """Attributes for management's connection entity."""
        ro = self.engine.remote_open
        return {
            "name": f"{self.peer}",
            "address": self.peer,
            "containerId": self.container_id,
            "authIdentity": self.engine.user or "anonymous",
            "saslMechanism": self.engine.mechanism,
            "sessionCount": len(self.engine.sessions),
            "linkCount": sum(len(s.links) for s in self.engine.sessions),
            "properties": dict(ro.properties or {}) if ro else {},
            "createdAt": self.created,
        }

    # -- attach -----------------------------------------------------------------------------

    def _on_attach(self, link: Link, attach: Attach) -> None:
        if link.local is not EndpointState.UNINIT:
            return  # the answer to an attach we started (none today)
        if link.session.local is not EndpointState.ACTIVE:
            return  # its session or connection already ended in this batch
        try:
            if link.is_receiver:
                self._attach_incoming(link, attach)
            else:
                self._attach_outgoing(link, attach)
        except AmqpError as e:
            self._refuse(link, attach, e.condition, e.description)

    def _refuse(self, link: Link, attach: Attach, condition: str, description: str) -> None:
        """Part 2 section 2.6.3: answer with a null terminus, then detach with the error."""
        log.info("refusing link %r: %s %s", link.name, condition, description)
        if link.is_receiver:
            link.attach(source=attach.source, target=None)
        else:
            link.attach(source=None, target=attach.target)
        link.detach(Error(condition=condition, description=description))

    def _attach_incoming(self, link: Link, attach: Attach) -> None:
        target = attach.target
        window = self.broker.credit_window
        if isinstance(target, Coordinator):
            raise AmqpError("transactions are not supported yet", conditions.NOT_IMPLEMENTED)
        if target is None:
            raise AmqpError("a sender needs a target", conditions.INVALID_FIELD)
        address = target.address
        if target.dynamic:
            queue = self._temporary_queue(target.dynamic_node_properties)
            state = _Incoming(link, "queue", window)
            state.queue = queue
            reply = Target(address=queue.name, dynamic=True, capabilities=target.capabilities)
        elif not address:
            state = _Incoming(link, "relay", window)
            reply = target
        elif address == MANAGEMENT_ADDRESS:
            state = _Incoming(link, "management", window)
            reply = target
        else:
            node, created_caps = self._resolve(str(address), target.capabilities, target)
            state = _Incoming(link, "queue" if not isinstance(node, str) else "exchange", window)
            if isinstance(node, str):
                state.exchange = node
            else:
                state.queue = node
            reply = Target(
                address=address,
                durable=target.durable,
                expiry_policy=target.expiry_policy,
                timeout=target.timeout,
                capabilities=created_caps,
            )
        link.context = state
        link.attach(
            source=attach.source,
            target=reply,
            max_message_size=self.broker.options.max_message_size or None,
        )
        link.flow(window)

    def _attach_outgoing(self, link: Link, attach: Attach) -> None:
        source = attach.source
        if source is None:
            # JMS looks up a subscription with a null source: answer that none is known
            # here unless the subscription queue exists.
            name = self._subscription_name(link.name, shared=False)
            if name in self.registry.queues:
                source = Source(address=name)
            link.attach(source=source, target=attach.target)
            return
        browse = source.distribution_mode == "copy"
        filters: dict[Any, Any] = {}
        if source.dynamic:
            queue = self._temporary_queue(source.dynamic_node_properties)
            address: str = queue.name
            delete_on_close = True
            durable = False
            caps = source.capabilities
        else:
            address = str(source.address or "")
            if not address:
                raise AmqpError("a receiver needs a source address", conditions.INVALID_FIELD)
            node, caps = self._resolve(address, source.capabilities, source)
            if isinstance(node, str):
                queue, filters, durable = self._subscribe_exchange(link, node, source)
                delete_on_close = not durable
            else:
                queue = node
                delete_on_close = False
                durable = False
        selector = None
        for key, value in (source.filter or {}).items():
            if isinstance(value, Described) and value.descriptor in _SELECTOR_FILTER:
                selector = compile_selector(str(value.value))  # InvalidArgument refuses it
                filters[key] = value
        out = _Outgoing(self, link, queue, browse)
        out.delete_on_close = delete_on_close
        out.durable = durable
        link.context = out
        reply = Source(
            address=address,
            durable=source.durable,
            expiry_policy=source.expiry_policy,
            timeout=source.timeout,
            dynamic=source.dynamic,
            distribution_mode=source.distribution_mode,
            filter=filters or None,
            default_outcome=source.default_outcome,
            outcomes=source.outcomes,
            capabilities=caps,
        )
        link.attach(source=reply, target=attach.target)
        out.presettled = link.snd_settle_mode == SenderSettleMode.SETTLED
        out.subscription = queue.subscribe(out, browse=browse, owner=self, filter=selector)
        self._outgoing.add(out)
        out.notify()

    def _resolve(self, address: str, capabilities: Any, terminus: Any) -> tuple[Any, Any]:
        """Find (or create on demand) the node named ``address``: a Queue or an exchange name.

        Returns the node and the capabilities to echo.
        """
        reg = self.registry
        caps = {str(c) for c in (capabilities or ())}
        only_queue = wants_queue(capabilities)
        only_exchange = wants_exchange(capabilities)
        queue = None if only_exchange else reg.queues.get(address)
        if queue is not None:
            return queue, _echo(
                caps, ("queue", CREATE_ON_DEMAND, "durable" if queue.durable else "")
            )
        if not only_queue and address in reg.exchanges:
            exchange = reg.exchanges[address]
            return address, _echo(caps, ("topic", CREATE_ON_DEMAND, SHARED, _legacy(exchange.type)))
        if CREATE_ON_DEMAND not in caps and not self.broker.options.auto_create:
            raise NotFound(f"Node not found: {address}")
        spec = NodeSpec(getattr(terminus, "dynamic_node_properties", None))
        if only_exchange or spec.dist_mode == "copy":
            exchange, _ = reg.declare_exchange(
                address,
                spec.exchange_type,
                durable=bool(spec.durable),
                auto_delete=bool(spec.auto_delete),
                arguments=spec.queue_arguments(),
            )
            return address, _echo(caps, ("topic", CREATE_ON_DEMAND, _legacy(exchange.type)))
        queue, _ = reg.declare_queue(
            address,
            durable=bool(spec.durable),
            auto_delete=bool(spec.auto_delete),
            exclusive=bool(spec.exclusive),
            owner=self if spec.exclusive else None,
            arguments=spec.queue_arguments(),
        )
        return queue, _echo(caps, ("queue", CREATE_ON_DEMAND))

    def _temporary_queue(self, properties: Any) -> Queue:
        spec = NodeSpec(properties)
        name = f"{self.container_id}_{uuid.uuid4()}"
        queue, _ = self.registry.declare_queue(
            name,
            durable=False,
            auto_delete=True,
            exclusive=True,
            owner=self,
            arguments=spec.queue_arguments(),
        )
        return queue

    def _subscription_name(self, link_name: str, shared: bool) -> str:
        return link_name if shared else f"{self.container_id}_{link_name}"

    def _subscribe_exchange(
        self, link: Link, exchange: str, source: Source
    ) -> tuple[Queue, dict[Any, Any], bool]:
        """A subscription queue for an exchange consumer, bound per the link's filters."""
        caps = {str(c) for c in (source.capabilities or ())}
        shared = SHARED in caps
        durable = source.expiry_policy == ExpiryPolicy.NEVER or source.durable > 0
        name = self._subscription_name(link.name, shared)
        queue, created = self.registry.declare_queue(
            name,
            durable=source.durable > 0,
            auto_delete=not durable,
            exclusive=not shared,
            owner=None if shared else self,
        )
        accepted: dict[Any, Any] = {}
        keys: list[tuple[str, dict[str, Any] | None]] = []
        for key, value in (source.filter or {}).items():
            if not isinstance(value, Described):
                continue
            if value.descriptor in _DIRECT_FILTER or value.descriptor in _TOPIC_FILTER:
                keys.append((str(value.value), None))
                accepted[key] = value
            elif value.descriptor in _HEADERS_FILTER and isinstance(value.value, dict):
                keys.append(("", {str(k): v for k, v in value.value.items()}))
                accepted[key] = value
        if not keys:
            etype = self.registry.exchanges[exchange].type
            keys.append(("#" if etype == "topic" else "", None))
        if created or not durable:
            for key, args in keys:
                self.registry.bind(exchange, queue.name, key, args)
        return queue, accepted, durable

    # -- messages in ------------------------------------------------------------------------

    def _on_message(self, link: Link, delivery: Delivery, payload: bytes) -> None:
        state = link.context
        if not isinstance(state, _Incoming):
            return
        self._topup.add(state)
        try:
            message = Message(payload)
            kind = state.kind
            reg = self.registry
            if kind == "queue":
                assert state.queue is not None
                queues = [state.queue]
            elif kind == "exchange":
                assert state.exchange is not None
                queues = reg.route(state.exchange, message)
            elif kind == "relay":
                queues = self._relay(message)
            else:
                self._management(message)
                queues = []
            if not queues:
                # Unroutable: qpidd drops it (its alternate exchange was tried by route()).
                if not delivery.remote_settled:
                    delivery.accept()
                return
            if delivery.remote_settled:
                reg.enqueue(queues, message, _noop)
            else:
                # A callback for a later accept is only needed when a completer may hold it.
                later = partial(self._accept_later, delivery) if reg.has_completers else _noop
                if reg.enqueue(queues, message, later):
                    delivery.update(_ACCEPTED, settled=link.rcv_settle_mode == 0)
            message.compact()  # the queue entries keep what they need
        except AmqpError as e:  # a DecodeError of the message, a full queue, an unknown node
            if not delivery.remote_settled:
                delivery.reject(Error(condition=e.condition, description=e.description))

    def _accept_later(self, delivery: Delivery) -> None:
        """Delayed acceptance: every completer released the enqueue."""
        if self.closed or delivery.settled or delivery.link.local is not EndpointState.ACTIVE:
            return
        delivery.accept()
        self.wakeup()

    def _relay(self, message: Message) -> list[Queue]:
        to = message.to
        if not to:
            raise NotFound("anonymous relay: the message has no 'to' address")
        reg = self.registry
        queue = reg.queues.get(str(to))
        if queue is not None:
            return [queue]
        if str(to) in reg.exchanges:
            return reg.route(str(to), message)
        if to == MANAGEMENT_ADDRESS:
            self._management(message)
            return []
        raise NotFound(f"Node not found: {to}")

    def _management(self, message: Message) -> None:
        response = self.broker.management.handle(message)
        if response is None:
            return
        reply_to, data = response
        reply = Message(data)
        queue = self.registry.queues.get(reply_to)
        if queue is not None:
            self.registry.enqueue([queue], reply, _noop)
        elif reply_to in self.registry.exchanges:
            self.registry.enqueue(self.registry.route(reply_to, reply), reply, _noop)

    # -- messages out -----------------------------------------------------------------------

    def _deliver(self, out: _Outgoing, now: float) -> None:
        link = out.link
        sub = out.subscription
        if sub is None or not link.attached:
            return
        queue = out.queue
        if queue.deleted:
            self._release(out, closed=True)
            link.context = None
            link.detach(
                Error(condition=conditions.RESOURCE_DELETED, description=f"{queue.name} deleted")
            )
            return
        presettled = out.presettled or out.browse
        limit = link.remote_max_message_size
        while link.credit > 0:
            entry = sub.next(now)
            if entry is None:
                break
            payload = _payload(entry)
            if limit and len(payload) > limit:
                # Too big for this consumer (its max-message-size): leave it for others.
                if not out.browse:
                    queue.release(entry, undeliverable_for=sub)
                continue
            delivery = link.send(payload, settled=presettled)
            if delivery.settled:
                if not out.browse:
                    queue.dequeue(entry)
            else:
                delivery.context = entry
                out.unsettled.add(delivery)
        if link.drain and link.credit > 0:
            link.drained()

    def _on_outcome(self, event: DeliveryUpdated) -> None:
        delivery = event.delivery
        out = delivery.link.context
        entry = delivery.context
        if not isinstance(out, _Outgoing) or entry is None:
            return
        state = event.state
        queue = out.queue
        if state is None:
            if not event.settled:
                return
            state = _ACCEPTED  # settled without an outcome: as qpidd, taken as accepted
        kind = type(state)
        if kind is Accepted:
            queue.dequeue(entry)
        elif kind is Released:
            queue.release(entry)
        elif kind is Modified:
            queue.release(
                entry,
                delivery_failed=bool(state.delivery_failed),
                undeliverable_for=out.subscription if state.undeliverable_here else None,
            )
        elif kind is Rejected:
            self.registry.reject(queue, entry)
        else:
            return  # received or transactional states: not an outcome we act on
        delivery.context = None
        out.unsettled.discard(delivery)
        if (
            not event.settled
            and not delivery.settled
            and delivery.link.local is EndpointState.ACTIVE
        ):
            delivery.settle()

    # -- teardown ---------------------------------------------------------------------------

    def _on_detach(self, link: Link, closed: bool) -> None:
        state = link.context
        if isinstance(state, _Outgoing):
            self._release(state, closed)
        link.context = None

    def _session_ended(self, session: Session) -> None:
        self._release_links(lambda o: o.link.session is session)

    def _release_links(self, which: Callable[[_Outgoing], bool]) -> None:
        for out in [o for o in self._outgoing if which(o)]:
            self._release(out, closed=False)

    def _release(self, out: _Outgoing, closed: bool) -> None:
        """A consumer went away: give back what it held, drop what it owned."""
        if out not in self._outgoing:
            return
        self._outgoing.discard(out)
        queue = out.queue
        # Release before cancelling: cancelling may delete an auto-delete queue at once.
        for delivery in out.unsettled:
            entry = delivery.context
            if entry is not None:
                # The client may have seen it (research file 3.2): redeliver as failed.
                queue.release(entry, delivery_failed=True)
                delivery.context = None
        out.unsettled.clear()
        if out.subscription is not None:
            out.subscription.cancel()
            out.subscription = None
        # A durable subscription outlives a detach, not a close (its link closing for good).
        keep = out.durable and not closed
        doomed = out.delete_on_close or out.durable
        if doomed and not keep and queue.name in self.registry.queues:
            with contextlib.suppress(AmqpError):
                self.registry.delete_queue(queue.name)


def _payload(entry: QueueEntry) -> bytes:
    """The bytes to send: as received, unless redelivery changed the header."""
    message = entry.message
    if not entry.redelivered:
        return message.data
    header = message.header
    return message.encode(
        header=header.__replace__(delivery_count=entry.delivery_count, first_acquirer=False)
    )


def _legacy(exchange_type: str) -> str:
    return {"direct": LEGACY_DIRECT, "topic": LEGACY_TOPIC}.get(exchange_type, "")


def _echo(requested: set[str], supported: tuple[str, ...]) -> tuple[str, ...] | None:
    """qpidd echoes the capabilities it was asked for and supports."""
    echoed = tuple(symbol(c) for c in supported if c and c in requested)
    return echoed or None
