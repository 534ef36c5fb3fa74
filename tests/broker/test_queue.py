"""Queue behaviour: ordering, policies, expiry, subscriptions, observers and exact counts."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qpid_ha.amqp.message import Message, Properties, encode_message
from qpid_ha.broker.queue import Queue, QueueEntry, priority_level
from qpid_ha.errors import InvalidArgument, NotAllowed, ResourceLimitExceeded


def msg(body: Any = "x", **kw: Any) -> Message:
    """A message built by the application-side encoder."""
    return Message(encode_message(body, **kw))


class Waiter:
    """A consumer that counts its notifications."""

    def __init__(self) -> None:
        self.notified = 0

    def notify(self) -> None:
        self.notified += 1


class Events:
    """A queue observer that records what it saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def enqueued(self, queue: Queue, entry: QueueEntry) -> None:
        self.seen.append(("enqueued", entry.message.body))

    def acquired(self, queue: Queue, entry: QueueEntry) -> None:
        self.seen.append(("acquired", entry.message.body))

    def dequeued(self, queue: Queue, entry: QueueEntry) -> None:
        self.seen.append(("dequeued", entry.message.body))


def drain(queue: Queue, now: float = 0.0, **kw: Any) -> list[Any]:
    """Acquire everything a fresh subscription can take; return the bodies."""
    sub = queue.subscribe(Waiter(), **kw)
    out = []
    while (entry := sub.next(now)) is not None:
        out.append(entry.message.body)
    sub.cancel()
    return out


# -- ordering --------------------------------------------------------------------------------


def test_plain_queue_delivers_in_fifo_order_whatever_the_priority() -> None:
    q = Queue("q")
    for i, p in enumerate([1, 9, 4]):
        q.enqueue(msg(i, priority=p), 0)
    assert drain(q) == [0, 1, 2]


def test_priority_queue_delivers_highest_priority_first_then_fifo() -> None:
    q = Queue("q", arguments={"qpid.priorities": 10})
    for body, p in [("a", 1), ("b", 9), ("c", 5), ("d", 9), ("e", 1)]:
        q.enqueue(msg(body, priority=p), 0)
    assert drain(q) == ["b", "d", "c", "a", "e"]


def test_priority_queue_with_two_levels_groups_priorities_like_qpidd() -> None:
    q = Queue("q", arguments={"qpid.priorities": 2})
    for body, p in [("low0", 0), ("low4", 4), ("high5", 5), ("high9", 9)]:
        q.enqueue(msg(body, priority=p), 0)
    # 0..4 share the low level, 5..9 the high level: FIFO within each
    assert drain(q) == ["high5", "high9", "low0", "low4"]


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (10, list(range(10))),
        (2, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]),
        (3, [0, 0, 0, 0, 1, 2, 2, 2, 2, 2]),
        (1, [0] * 10),
    ],
)
def test_priority_levels_follow_the_amqp_0_10_mapping(levels: int, expected: list[int]) -> None:
    assert [priority_level(p, levels) for p in range(10)] == expected


def test_priority_above_nine_counts_as_nine() -> None:
    q = Queue("q", arguments={"qpid.priorities": 10})
    entry = q.enqueue(msg("x", priority=200), 0)
    assert entry.priority == 9


def test_message_without_header_has_default_priority_four() -> None:
    q = Queue("q")
    assert q.enqueue(msg("x"), 0).priority == 4


def test_released_message_goes_back_to_its_original_place() -> None:
    q = Queue("q")
    for i in range(3):
        q.enqueue(msg(i), 0)
    sub = q.subscribe(Waiter())
    first = sub.next(0)
    second = sub.next(0)
    assert first is not None and second is not None
    q.release(first)
    again = [sub.next(0), sub.next(0)]
    assert [e.message.body for e in again if e is not None] == [0, 2]
    assert second.acquired


def test_positions_increase_and_are_never_reused() -> None:
    q = Queue("q")
    a = q.enqueue(msg(1), 0)
    q.dequeue(a)
    b = q.enqueue(msg(2), 0)
    assert b.position > a.position
    assert q.get(a.position) is None
    assert q.get(b.position) is b


# -- limits ----------------------------------------------------------------------------------


def test_full_reject_queue_refuses_with_resource_limit_exceeded() -> None:
    q = Queue("q", arguments={"qpid.max_count": 2})
    q.enqueue(msg(1), 0)
    q.enqueue(msg(2), 0)
    with pytest.raises(ResourceLimitExceeded) as info:
        q.enqueue(msg(3), 0)
    assert info.value.condition == "amqp:resource-limit-exceeded"
    assert info.value.description == "queue q is full (qpid.max_count=2)"
    assert q.depth == 2 and q.stats.enqueues == 2


def test_byte_limit_names_max_size_in_the_error() -> None:
    m = msg(b"0123456789")
    q = Queue("q", arguments={"qpid.max_size": str(len(m.data) * 2 - 1)})
    q.enqueue(m, 0)
    with pytest.raises(ResourceLimitExceeded, match=r"queue q is full \(qpid\.max_size="):
        q.enqueue(m, 0)


def test_acquired_messages_count_against_the_limit() -> None:
    q = Queue("q", arguments={"qpid.max_count": 1})
    q.enqueue(msg(1), 0)
    assert q.subscribe(Waiter()).next(0) is not None
    with pytest.raises(ResourceLimitExceeded):
        q.enqueue(msg(2), 0)


def test_zero_limit_means_no_limit() -> None:
    q = Queue("q", arguments={"qpid.max_count": 0, "qpid.max_size": 0})
    for i in range(50):
        q.enqueue(msg(i), 0)
    assert q.depth == 50


def test_ring_queue_drops_the_oldest_message_to_make_room() -> None:
    q = Queue("q", arguments={"qpid.max_count": 3, "qpid.policy_type": "ring"})
    events = Events()
    q.add_observer(events)
    for i in range(5):
        q.enqueue(msg(i), 0)
    assert [e.message.body for e in q.browse_all()] == [2, 3, 4]
    assert q.stats.ring_drops == 2
    assert ("dequeued", 0) in events.seen and ("dequeued", 1) in events.seen


def test_ring_queue_never_drops_messages_a_consumer_holds() -> None:
    q = Queue("q", arguments={"qpid.max_count": 2, "qpid.policy_type": "ring"})
    q.enqueue(msg(0), 0)
    q.enqueue(msg(1), 0)
    held = q.subscribe(Waiter()).next(0)
    assert held is not None and held.message.body == 0
    q.enqueue(msg(2), 0)
    assert [e.message.body for e in q.browse_all()] == [0, 2]
    assert held.acquired and q.get(held.position) is held


def test_ring_queue_drops_by_size_until_the_new_message_fits() -> None:
    small = msg(b"a")
    big = msg(b"b" * 100)
    limit = 3 * len(small.data) + 1
    q = Queue("q", arguments={"qpid.max_size": limit, "qpid.policy_type": "ring"})
    for _ in range(3):
        q.enqueue(small, 0)
    q.enqueue(msg(b"c" * (len(small.data) * 2 - len(small.data) // 2)), 0)
    assert q.byte_depth <= limit
    q.enqueue(big, 0)  # bigger than the limit: everything else goes, and it stays
    assert [e.message.body for e in q.browse_all()] == [b"b" * 100]


# -- last value queue ------------------------------------------------------------------------


def test_last_value_queue_keeps_only_the_latest_value_per_key() -> None:
    q = Queue("q", arguments={"qpid.last_value_queue_key": "sym"})
    events = Events()
    q.add_observer(events)
    for body, sym in [("ibm1", "IBM"), ("rht1", "RHT"), ("ibm2", "IBM"), ("none", None)]:
        props = {"sym": sym} if sym else None
        q.enqueue(msg(body, application_properties=props), 0)
    assert [e.message.body for e in q.browse_all()] == ["rht1", "ibm2", "none"]
    assert q.stats.lvq_replaced == 1
    assert events.seen[-4:-1] == [("enqueued", "rht1"), ("dequeued", "ibm1"), ("enqueued", "ibm2")]


def test_last_value_queue_does_not_replace_a_message_being_delivered() -> None:
    q = Queue("q", arguments={"qpid.last_value_queue_key": "k"})
    q.enqueue(msg("v1", application_properties={"k": 1}), 0)
    held = q.subscribe(Waiter()).next(0)
    assert held is not None
    q.enqueue(msg("v2", application_properties={"k": 1}), 0)
    q.enqueue(msg("v3", application_properties={"k": 1}), 0)
    assert [e.message.body for e in q.browse_all()] == ["v1", "v3"]
    q.dequeue(held)
    q.enqueue(msg("v4", application_properties={"k": 1}), 0)
    assert [e.message.body for e in q.browse_all()] == ["v4"]


def test_last_value_replacement_frees_room_on_a_full_queue() -> None:
    q = Queue("q", arguments={"qpid.last_value_queue_key": "k", "qpid.max_count": 1})
    q.enqueue(msg("a", application_properties={"k": "x"}), 0)
    q.enqueue(msg("b", application_properties={"k": "x"}), 0)
    with pytest.raises(ResourceLimitExceeded):
        q.enqueue(msg("c", application_properties={"k": "y"}), 0)
    assert [e.message.body for e in q.browse_all()] == ["b"]


# -- expiry ----------------------------------------------------------------------------------


def test_ttl_sets_an_expiry_time_on_the_callers_clock() -> None:
    q = Queue("q")
    assert q.enqueue(msg("x", ttl=1500), 100.0).expires == pytest.approx(101.5)
    assert q.enqueue(msg("y"), 100.0).expires is None


def test_expire_drops_expired_available_messages_only() -> None:
    q = Queue("q")
    q.enqueue(msg("short", ttl=1000), 0)
    q.enqueue(msg("long", ttl=5000), 0)
    q.enqueue(msg("forever"), 0)
    assert q.expire(0.999) == 0
    assert q.expire(1.0) == 1
    assert [e.message.body for e in q.browse_all()] == ["long", "forever"]
    assert q.stats.expired == 1
    assert q.next_expiry() == pytest.approx(5.0)


def test_a_consumer_never_receives_an_expired_message() -> None:
    q = Queue("q")
    q.enqueue(msg("stale", ttl=10), 0)
    q.enqueue(msg("fresh"), 0)
    assert drain(q, now=1.0) == ["fresh"]
    assert [e.message.body for e in q.browse_all()] == ["fresh"]
    assert q.stats.expired == 1


def test_held_message_that_expires_is_dropped_only_after_release() -> None:
    q = Queue("q")
    q.enqueue(msg("x", ttl=1000), 0)
    sub = q.subscribe(Waiter())
    held = sub.next(0)
    assert held is not None
    assert q.expire(5) == 0 and q.depth == 1
    q.release(held)
    assert q.next_expiry() == pytest.approx(1.0)
    assert q.expire(5) == 1 and q.depth == 0


def test_absolute_expiry_time_is_converted_from_the_wall_clock() -> None:
    q = Queue("q", wall_clock=lambda: 1_000_000.0)
    m = msg("x", properties=Properties(absolute_expiry_time=1_000_002_500))
    assert q.enqueue(m, 50.0).expires == pytest.approx(52.5)


def test_the_earlier_of_ttl_and_absolute_expiry_wins() -> None:
    q = Queue("q", wall_clock=lambda: 1000.0)
    m = msg("x", ttl=1000, properties=Properties(absolute_expiry_time=1_010_000))
    assert q.enqueue(m, 0.0).expires == pytest.approx(1.0)


def test_browsers_skip_expired_messages() -> None:
    q = Queue("q")
    q.enqueue(msg("old", ttl=1), 0)
    q.enqueue(msg("new"), 0)
    sub = q.subscribe(Waiter(), browse=True)
    entry = sub.next(10)
    assert entry is not None and entry.message.body == "new"


# -- subscriptions ---------------------------------------------------------------------------


def test_waiting_consumer_is_notified_of_a_new_message() -> None:
    q = Queue("q")
    w = Waiter()
    sub = q.subscribe(w)
    assert sub.next(0) is None
    q.enqueue(msg(1), 0)
    assert w.notified == 1
    q.enqueue(msg(2), 0)  # it has not asked again: no second notification
    assert w.notified == 1
    assert sub.next(0) is not None and sub.next(0) is not None and sub.next(0) is None
    q.enqueue(msg(3), 0)
    assert w.notified == 2


def test_new_subscription_is_notified_without_asking_first() -> None:
    q = Queue("q")
    w = Waiter()
    q.subscribe(w)
    q.enqueue(msg(1), 0)
    assert w.notified == 1


def test_release_notifies_waiting_consumers() -> None:
    q = Queue("q")
    q.enqueue(msg(1), 0)
    a, b = Waiter(), Waiter()
    sub_a = q.subscribe(a)
    sub_b = q.subscribe(b)
    entry = sub_a.next(0)
    assert entry is not None and sub_b.next(0) is None
    q.release(entry)
    assert b.notified == 1
    again = sub_b.next(0)
    assert again is entry


def test_competing_consumers_never_get_the_same_message() -> None:
    q = Queue("q")
    for i in range(4):
        q.enqueue(msg(i), 0)
    a, b = q.subscribe(Waiter()), q.subscribe(Waiter())
    got = [a.next(0), b.next(0), a.next(0), b.next(0), a.next(0), b.next(0)]
    bodies = [e.message.body for e in got if e is not None]
    assert sorted(bodies) == [0, 1, 2, 3]


def test_browser_sees_messages_without_taking_them_and_then_later_ones() -> None:
    q = Queue("q")
    q.enqueue(msg(1), 0)
    w = Waiter()
    browser = q.subscribe(w, browse=True)
    first = browser.next(0)
    assert first is not None and not first.acquired
    assert browser.next(0) is None
    q.enqueue(msg(2), 0)
    assert w.notified == 1
    second = browser.next(0)
    assert second is not None and second.message.body == 2
    assert drain(q) == [1, 2]  # still there for consumers


def test_browser_sees_held_messages_unless_asked_to_skip_them() -> None:
    q = Queue("q")
    q.enqueue(msg(1), 0)
    q.enqueue(msg(2), 0)
    assert q.subscribe(Waiter()).next(0) is not None
    all_seen = q.subscribe(Waiter(), browse=True)
    skipping = q.subscribe(Waiter(), browse=True, skip_acquired=True)
    assert [all_seen.next(0), all_seen.next(0)] == q.browse_all()
    entry = skipping.next(0)
    assert entry is not None and entry.message.body == 2


def test_filter_leaves_other_messages_for_other_consumers() -> None:
    q = Queue("q")
    for i in range(6):
        q.enqueue(msg(i, application_properties={"even": i % 2 == 0}), 0)
    evens = drain(q, filter=lambda m: (m.application_properties or {}).get("even") is True)
    assert evens == [0, 2, 4]
    assert drain(q) == [1, 3, 5]


def test_filtered_consumer_gets_matching_messages_enqueued_later() -> None:
    q = Queue("q")
    sub = q.subscribe(Waiter(), filter=lambda m: m.body == "yes")
    q.enqueue(msg("no"), 0)
    assert sub.next(0) is None
    q.enqueue(msg("yes"), 0)
    entry = sub.next(0)
    assert entry is not None and entry.message.body == "yes"


def test_filtered_consumer_sees_a_matching_message_released_behind_its_cursor() -> None:
    q = Queue("q")
    q.enqueue(msg("yes"), 0)
    q.enqueue(msg("no"), 0)
    other = q.subscribe(Waiter())
    held = other.next(0)
    assert held is not None
    picky = q.subscribe(Waiter(), filter=lambda m: m.body == "yes")
    assert picky.next(0) is None
    q.release(held)
    assert picky.next(0) is held


def test_a_filter_that_raises_does_not_match() -> None:
    q = Queue("q")
    q.enqueue(msg(1), 0)

    def broken(m: Message) -> bool:
        raise KeyError("boom")

    assert drain(q, filter=broken) == []
    assert q.depth == 1


def test_undeliverable_here_keeps_the_message_from_that_subscription_only() -> None:
    q = Queue("q")
    q.enqueue(msg("m"), 0)
    a = q.subscribe(Waiter())
    b = q.subscribe(Waiter())
    entry = a.next(0)
    assert entry is not None
    q.release(entry, undeliverable_for=a)
    assert a.next(0) is None
    assert b.next(0) is entry


def test_release_with_delivery_failed_counts_the_failed_attempt() -> None:
    q = Queue("q")
    entry = q.enqueue(msg("m", header=None), 0)
    sub = q.subscribe(Waiter())
    assert sub.next(0) is entry
    q.release(entry)
    assert entry.delivery_count == 0 and entry.redelivered
    assert sub.next(0) is entry
    q.release(entry, delivery_failed=True)
    assert entry.delivery_count == 1


def test_delivery_count_starts_from_the_header() -> None:
    from qpid_ha.amqp.message import Header

    q = Queue("q")
    assert q.enqueue(msg("m", header=Header(delivery_count=3)), 0).delivery_count == 3


def test_cancel_keeps_held_messages_acquired_until_released() -> None:
    q = Queue("q")
    q.enqueue(msg(1), 0)
    sub = q.subscribe(Waiter())
    entry = sub.next(0)
    assert entry is not None
    sub.cancel()
    assert entry.acquired and q.consumer_count == 0 and sub.next(0) is None
    q.release(entry)
    assert drain(q) == [1]


def test_exclusive_subscription_locks_out_other_consumers() -> None:
    q = Queue("q")
    sub = q.subscribe(Waiter(), exclusive=True)
    with pytest.raises(NotAllowed) as info:
        q.subscribe(Waiter())
    assert info.value.condition == "amqp:resource-locked"
    sub.cancel()
    q.subscribe(Waiter())
    with pytest.raises(NotAllowed, match="has consumers"):
        q.subscribe(Waiter(), exclusive=True)


def test_exclusive_queue_refuses_another_owner() -> None:
    owner, stranger = object(), object()
    q = Queue("q", exclusive=True, owner=owner)
    q.subscribe(Waiter(), owner=owner)
    with pytest.raises(NotAllowed) as info:
        q.subscribe(Waiter(), owner=stranger)
    assert info.value.condition == "amqp:resource-locked"


def test_uncounted_subscription_is_not_a_consumer() -> None:
    q = Queue("q")
    q.subscribe(Waiter(), exclusive=True)
    replicator = q.subscribe(Waiter(), browse=True, counted=False)
    assert q.consumer_count == 1
    replicator.cancel()
    assert q.consumer_count == 1


def test_last_consumer_leaving_an_auto_delete_queue_calls_the_hook() -> None:
    q = Queue("q", auto_delete=True)
    calls: list[Queue] = []
    q._on_unused = calls.append
    a, b = q.subscribe(Waiter()), q.subscribe(Waiter())
    a.cancel()
    a.cancel()  # twice is harmless
    assert calls == []
    b.cancel()
    assert calls == [q]


# -- removal and counts ----------------------------------------------------------------------


def test_purge_removes_available_messages_and_keeps_held_ones() -> None:
    q = Queue("q")
    for i in range(3):
        q.enqueue(msg(i), 0)
    held = q.subscribe(Waiter()).next(0)
    assert q.purge() == 2
    assert q.browse_all() == [held]
    assert q.stats.purged == 2


def test_reject_removes_the_message() -> None:
    q = Queue("q")
    entry = q.enqueue(msg(1), 0)
    assert q.subscribe(Waiter()).next(0) is entry
    q.reject(entry)
    assert q.depth == 0 and q.stats.rejects == 1 and q.stats.dequeues == 1


def test_settling_a_message_that_already_left_is_ignored() -> None:
    q = Queue("q")
    entry = q.enqueue(msg(1), 0)
    q.dequeue(entry)
    q.dequeue(entry)
    q.release(entry)
    q.reject(entry)
    assert q.stats.dequeues == 1 and q.depth == 0


def test_depth_and_byte_depth_follow_enqueues_and_dequeues() -> None:
    q = Queue("q")
    a = q.enqueue(msg(b"12345"), 0)
    b = q.enqueue(msg(b"1"), 0)
    assert q.depth == 2 and q.byte_depth == a.size + b.size
    q.dequeue(a)
    assert q.depth == 1 and q.byte_depth == b.size
    assert a.size == len(a.message.data)


def test_observers_see_enqueue_acquire_and_dequeue_in_order() -> None:
    q = Queue("q")
    events = Events()
    q.add_observer(events)
    q.enqueue(msg("a"), 0)
    entry = q.subscribe(Waiter()).next(0)
    assert entry is not None
    q.dequeue(entry)
    q.enqueue(msg("b", ttl=1), 0)
    q.expire(1)
    q.remove_observer(events)
    q.enqueue(msg("c"), 0)
    assert events.seen == [
        ("enqueued", "a"),
        ("acquired", "a"),
        ("dequeued", "a"),
        ("enqueued", "b"),
        ("dequeued", "b"),
    ]


def test_deleted_queue_refuses_messages_and_ends_subscriptions() -> None:
    q = Queue("q")
    w = Waiter()
    sub = q.subscribe(w)
    q.enqueue(msg(1), 0)
    left = q._delete()
    assert [e.message.body for e in left] == [1]
    assert q.deleted and not sub.active and w.notified == 2
    with pytest.raises(NotAllowed):
        q.enqueue(msg(2), 0)
    with pytest.raises(NotAllowed):
        q.subscribe(Waiter())


def test_bad_arguments_are_refused_at_construction() -> None:
    with pytest.raises(InvalidArgument, match=r"qpid\.max_count"):
        Queue("q", arguments={"qpid.max_count": "lots"})


# -- property-based: exact counts and ordering under any sequence -----------------------------

operations = st.lists(
    st.one_of(
        st.tuples(st.just("enqueue"), st.integers(0, 9), st.sampled_from([None, 1000, 3000])),
        st.tuples(st.just("next"), st.integers(0, 2), st.none()),
        st.tuples(st.just("release"), st.integers(0, 50), st.booleans()),
        st.tuples(st.just("dequeue"), st.integers(0, 50), st.none()),
        st.tuples(st.just("reject"), st.integers(0, 50), st.none()),
        st.tuples(st.just("expire"), st.none(), st.none()),
        st.tuples(st.just("tick"), st.none(), st.none()),
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(ops=operations, priorities=st.sampled_from([None, 3, 10]))
def test_counts_and_order_stay_exact_under_any_operations(
    ops: list[tuple[str, Any, Any]], priorities: int | None
) -> None:
    args = {"qpid.priorities": priorities} if priorities else {}
    q = Queue("q", arguments=args)
    subs = [q.subscribe(Waiter()) for _ in range(3)]
    held: list[QueueEntry] = []
    now = 0.0
    enqueued = removed = 0
    for op, a, b in ops:
        if op == "enqueue":
            q.enqueue(msg(enqueued, priority=a, ttl=b), now)
            enqueued += 1
        elif op == "next":
            entry = subs[a].next(now)
            if entry is not None:
                assert entry not in held, "delivered twice while acquired"
                assert entry.expires is None or entry.expires > now
                # nothing available in a higher level, nor older in the same level
                for other in q.browse_all():
                    if other.acquired or other is entry:
                        continue
                    if other.expires is not None and other.expires <= now:
                        continue
                    if priorities:
                        assert other._rank >= entry._rank
                        if other._rank == entry._rank:
                            assert other.position > entry.position
                    else:
                        assert other.position > entry.position
                held.append(entry)
        elif op in ("release", "dequeue", "reject") and held:
            entry = held.pop(a % len(held))
            if op == "release":
                q.release(entry, delivery_failed=b)
            elif op == "dequeue":
                q.dequeue(entry)
            else:
                q.reject(entry)
        elif op == "expire":
            q.expire(now)
        elif op == "tick":
            now += 1.0
        removed = q.stats.dequeues
        assert q.depth == enqueued - removed == q.stats.enqueues - q.stats.dequeues
        assert q.depth == len(q.browse_all())
        assert q.available == q.depth - len(held)
        assert q.byte_depth == sum(e.size for e in q.browse_all())
        assert all(e.acquired for e in held)
        positions = [e.position for e in q.browse_all()]
        assert positions == sorted(positions)
    # FIFO within a priority level: a fresh consumer sees each level in position order
    for sub in subs:
        sub.cancel()
    for entry in held:
        q.release(entry)
    order = []
    final = q.subscribe(Waiter())
    while (entry := final.next(now)) is not None:
        order.append((entry._rank, entry.position))
    assert order == sorted(order)
