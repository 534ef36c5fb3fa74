"""Queues: the protocol-independent heart of the broker.

Theory of operation
-------------------
Every message on a queue is a :class:`QueueEntry` with a *position*: an integer that grows
with each enqueue and is never reused, so HA can name a message by its position (Qpid's
``QueuePosition``). An entry is either *available* or *acquired* by a consumer; it leaves the
queue when it is dequeued (accepted), rejected, expired, dropped by a ring queue, replaced on a
last-value queue, or purged.

The queue keeps:

- every entry in a :class:`~sortedcontainers.SortedDict` by position (browsing, HA snapshots);
- the available positions in one :class:`~sortedcontainers.SortedList` per priority level,
  so acquiring the best entry and putting a released one back at its original place are
  O(log n). A queue without ``qpid.priorities`` has one level and is strictly FIFO, as in
  qpidd: the header priority only orders messages on a priority queue;
- a heap of expiry times, only for messages with a TTL, so :meth:`Queue.expire` costs
  O(log n) per expired message and nothing for the others;
- for a last-value queue, a map from key value to the entry holding it.

Consumers are pulled, not pushed: :meth:`Subscription.next` hands out one entry. A
subscription whose ``next`` found nothing is *waiting*; the queue calls
:meth:`Consumer.notify` on every waiting subscription when an entry arrives or is released,
and forgets them until they ask again. ``notify`` only tells the adapter to schedule work, so
one enqueue costs one call per idle consumer and nothing per busy one.

A subscription that skips entries (a filter, or entries released to it as
undeliverable-here) remembers, per priority level, the last position it examined, so a
selective consumer does not rescan the entries it already refused. The queue's *version*
grows whenever an entry becomes available again behind the cursors (a release) and resets
them, as qpidd does with its cursor versions.

Observers (:class:`QueueObserver`, for HA) see every enqueue, acquire and removal; with none
registered the queue pays one truth test per event.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from sortedcontainers import SortedDict, SortedList  # type: ignore[import-untyped]

from ..amqp.conditions import RESOURCE_DELETED, RESOURCE_LOCKED
from ..amqp.message import Message
from ..errors import NotAllowed, ResourceLimitExceeded
from .arguments import (
    ALTERNATE_EXCHANGE,
    AUTO_DELETE_TIMEOUT,
    LVQ_KEY,
    MAX_COUNT,
    MAX_SIZE,
    POLICY_TYPE,
    PRIORITIES,
    validate_queue_arguments,
)

__all__ = [
    "Consumer",
    "Queue",
    "QueueEntry",
    "QueueObserver",
    "QueueStats",
    "Subscription",
    "priority_level",
]

_MAX_PRIORITY = 9


def priority_level(priority: int, levels: int) -> int:
    """Map a message priority to one of ``levels`` levels (0 is the lowest).

    This is the AMQP 0-10 rule qpidd uses (``priority-level-implementation``): with fewer
    than ten levels the priorities around the default 4 share the lowest level and those at
    the top end get their own.

    Args:
        priority: the message priority; values above 9 count as 9.
        levels: the queue's number of levels, 1 to 10.

    Returns:
        The level, from 0 to ``levels - 1``.
    """
    priority = min(priority, _MAX_PRIORITY)
    first = 5 - min(5, math.ceil(levels / 2))
    if priority <= first:
        return 0
    return min(priority - first, levels - 1)


class QueueEntry:
    """One message on a queue.

    Attributes:
        position: stable and increasing per queue, never reused (HA names messages by it).
        message: the message, as received.
        size: the encoded size in bytes (``len(message.data)``).
        priority: the header priority, 0 to 9 (higher values count as 9; default 4).
        expires: the absolute expiry time in seconds on the clock of the ``now`` passed to
            the queue, from the header ttl or the properties' absolute-expiry-time; ``None``
            when the message never expires.
        delivery_count: failed delivery attempts: the header's count, plus one for each
            release with ``delivery_failed``.
        acquired: a consumer holds the entry (delivered, not yet settled).
        redelivered: the entry was acquired and released at least once, so its next
            delivery must carry ``first-acquirer = false``.
    """

    __slots__ = (
        "_rank",
        "_undeliverable",
        "acquired",
        "delivery_count",
        "expires",
        "message",
        "position",
        "priority",
        "redelivered",
        "size",
    )

    def __init__(
        self,
        position: int,
        message: Message,
        size: int,
        priority: int,
        expires: float | None,
        delivery_count: int,
        rank: int,
    ) -> None:
        self.position = position
        self.message = message
        self.size = size
        self.priority = priority
        self.expires = expires
        self.delivery_count = delivery_count
        self.acquired = False
        self.redelivered = False
        # index of the entry's priority level in Queue._avail (0 = highest level)
        self._rank = rank
        # subscriptions this entry was released to as undeliverable-here, or None
        self._undeliverable: set[Subscription] | None = None

    def __repr__(self) -> str:
        state = "acquired" if self.acquired else "available"
        return f"<QueueEntry {self.position} {state} {self.size} bytes>"


class QueueStats:
    """Counters of one queue. ``enqueues - dequeues`` is always the queue's depth.

    Attributes:
        enqueues: messages put on the queue.
        dequeues: messages removed for any reason (accept, reject, expiry, ring drop, purge,
            last-value replacement).
        acquires: deliveries to consumers (redeliveries included).
        releases: entries put back after a release or modify.
        rejects: entries removed by a reject outcome.
        expired: entries dropped because their time to live ran out.
        ring_drops: entries dropped by a ring queue to make room.
        purged: entries removed by purge.
        lvq_replaced: entries replaced by a newer message with the same last-value key.
    """

    __slots__ = (
        "acquires",
        "dequeues",
        "enqueues",
        "expired",
        "lvq_replaced",
        "purged",
        "rejects",
        "releases",
        "ring_drops",
    )

    def __init__(self) -> None:
        self.enqueues = 0
        self.dequeues = 0
        self.acquires = 0
        self.releases = 0
        self.rejects = 0
        self.expired = 0
        self.ring_drops = 0
        self.purged = 0
        self.lvq_replaced = 0

    def as_dict(self) -> dict[str, int]:
        """The counters by name (for management)."""
        return {name: getattr(self, name) for name in self.__slots__}


class Consumer(Protocol):
    """The receiving end of a subscription (the AMQP adapter's outgoing link)."""

    def notify(self) -> None:
        """The queue may have something for this consumer.

        Called synchronously from inside the queue, so it must be cheap: schedule work and
        return. A consumer that has credit then calls :meth:`Subscription.next`; one without
        credit calls it when credit arrives. Also called when the queue is deleted
        (:attr:`Queue.deleted` is then true and ``next`` returns ``None``).
        """


class QueueObserver(Protocol):
    """Sees every change to a queue's messages (HA's replicating subscription and guards)."""

    def enqueued(self, queue: Queue, entry: QueueEntry) -> None:
        """``entry`` was put on ``queue``."""

    def acquired(self, queue: Queue, entry: QueueEntry) -> None:
        """A consumer acquired ``entry``."""

    def dequeued(self, queue: Queue, entry: QueueEntry) -> None:
        """``entry`` left ``queue``: accept, reject, expiry, ring drop, purge or LVQ replacement."""


class Subscription:
    """A consumer's attachment to a queue, made by :meth:`Queue.subscribe`.

    Attributes:
        queue: the queue.
        consumer: the consumer notified when the queue may have something for it.
        browse: browse (see messages without acquiring them) rather than consume.
        filter: a predicate a message must satisfy to be given to this subscription.
        exclusive: no other counted subscription may exist while this one does.
        counted: counts as a consumer (consumer_count, auto-delete, exclusivity).
        skip_acquired: a browser skips entries other consumers hold.
        active: false once cancelled or once the queue is deleted.
    """

    __slots__ = (
        "_browse_pos",
        "_cursor",
        "_version",
        "active",
        "browse",
        "consumer",
        "counted",
        "exclusive",
        "filter",
        "queue",
        "skip_acquired",
    )

    def __init__(
        self,
        queue: Queue,
        consumer: Consumer,
        *,
        browse: bool,
        filter: Callable[[Message], bool] | None,
        exclusive: bool,
        counted: bool,
        skip_acquired: bool,
    ) -> None:
        self.queue = queue
        self.consumer = consumer
        self.browse = browse
        self.filter = filter
        self.exclusive = exclusive
        self.counted = counted
        self.skip_acquired = skip_acquired
        self.active = True
        # browse: position of the last entry seen
        self._browse_pos = 0
        # move: per priority level, the last position found ineligible (valid for _version)
        self._cursor: list[int] | None = None
        self._version = -1

    def _wants(self, message: Message) -> bool:
        filt = self.filter
        if filt is None:
            return True
        try:
            return bool(filt(message))
        except Exception:  # a filter that cannot read the message does not match it
            return False

    def next(self, now: float) -> QueueEntry | None:
        """The next entry for this subscription, or ``None`` (it is then *waiting*).

        A consuming subscription acquires the best available entry it may take: the highest
        priority level first (on a priority queue), then the oldest; it skips messages its
        filter refuses and entries released to it as undeliverable-here, and drops the
        expired entries it meets. A browsing subscription returns the next entry after its
        cursor without acquiring it (it skips expired entries, and acquired ones when
        ``skip_acquired``).

        Args:
            now: the current time, on the clock the queue's expiry times use.

        Returns:
            The entry, or ``None`` when there is nothing for this subscription now; the queue
            then calls :meth:`Consumer.notify` when that may change.
        """
        if not self.active:
            return None
        if self.browse:
            return self._next_browse(now)
        q = self.queue
        entries = q._entries
        if self._version != q._version:
            self._version = q._version
            self._cursor = None
        cursor = self._cursor
        expired: list[QueueEntry] | None = None
        found: QueueEntry | None = None
        for rank, avail in enumerate(q._avail):
            if not avail:
                continue
            start = -1 if cursor is None else cursor[rank]
            positions: Iterator[int] = (
                iter(avail) if start < 0 else avail.irange(start, inclusive=(False, True))
            )
            for pos in positions:
                entry: QueueEntry = entries[pos]
                expires = entry.expires
                if expires is not None and expires <= now:
                    if expired is None:
                        expired = []
                    expired.append(entry)
                    continue
                blocked = entry._undeliverable
                if (blocked is not None and self in blocked) or (
                    self.filter is not None and not self._wants(entry.message)
                ):
                    if cursor is None:
                        cursor = self._cursor = [-1] * len(q._avail)
                    cursor[rank] = pos
                    continue
                found = entry
                break
            if found is not None:
                break
        if expired is not None:
            for entry in expired:
                q._drop_expired(entry)
        if found is None:
            q._waiting[self] = None
            return None
        q._acquire(found)
        return found

    def _next_browse(self, now: float) -> QueueEntry | None:
        q = self.queue
        entries = q._entries
        skip_acquired = self.skip_acquired
        for pos in entries.irange(self._browse_pos, inclusive=(False, True)):
            entry: QueueEntry = entries[pos]
            self._browse_pos = pos
            expires = entry.expires
            if expires is not None and expires <= now:
                continue
            if skip_acquired and entry.acquired:
                continue
            if self.filter is not None and not self._wants(entry.message):
                continue
            return entry
        q._waiting[self] = None
        return None

    @property
    def browse_position(self) -> int:
        """A browser's cursor: the position of the last entry it has seen (0 before any)."""
        return self._browse_pos

    def cancel(self) -> None:
        """Unsubscribe. Entries this subscription acquired stay acquired.

        The adapter settles or releases them explicitly. If this was the last counted
        consumer of an auto-delete queue, the queue's owner (the registry) is told, and may
        delete the queue at once (``qpid.auto_delete_timeout`` 0) or later.
        """
        if not self.active:
            return
        self.active = False
        self.queue._unsubscribe(self)

    def __repr__(self) -> str:
        kind = "browse" if self.browse else "consume"
        return f"<Subscription {kind} {self.queue.name!r}>"


class Queue:
    """A queue of messages with qpidd's policies: limits, ring, priorities, LVQ, TTL.

    Args:
        name: the queue name.
        durable: survives a broker restart (recorded; the model does not store messages).
        auto_delete: deleted by its registry when its last consumer leaves (after
            ``qpid.auto_delete_timeout`` seconds), if it ever had one.
        exclusive: only ``owner`` may consume from it.
        owner: the exclusive owner (the adapter passes its session or connection).
        arguments: declare arguments, checked by
            :func:`~qpid_ha.broker.arguments.validate_queue_arguments`.
        wall_clock: the Unix-time clock, read only to convert a message's
            absolute-expiry-time to the model's clock.

    Raises:
        InvalidArgument: bad arguments.

    Attributes:
        name: the queue name.
        arguments: the normalized declare arguments.
        durable: the durable flag.
        auto_delete: the auto-delete flag.
        exclusive: the exclusive flag.
        owner: the exclusive owner, or ``None``.
        alternate_exchange: where rejected messages go, or ``None``.
        consumer_count: counted subscriptions (consumers and browsers).
        stats: the queue's counters.
        deleted: the queue was deleted; it holds nothing and refuses subscriptions.
    """

    def __init__(
        self,
        name: str,
        *,
        durable: bool = False,
        auto_delete: bool = False,
        exclusive: bool = False,
        owner: object | None = None,
        arguments: Mapping[str, Any] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.arguments: dict[str, Any] = validate_queue_arguments(arguments or {})
        args = self.arguments
        self.durable = durable
        self.auto_delete = auto_delete
        self.exclusive = exclusive
        self.owner = owner
        self.alternate_exchange: str | None = args.get(ALTERNATE_EXCHANGE) or None
        self.consumer_count = 0
        self.stats = QueueStats()
        self.deleted = False
        self._wall_clock = wall_clock
        self._max_count: int = args.get(MAX_COUNT, 0)
        self._max_size: int = args.get(MAX_SIZE, 0)
        self._ring = args.get(POLICY_TYPE) == "ring"
        self._levels: int = args.get(PRIORITIES, 1)
        self._lvq_key: str | None = args.get(LVQ_KEY)
        self._lvq: dict[Any, QueueEntry] = {}
        #: seconds an unused auto-delete queue lingers
        self.auto_delete_timeout: int = args.get(AUTO_DELETE_TIMEOUT, 0)
        self._next_position = 1
        self._entries = SortedDict()
        # available positions, one list per level, the highest level first
        self._avail: list[Any] = [SortedList() for _ in range(self._levels)]
        self._byte_depth = 0
        self._version = 0
        self._waiting: dict[Subscription, None] = {}
        self._subscriptions: dict[Subscription, None] = {}
        self._exclusive_sub: Subscription | None = None
        self._observers: list[QueueObserver] = []
        # (expires, position) of entries with an expiry time, lazily cleaned
        self._expiry: list[tuple[float, int]] = []
        self._ttl_live = 0
        #: ever had a counted consumer (auto-delete applies only then)
        self.ever_consumed = False
        #: when the last counted consumer left (set by the registry), or None
        self.unused_since: float | None = None
        # hooks set by the registry
        self._on_unused: Callable[[Queue], None] | None = None
        self._on_deadline: Callable[[Queue, float], None] | None = None

    # -- inspection --------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Messages on the queue, acquired-but-unsettled ones included."""
        return len(self._entries)

    @property
    def byte_depth(self) -> int:
        """Total encoded size of the messages on the queue."""
        return self._byte_depth

    @property
    def available(self) -> int:
        """Messages on the queue that no consumer holds."""
        return sum(len(a) for a in self._avail)

    @property
    def priorities(self) -> int:
        """Number of priority levels (1 for a plain FIFO queue)."""
        return self._levels

    @property
    def lvq_key(self) -> str | None:
        """The last-value key (``qpid.last_value_queue_key``), or ``None``."""
        return self._lvq_key

    @property
    def subscriptions(self) -> list[Subscription]:
        """The active subscriptions, in subscription order."""
        return list(self._subscriptions)

    def get(self, position: int) -> QueueEntry | None:
        """The entry at ``position``, or ``None`` when it has left the queue."""
        entry: QueueEntry | None = self._entries.get(position)
        return entry

    def browse_all(self) -> list[QueueEntry]:
        """Every entry on the queue, acquired ones included, in position order."""
        return list(self._entries.values())

    def next_expiry(self) -> float | None:
        """The earliest expiry time of an available entry (approximately: never later)."""
        heap = self._expiry
        entries = self._entries
        while heap:
            entry = entries.get(heap[0][1])
            if entry is not None and not entry.acquired:
                return heap[0][0]
            heapq.heappop(heap)
        return None

    # -- observers ---------------------------------------------------------------------------

    def add_observer(self, observer: QueueObserver) -> None:
        """Tell ``observer`` about every later enqueue, acquire and removal."""
        self._observers.append(observer)

    def remove_observer(self, observer: QueueObserver) -> None:
        """Stop telling ``observer``; unknown observers are ignored."""
        if observer in self._observers:
            self._observers.remove(observer)

    # -- enqueue -----------------------------------------------------------------------------

    def _expiry_of(self, message: Message, ttl: int | None, now: float) -> float | None:
        expires = now + ttl / 1000.0 if ttl else None
        aet = message.absolute_expiry_time
        if aet is not None and aet > 0:
            at = now + (aet / 1000.0 - self._wall_clock())
            if expires is None or at < expires:
                expires = at
        return expires

    def enqueue(self, message: Message, now: float) -> QueueEntry:
        """Put ``message`` on the queue.

        At a limit (``qpid.max_count``, ``qpid.max_size``; 0 means none) a ``reject`` queue
        refuses the message and a ``ring`` queue drops its oldest available entries to make
        room (if consumers hold everything it goes over the limit until they settle). On a
        last-value queue the message replaces the available entry with the same key value;
        an entry a consumer holds is not replaced, but the new one becomes the key's value.
        Waiting subscriptions are notified.

        Args:
            message: the message.
            now: the current time, to turn the message's ttl into an expiry time.

        Returns:
            The new entry.

        Raises:
            ResourceLimitExceeded: the queue is full and its policy is ``reject``; nothing
                changed.
            NotAllowed: the queue was deleted.
        """
        if self.deleted:
            raise NotAllowed(f"queue {self.name} has been deleted", RESOURCE_DELETED)
        header = message.header
        priority = header.priority
        if priority > _MAX_PRIORITY:
            priority = _MAX_PRIORITY
        size = len(message.data)
        expires = self._expiry_of(message, header.ttl, now)
        # last-value replacement: find the entry to replace before checking limits
        lvq_value: Any = None
        replaced: QueueEntry | None = None
        if self._lvq_key is not None:
            props = message.application_properties
            if props is not None:
                lvq_value = props.get(self._lvq_key)
                try:
                    old = self._lvq.get(lvq_value) if lvq_value is not None else None
                except TypeError:  # an unhashable value: not a key
                    lvq_value = old = None
                if old is not None and not old.acquired:
                    replaced = old
        if self._max_count or self._max_size:
            self._make_room(size, replaced)
        if replaced is not None:
            self.stats.lvq_replaced += 1
            self._remove(replaced)
        levels = self._levels
        rank = 0 if levels == 1 else levels - 1 - priority_level(priority, levels)
        position = self._next_position
        self._next_position = position + 1
        entry = QueueEntry(position, message, size, priority, expires, header.delivery_count, rank)
        self._entries[position] = entry
        self._avail[rank].add(position)
        self._byte_depth += size
        self.stats.enqueues += 1
        if lvq_value is not None:
            self._lvq[lvq_value] = entry
        if expires is not None:
            self._ttl_live += 1
            self._push_expiry(entry)
        if self._observers:
            for observer in self._observers:
                observer.enqueued(self, entry)
        if self._waiting:
            self._notify_waiting()
        return entry

    def _make_room(self, size: int, replaced: QueueEntry | None) -> None:
        max_count, max_size = self._max_count, self._max_size
        count = len(self._entries) + 1
        nbytes = self._byte_depth + size
        if replaced is not None:
            count -= 1
            nbytes -= replaced.size
        over_count = bool(max_count) and count > max_count
        over_size = bool(max_size) and nbytes > max_size
        if not (over_count or over_size):
            return
        if not self._ring:
            key, limit = (MAX_COUNT, max_count) if over_count else (MAX_SIZE, max_size)
            raise ResourceLimitExceeded(f"queue {self.name} is full ({key}={limit})")
        # ring: drop the oldest available entries (lowest position, any level)
        while (max_count and count > max_count) or (max_size and nbytes > max_size):
            oldest: QueueEntry | None = None
            for avail in self._avail:
                if avail:
                    candidate: QueueEntry = self._entries[avail[0]]
                    if candidate is replaced and len(avail) > 1:
                        candidate = self._entries[avail[1]]
                    elif candidate is replaced:
                        continue
                    if oldest is None or candidate.position < oldest.position:
                        oldest = candidate
            if oldest is None:
                return  # consumers hold everything: go over the limit until they settle
            count -= 1
            nbytes -= oldest.size
            self.stats.ring_drops += 1
            self._remove(oldest)

    def _push_expiry(self, entry: QueueEntry) -> None:
        heap = self._expiry
        expires: float = entry.expires  # type: ignore[assignment]
        earlier = not heap or expires < heap[0][0]
        heapq.heappush(heap, (expires, entry.position))
        if len(heap) > 2 * self._ttl_live + 64:
            self._compact_expiry()
        if earlier and self._on_deadline is not None:
            self._on_deadline(self, expires)

    def _compact_expiry(self) -> None:
        entries = self._entries
        live = []
        for item in self._expiry:
            entry = entries.get(item[1])
            if entry is not None and not entry.acquired:
                live.append(item)
        heapq.heapify(live)
        self._expiry = live

    def _notify_waiting(self) -> None:
        waiting = self._waiting
        self._waiting = {}
        for sub in waiting:
            if sub.active:
                sub.consumer.notify()

    # -- subscriptions -----------------------------------------------------------------------

    def subscribe(
        self,
        consumer: Consumer,
        *,
        browse: bool = False,
        filter: Callable[[Message], bool] | None = None,
        exclusive: bool = False,
        owner: object | None = None,
        counted: bool = True,
        skip_acquired: bool = False,
    ) -> Subscription:
        """Attach a consumer (or a browser) to the queue.

        The new subscription starts out waiting: the consumer is notified on the next enqueue
        even if it never called :meth:`Subscription.next`.

        Args:
            consumer: notified when the queue may have something for it.
            browse: see entries without acquiring them, from the head, then new ones.
            filter: only messages for which it returns true go to this subscription (a
                filter that raises counts as false).
            exclusive: refuse other counted subscriptions while this one lasts.
            owner: who subscribes (session or connection). When given, it must be the
                owner of an exclusive queue; ``None`` skips that check (the caller vouches,
                having checked ownership when it declared or looked the queue up).
            counted: ``False`` for internal subscriptions (HA replication): they do not count
                as consumers, do not keep an auto-delete queue alive and ignore exclusivity.
            skip_acquired: a browser skips entries that consumers hold (qpidd's browsers);
                by default a browser sees every entry on the queue, as HA needs.

        Returns:
            The subscription.

        Raises:
            NotAllowed: (``amqp:resource-locked``) the queue is exclusive to another owner,
                has an exclusive consumer, or has consumers and ``exclusive`` was asked;
                (``amqp:resource-deleted``) the queue was deleted.
        """
        if self.deleted:
            raise NotAllowed(f"queue {self.name} has been deleted", RESOURCE_DELETED)
        if counted:
            if (
                self.exclusive
                and owner is not None
                and self.owner is not None
                and owner is not self.owner
            ):
                raise NotAllowed(
                    f"queue {self.name} is exclusive to another session", RESOURCE_LOCKED
                )
            if self._exclusive_sub is not None:
                raise NotAllowed(f"queue {self.name} has an exclusive consumer", RESOURCE_LOCKED)
            if exclusive and self.consumer_count:
                raise NotAllowed(
                    f"cannot subscribe exclusively to queue {self.name}: it has consumers",
                    RESOURCE_LOCKED,
                )
        sub = Subscription(
            self,
            consumer,
            browse=browse,
            filter=filter,
            exclusive=exclusive and counted,
            counted=counted,
            skip_acquired=skip_acquired,
        )
        self._subscriptions[sub] = None
        if counted:
            self.consumer_count += 1
            self.ever_consumed = True
            self.unused_since = None
            if exclusive:
                self._exclusive_sub = sub
        self._waiting[sub] = None
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.pop(sub, None)
        self._waiting.pop(sub, None)
        if self._exclusive_sub is sub:
            self._exclusive_sub = None
        if sub.counted:
            self.consumer_count -= 1
            if (
                self.consumer_count == 0
                and self.auto_delete
                and not self.deleted
                and self._on_unused is not None
            ):
                self._on_unused(self)

    # -- entry life cycle --------------------------------------------------------------------

    def _acquire(self, entry: QueueEntry) -> None:
        self._avail[entry._rank].remove(entry.position)
        entry.acquired = True
        self.stats.acquires += 1
        if self._observers:
            for observer in self._observers:
                observer.acquired(self, entry)

    def _remove(self, entry: QueueEntry) -> None:
        """Take ``entry`` off the queue and tell the observers (stats.dequeues counted)."""
        del self._entries[entry.position]
        if not entry.acquired:
            self._avail[entry._rank].remove(entry.position)
        self._byte_depth -= entry.size
        self.stats.dequeues += 1
        if entry.expires is not None:
            self._ttl_live -= 1
        if self._lvq_key is not None and self._lvq:
            props = entry.message.application_properties
            value = props.get(self._lvq_key) if props is not None else None
            if value is not None:
                try:
                    if self._lvq.get(value) is entry:
                        del self._lvq[value]
                except TypeError:
                    pass
        if self._observers:
            for observer in self._observers:
                observer.dequeued(self, entry)

    def _holds(self, entry: QueueEntry) -> bool:
        return self._entries.get(entry.position) is entry

    def _drop_expired(self, entry: QueueEntry) -> None:
        if self._holds(entry) and not entry.acquired:
            self.stats.expired += 1
            self._remove(entry)

    def dequeue(self, entry: QueueEntry) -> None:
        """Remove ``entry`` for good (an accepted delivery, or HA's dequeue by position).

        An entry that has already left the queue (purged, dropped, queue deleted) is ignored.
        """
        if self._holds(entry):
            self._remove(entry)

    def reject(self, entry: QueueEntry) -> None:
        """Remove ``entry`` after a rejected outcome.

        The queue only drops it; :meth:`Registry.reject <qpid_ha.broker.registry.Registry.reject>`
        also routes the message to the alternate exchange. An entry that has already left
        the queue is ignored.
        """
        if self._holds(entry):
            self.stats.rejects += 1
            self._remove(entry)

    def release(
        self,
        entry: QueueEntry,
        *,
        delivery_failed: bool = False,
        undeliverable_for: Subscription | None = None,
    ) -> None:
        """Make an acquired entry available again, at its original position.

        Args:
            entry: the entry, acquired from this queue.
            delivery_failed: count a failed delivery (``modified`` with delivery-failed, or
                a link lost with the message unsettled).
            undeliverable_for: never offer the entry to this subscription again
                (``modified`` with undeliverable-here).

        An entry that is not acquired or has left the queue is ignored.
        """
        if not entry.acquired or not self._holds(entry):
            return
        entry.acquired = False
        entry.redelivered = True
        if delivery_failed:
            entry.delivery_count += 1
        if undeliverable_for is not None:
            if entry._undeliverable is None:
                entry._undeliverable = {undeliverable_for}
            else:
                entry._undeliverable.add(undeliverable_for)
        self._avail[entry._rank].add(entry.position)
        self._version += 1
        self.stats.releases += 1
        if entry.expires is not None:
            self._push_expiry(entry)
        if self._waiting:
            self._notify_waiting()

    def purge(self) -> int:
        """Remove every available entry (acquired ones stay); return how many."""
        doomed = [self._entries[pos] for avail in self._avail for pos in avail]
        for entry in doomed:
            self.stats.purged += 1
            self._remove(entry)
        return len(doomed)

    def expire(self, now: float) -> int:
        """Drop the available entries whose expiry time is ``now`` or earlier.

        Entries consumers hold are left alone; if released they expire then.

        Args:
            now: the current time.

        Returns:
            How many entries were dropped.
        """
        heap = self._expiry
        entries = self._entries
        count = 0
        while heap and heap[0][0] <= now:
            _, position = heapq.heappop(heap)
            entry = entries.get(position)
            if entry is not None and not entry.acquired:
                self.stats.expired += 1
                self._remove(entry)
                count += 1
        return count

    def _delete(self) -> list[QueueEntry]:
        """Mark the queue deleted and empty it; return the entries that were available."""
        left = [self._entries[pos] for avail in self._avail for pos in avail]
        left.sort(key=lambda e: e.position)
        self.deleted = True
        self._entries.clear()
        for avail in self._avail:
            avail.clear()
        self._byte_depth = 0
        self._lvq.clear()
        self._expiry.clear()
        self._ttl_live = 0
        subs = list(self._subscriptions)
        self._subscriptions.clear()
        self._waiting.clear()
        self._exclusive_sub = None
        self.consumer_count = 0
        for sub in subs:
            sub.active = False
            sub.consumer.notify()
        return left

    def __repr__(self) -> str:
        return f"<Queue {self.name!r} depth={self.depth}>"
