"""The registry: every queue, exchange and binding of one broker, with its observers.

The registry is the broker model's single entry point for changes that others must see:

- :class:`BrokerObserver` hears of each queue, exchange and binding created or deleted (HA's
  configuration replication, management events);
- :class:`EnqueueCompleter` sees each message put on a queue through :meth:`Registry.enqueue`
  and may delay the producer's ``accepted`` by holding the message's :class:`Completion`
  (HA's queue guards: delayed acceptance, design section 3.5).

Time: the registry reads its clock only to stamp expiry times on enqueue and to start an
auto-delete timer. Timed work is done by :meth:`Registry.poll`, which returns the next
deadline; :attr:`Registry.wakeup`, when set, is called when a new deadline comes earlier than
the one ``poll`` last returned, so the I/O layer can run one timer for the whole broker.

Like qpidd: an existing queue is returned as is by a second declare (its arguments are not
compared), the default exchange ``""`` is implicit and routes by queue name, the built-in
exchanges ``amq.direct``, ``amq.topic``, ``amq.fanout`` and ``amq.match`` exist from the
start, and the ``amq.`` prefix is reserved.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol

from ..amqp.conditions import PRECONDITION_FAILED, RESOURCE_LOCKED
from ..amqp.message import Message
from ..errors import (
    AlreadyExists,
    InvalidArgument,
    NotAllowed,
    NotFound,
    ResourceLimitExceeded,
    UsageError,
)
from .arguments import validate_queue_arguments
from .exchange import EXCHANGE_TYPES, Binding, Exchange
from .queue import Queue, QueueEntry

__all__ = [
    "BUILTIN_EXCHANGES",
    "BrokerObserver",
    "Completion",
    "EnqueueCompleter",
    "Registry",
]

log = logging.getLogger("qpid_ha.broker")

#: the exchanges every broker has from the start: name -> type
BUILTIN_EXCHANGES: Final[dict[str, str]] = {
    "amq.direct": "direct",
    "amq.topic": "topic",
    "amq.fanout": "fanout",
    "amq.match": "headers",
}

# how many alternate exchanges an unroutable message may pass through
_MAX_ALTERNATE_HOPS: Final = 8


class BrokerObserver(Protocol):
    """Hears of configuration changes (HA configuration replication, management events)."""

    def queue_created(self, queue: Queue) -> None:
        """``queue`` was declared (not called for a declare that found it existing)."""

    def queue_deleted(self, queue: Queue) -> None:
        """``queue`` was deleted (its bindings' deletions were reported first)."""

    def exchange_created(self, exchange: Exchange) -> None:
        """``exchange`` was declared."""

    def exchange_deleted(self, exchange: Exchange) -> None:
        """``exchange`` was deleted (its bindings' deletions were reported first)."""

    def binding_created(self, binding: Binding) -> None:
        """``binding`` was made (or replaced one with other arguments)."""

    def binding_deleted(self, binding: Binding) -> None:
        """``binding`` was removed (unbind, or deletion of its queue or exchange)."""


class Completion:
    """Counts the holds on a producer's acceptance; runs a callback when the last is released.

    Args:
        callback: run once, when the count of holds drops back to zero.

    An :class:`EnqueueCompleter` calls :meth:`hold` while it sees the message and
    :meth:`release` later (for HA: when every backup has the message, or the message left the
    primary's queue).
    """

    __slots__ = ("_callback", "_pending")

    def __init__(self, callback: Callable[[], None]) -> None:
        self._callback: Callable[[], None] | None = callback
        self._pending = 0

    @property
    def pending(self) -> int:
        """The holds not yet released."""
        return self._pending

    @property
    def done(self) -> bool:
        """The callback has run, or was dropped because the enqueue failed."""
        return self._callback is None

    def hold(self) -> None:
        """Delay completion until a matching :meth:`release`.

        Raises:
            UsageError: the completion is already done.
        """
        if self._callback is None:
            raise UsageError("hold() on a completion that is already done")
        self._pending += 1

    def release(self) -> None:
        """Undo one :meth:`hold`; the last release runs the callback.

        A release after the completion was dropped (its enqueue failed) is ignored.

        Raises:
            UsageError: more releases than holds.
        """
        if self._pending <= 0:
            if self._callback is None:
                return
            raise UsageError("release() without a matching hold()")
        self._pending -= 1
        if self._pending == 0:
            callback = self._callback
            self._callback = None
            if callback is not None:
                callback()

    def _finish_quietly(self) -> bool:
        """Release the registry's own hold; True if nothing else holds (callback dropped)."""
        self._pending -= 1
        if self._pending == 0:
            self._callback = None
            return True
        return False

    def _drop(self) -> None:
        self._callback = None
        self._pending = 0

    def __repr__(self) -> str:
        return f"<Completion pending={self._pending}>"


class EnqueueCompleter(Protocol):
    """May delay the completion (the producer's ``accepted``) of each enqueue."""

    def enqueued(self, queue: Queue, entry: QueueEntry, completion: Completion) -> None:
        """``entry`` was put on ``queue``: call ``completion.hold()`` now to delay it.

        Called for each queue a message goes to, after the queue's own observers.
        """


def _noop() -> None:
    pass


class Registry:
    """The queues, exchanges and bindings of one broker.

    Args:
        clock: the monotonic clock; read on each enqueue (expiry) and when an auto-delete
            timer starts.
        wall_clock: the Unix-time clock, read only for messages with an absolute expiry time.

    Attributes:
        queues: queues by name. Read only: change them through the registry.
        exchanges: exchanges by name, the built-in ones included (the default exchange
            ``""`` is implicit and not listed). Read only.
        wakeup: called with a deadline when timed work is due before the deadline
            :meth:`poll` last returned (a message with a shorter ttl, an auto-delete timer);
            the I/O layer sets it to reschedule its timer. Called synchronously: keep it cheap.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self.queues: dict[str, Queue] = {}
        self.exchanges: dict[str, Exchange] = {}
        self.wakeup: Callable[[float], None] | None = None
        self._observers: list[BrokerObserver] = []
        self._completers: list[EnqueueCompleter] = []
        self._queue_bindings: dict[str, dict[tuple[str, str], Binding]] = {}
        self._timed: dict[Queue, None] = {}  # queues that hold messages with expiry times
        self._auto_delete: dict[str, tuple[Queue, float]] = {}
        self._deadline: float | None = None
        for name, kind in BUILTIN_EXCHANGES.items():
            self.exchanges[name] = EXCHANGE_TYPES[kind](name, durable=True)

    # -- observers ---------------------------------------------------------------------------

    def add_observer(self, observer: BrokerObserver) -> None:
        """Tell ``observer`` of every later configuration change."""
        self._observers.append(observer)

    def remove_observer(self, observer: BrokerObserver) -> None:
        """Stop telling ``observer``; unknown observers are ignored."""
        if observer in self._observers:
            self._observers.remove(observer)

    @property
    def has_completers(self) -> bool:
        """Whether an enqueue may complete later (some completer is registered)."""
        return bool(self._completers)

    def add_completer(self, completer: EnqueueCompleter) -> None:
        """Let ``completer`` see (and delay) every later enqueue."""
        self._completers.append(completer)

    def remove_completer(self, completer: EnqueueCompleter) -> None:
        """Stop calling ``completer``; holds it took stay until it releases them."""
        if completer in self._completers:
            self._completers.remove(completer)

    # -- lookup ------------------------------------------------------------------------------

    def queue(self, name: str) -> Queue:
        """The queue ``name``.

        Raises:
            NotFound: no such queue.
        """
        queue = self.queues.get(name)
        if queue is None:
            raise NotFound(f"queue {name} not found")
        return queue

    def exchange(self, name: str) -> Exchange:
        """The exchange ``name`` (not the default exchange, which is implicit).

        Raises:
            NotFound: no such exchange.
        """
        exchange = self.exchanges.get(name)
        if exchange is None:
            raise NotFound(f"exchange {name} not found")
        return exchange

    def bindings(self) -> list[Binding]:
        """Every binding, exchange by exchange."""
        return [b for x in self.exchanges.values() for b in x.bindings]

    # -- queues ------------------------------------------------------------------------------

    def declare_queue(
        self,
        name: str,
        *,
        durable: bool = False,
        auto_delete: bool = False,
        exclusive: bool = False,
        owner: object | None = None,
        arguments: Mapping[str, Any] | None = None,
    ) -> tuple[Queue, bool]:
        """Create the queue ``name``, or return the existing one as it is.

        Args:
            name: the queue name (not empty).
            durable: survives a restart.
            auto_delete: deleted when its last consumer leaves (after
                ``qpid.auto_delete_timeout``), if it ever had one, or when its exclusive
                owner goes (:meth:`release_owner`).
            exclusive: only ``owner`` may consume.
            owner: the declaring session or connection.
            arguments: declare arguments (see :mod:`qpid_ha.broker.arguments`).

        Returns:
            ``(queue, created)``. An existing queue is returned unchanged with ``created``
            false, whatever the other arguments say (as qpidd does). An exclusive queue
            without an owner is claimed by an exclusive declare with one.

        Raises:
            InvalidArgument: a bad name or argument.
            NotFound: the alternate exchange does not exist.
            NotAllowed: (``amqp:resource-locked``) the queue exists and is exclusive to
                another owner.
        """
        existing = self.queues.get(name)
        if existing is not None:
            if existing.exclusive and existing.owner is not None and owner is not existing.owner:
                raise NotAllowed(f"queue {name} is exclusive to another session", RESOURCE_LOCKED)
            if exclusive and existing.exclusive and existing.owner is None:
                existing.owner = owner
            return existing, False
        if not isinstance(name, str) or not name:
            raise InvalidArgument(f"invalid queue name {name!r}")
        args = validate_queue_arguments(arguments or {})
        alternate = args.get("alternate-exchange")
        if alternate and alternate not in self.exchanges:
            raise NotFound(f"alternate exchange {alternate} not found (declaring queue {name})")
        queue = Queue(
            name,
            durable=durable,
            auto_delete=auto_delete,
            exclusive=exclusive,
            owner=owner,
            arguments=args,
            wall_clock=self._wall_clock,
        )
        queue._on_unused = self._queue_unused
        queue._on_deadline = self._queue_deadline
        self.queues[name] = queue
        for observer in self._observers:
            observer.queue_created(queue)
        return queue, True

    def delete_queue(self, name: str, *, if_empty: bool = False, if_unused: bool = False) -> None:
        """Delete the queue ``name`` and its bindings.

        Messages no consumer holds go to the queue's alternate exchange, if it has one (as
        in qpidd; HA backups purge first so that nothing is rerouted). Its subscriptions
        end: their consumers are notified and find :attr:`Queue.deleted` set.

        Args:
            name: the queue name.
            if_empty: refuse if the queue holds messages.
            if_unused: refuse if the queue has consumers.

        Raises:
            NotFound: no such queue.
            NotAllowed: (``amqp:precondition-failed``) ``if_empty`` or ``if_unused`` failed.
        """
        queue = self.queue(name)
        if if_empty and queue.depth:
            raise NotAllowed(
                f"cannot delete queue {name}: it holds {queue.depth} messages",
                PRECONDITION_FAILED,
            )
        if if_unused and queue.consumer_count:
            raise NotAllowed(
                f"cannot delete queue {name}: it has {queue.consumer_count} consumers",
                PRECONDITION_FAILED,
            )
        for binding in list(self._queue_bindings.get(name, {}).values()):
            self._remove_binding(binding)
        self._queue_bindings.pop(name, None)
        del self.queues[name]
        self._timed.pop(queue, None)
        self._auto_delete.pop(name, None)
        left = queue._delete()
        for observer in self._observers:
            observer.queue_deleted(queue)
        if left and queue.alternate_exchange:
            for entry in left:
                self._reroute(queue.alternate_exchange, entry.message)

    def release_owner(self, owner: object) -> None:
        """The exclusive owner ``owner`` (a session or connection) has gone.

        Its exclusive auto-delete queues are deleted; its other exclusive queues lose their
        owner (and may be claimed by the next exclusive declare).
        """
        for queue in [q for q in self.queues.values() if q.owner is owner]:
            if queue.auto_delete:
                self.delete_queue(queue.name)
            else:
                queue.owner = None

    def _queue_unused(self, queue: Queue) -> None:
        """A queue's last counted consumer left (hook called by the queue)."""
        if not queue.ever_consumed or self.queues.get(queue.name) is not queue:
            return
        timeout = queue.auto_delete_timeout
        if timeout <= 0:
            self.delete_queue(queue.name)
            return
        deadline = self._clock() + timeout
        queue.unused_since = deadline - timeout
        self._auto_delete[queue.name] = (queue, deadline)
        self._schedule(deadline)

    def _queue_deadline(self, queue: Queue, deadline: float) -> None:
        """A queue has a message expiring at ``deadline`` (hook called by the queue)."""
        self._timed[queue] = None
        self._schedule(deadline)

    def _schedule(self, deadline: float) -> None:
        if self._deadline is None or deadline < self._deadline:
            self._deadline = deadline
            if self.wakeup is not None:
                self.wakeup(deadline)

    # -- exchanges ---------------------------------------------------------------------------

    def declare_exchange(
        self,
        name: str,
        type: str = "direct",
        *,
        durable: bool = False,
        auto_delete: bool = False,
        arguments: Mapping[str, Any] | None = None,
    ) -> tuple[Exchange, bool]:
        """Create the exchange ``name``, or return the existing one of the same type.

        Args:
            name: the exchange name; ``""`` and names starting ``amq.`` are reserved.
            type: ``direct``, ``topic``, ``fanout`` or ``headers``.
            durable: survives a restart.
            auto_delete: recorded (exchanges are not deleted automatically).
            arguments: declare arguments (``qpid.replicate``, ``alternate-exchange``...).

        Returns:
            ``(exchange, created)``; an existing exchange is returned unchanged.

        Raises:
            NotAllowed: the name is reserved (the default or a built-in exchange).
            InvalidArgument: unknown type or bad arguments.
            AlreadyExists: the exchange exists with another type.
            NotFound: the alternate exchange does not exist.
        """
        self._check_not_reserved(name, "declare")
        if type not in EXCHANGE_TYPES:
            known = ", ".join(EXCHANGE_TYPES)
            raise InvalidArgument(f"unknown exchange type {type!r} (known: {known})")
        existing = self.exchanges.get(name)
        if existing is not None:
            if existing.type != type:
                raise AlreadyExists(f"exchange {name} exists with type {existing.type}, not {type}")
            return existing, False
        if not isinstance(name, str):
            raise InvalidArgument(f"invalid exchange name {name!r}")
        exchange = EXCHANGE_TYPES[type](
            name, durable=durable, auto_delete=auto_delete, arguments=arguments
        )
        alternate = exchange.alternate_exchange
        if alternate and alternate != name and alternate not in self.exchanges:
            raise NotFound(f"alternate exchange {alternate} not found (declaring exchange {name})")
        self.exchanges[name] = exchange
        for observer in self._observers:
            observer.exchange_created(exchange)
        return exchange, True

    def delete_exchange(self, name: str, *, if_unused: bool = False) -> None:
        """Delete the exchange ``name`` and its bindings.

        Args:
            name: the exchange name.
            if_unused: refuse if it has bindings.

        Raises:
            NotAllowed: a reserved exchange; (``amqp:precondition-failed``) ``if_unused``
                failed or the exchange is another queue's or exchange's alternate.
            NotFound: no such exchange.
        """
        self._check_not_reserved(name, "delete")
        exchange = self.exchange(name)
        if if_unused and exchange._bindings:
            raise NotAllowed(f"cannot delete exchange {name}: it has bindings", PRECONDITION_FAILED)
        users = [q.name for q in self.queues.values() if q.alternate_exchange == name] + [
            x.name
            for x in self.exchanges.values()
            if x.alternate_exchange == name and x is not exchange
        ]
        if users:
            raise NotAllowed(
                f"cannot delete exchange {name}: it is the alternate exchange of {users[0]}",
                PRECONDITION_FAILED,
            )
        for binding in exchange.bindings:
            self._remove_binding(binding)
        del self.exchanges[name]
        for observer in self._observers:
            observer.exchange_deleted(exchange)

    @staticmethod
    def _check_not_reserved(name: str, what: str) -> None:
        if name == "":
            raise NotAllowed(f"cannot {what} the default exchange")
        if name.startswith("amq."):
            raise NotAllowed(f"cannot {what} exchange {name}: the amq. prefix is reserved")

    # -- bindings ----------------------------------------------------------------------------

    def bind(
        self,
        exchange: str,
        queue: str,
        key: str = "",
        arguments: Mapping[str, Any] | None = None,
    ) -> Binding:
        """Bind ``queue`` to ``exchange`` with ``key``.

        Binding again with the same key and arguments changes nothing (no event); with other
        arguments it replaces the binding (a deleted and a created event).

        Returns:
            The binding now in place.

        Raises:
            NotFound: no such exchange or queue.
            NotAllowed: the default exchange (its bindings are implicit).
            InvalidArgument: bad binding arguments (a headers ``x-match`` value, non-string
                names).
        """
        if exchange == "":
            raise NotAllowed("cannot bind to the default exchange")
        x = self.exchange(exchange)
        self.queue(queue)
        args = dict(arguments or {})
        for name in args:
            if not isinstance(name, str):
                raise InvalidArgument(f"binding argument names must be strings, not {name!r}")
        binding = Binding(exchange, queue, key, args)
        old = x.get_binding(queue, key)
        if old is not None and old.arguments == args:
            return old
        if not x.bind(binding):  # pragma: no cover - ruled out above
            return binding
        per_queue = self._queue_bindings.setdefault(queue, {})
        per_queue[(exchange, key)] = binding
        for observer in self._observers:
            if old is not None:
                observer.binding_deleted(old)
            observer.binding_created(binding)
        return binding

    def unbind(
        self,
        exchange: str,
        queue: str,
        key: str = "",
        arguments: Mapping[str, Any] | None = None,
    ) -> None:
        """Remove the binding of ``queue`` to ``exchange`` with ``key``.

        Args:
            exchange: the exchange name.
            queue: the queue name.
            key: the binding key.
            arguments: ignored (a binding is named by exchange, queue and key).

        Raises:
            NotFound: no such exchange, or no such binding.
        """
        x = self.exchange(exchange)
        binding = x.get_binding(queue, key)
        if binding is None:
            raise NotFound(f"no binding of queue {queue} to exchange {exchange} with key {key!r}")
        self._remove_binding(binding)

    def _remove_binding(self, binding: Binding) -> None:
        self.exchanges[binding.exchange].unbind(binding.queue, binding.key)
        per_queue = self._queue_bindings.get(binding.queue)
        if per_queue is not None:
            per_queue.pop((binding.exchange, binding.key), None)
            if not per_queue:
                del self._queue_bindings[binding.queue]
        for observer in self._observers:
            observer.binding_deleted(binding)

    # -- messages ----------------------------------------------------------------------------

    def route(self, exchange: str, message: Message, routing_key: str | None = None) -> list[Queue]:
        """The queues ``message`` goes to when sent to ``exchange``.

        Args:
            exchange: the exchange name; ``""`` is the default exchange, which routes to the
                queue named by the routing key.
            message: the message.
            routing_key: the routing key; by default the message's subject, or ``""``.

        Returns:
            The queues, each once. An exchange that routes the message nowhere passes it to
            its alternate exchange, if it has one (up to 8 hops, loops cut).

        Raises:
            NotFound: no such exchange.
        """
        if routing_key is None:
            routing_key = message.subject or ""
        if exchange == "":
            queue = self.queues.get(routing_key)
            return [queue] if queue is not None else []
        x = self.exchange(exchange)
        names = x.route(message, routing_key)
        hops = 0
        seen: set[str] | None = None
        while not names and x.alternate_exchange and hops < _MAX_ALTERNATE_HOPS:
            if seen is None:
                seen = {x.name}
            alt = self.exchanges.get(x.alternate_exchange)
            if alt is None or alt.name in seen:
                break
            seen.add(alt.name)
            x = alt
            names = x.route(message, routing_key)
            hops += 1
        queues = self.queues
        return [queues[n] for n in names if n in queues]

    def enqueue(
        self, queues: Sequence[Queue], message: Message, on_complete: Callable[[], None]
    ) -> bool:
        """Put ``message`` on each of ``queues``; report when the producer may be accepted.

        Args:
            queues: where the message goes (from :meth:`route`).
            message: the message.
            on_complete: run once when every completer has released its holds, if that does
                not happen during this call.

        Returns:
            ``True`` if the enqueue is already complete: the producer may be accepted now and
            ``on_complete`` will not be called. ``False``: ``on_complete`` will be called
            later. With no completers registered this is always ``True``.

        Raises:
            ResourceLimitExceeded: a queue with the reject policy is full. As in qpidd the
                enqueues already done on earlier queues stay, and ``on_complete`` is never
                called; the caller rejects the delivery.
        """
        now = self._clock()
        completers = self._completers
        if not completers:
            for queue in queues:
                queue.enqueue(message, now)
            return True
        completion = Completion(on_complete)
        completion._pending = 1  # the registry's own hold, until every queue has been seen
        try:
            for queue in queues:
                entry = queue.enqueue(message, now)
                for completer in completers:
                    completer.enqueued(queue, entry, completion)
        except ResourceLimitExceeded:
            completion._drop()
            raise
        return completion._finish_quietly()

    def reject(self, queue: Queue, entry: QueueEntry) -> None:
        """Remove ``entry`` after a rejected outcome and dead-letter it.

        The message goes to the queue's alternate exchange, if it has one, with the routing
        key the registry derives by default (the subject, or ``""``); completers see that
        enqueue but nobody waits for it. A full dead-letter queue drops the message.
        """
        if queue._entries.get(entry.position) is not entry:
            return
        queue.reject(entry)
        if queue.alternate_exchange:
            self._reroute(queue.alternate_exchange, entry.message)

    def _reroute(self, exchange: str, message: Message) -> None:
        if exchange not in self.exchanges:
            log.warning("alternate exchange %s not found: message dropped", exchange)
            return
        targets = self.route(exchange, message)
        for target in targets:
            try:
                self.enqueue([target], message, _noop)
            except ResourceLimitExceeded as e:
                log.warning("dead-lettered message dropped: %s", e.description)

    # -- timed work --------------------------------------------------------------------------

    def poll(self, now: float) -> float | None:
        """Do the timed work due at ``now``; return the next deadline, or ``None``.

        Drops expired messages (only queues holding messages with expiry times are visited)
        and deletes auto-delete queues unused for their ``qpid.auto_delete_timeout``.
        """
        deadline: float | None = None
        for queue in list(self._timed):
            queue.expire(now)
            nxt = queue.next_expiry()
            if nxt is None:
                del self._timed[queue]
            elif deadline is None or nxt < deadline:
                deadline = nxt
        for name, (queue, due) in list(self._auto_delete.items()):
            if self.queues.get(name) is not queue or queue.consumer_count:
                del self._auto_delete[name]
            elif due <= now:
                del self._auto_delete[name]
                self.delete_queue(name)
            elif deadline is None or due < deadline:
                deadline = due
        self._deadline = deadline
        return deadline
