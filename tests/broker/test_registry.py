"""The registry: declares, deletes, bindings, routing, completers, timed work, arguments."""

from __future__ import annotations

import re
from typing import Any

import pytest

from qpid_ha.amqp.message import Message, encode_message
from qpid_ha.broker.arguments import validate_exchange_arguments, validate_queue_arguments
from qpid_ha.broker.exchange import Binding, Exchange
from qpid_ha.broker.queue import Queue, QueueEntry
from qpid_ha.broker.registry import BUILTIN_EXCHANGES, Completion, Registry
from qpid_ha.errors import (
    AlreadyExists,
    InvalidArgument,
    NotAllowed,
    NotFound,
    ResourceLimitExceeded,
    UsageError,
)


def msg(body: Any = "x", **kw: Any) -> Message:
    return Message(encode_message(body, **kw))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Waiter:
    def __init__(self) -> None:
        self.notified = 0

    def notify(self) -> None:
        self.notified += 1


class Recorder:
    """A broker observer that records events."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def queue_created(self, queue: Queue) -> None:
        self.events.append(("queue_created", queue.name))

    def queue_deleted(self, queue: Queue) -> None:
        self.events.append(("queue_deleted", queue.name))

    def exchange_created(self, exchange: Exchange) -> None:
        self.events.append(("exchange_created", exchange.name))

    def exchange_deleted(self, exchange: Exchange) -> None:
        self.events.append(("exchange_deleted", exchange.name))

    def binding_created(self, binding: Binding) -> None:
        self.events.append(("binding_created", (binding.exchange, binding.queue, binding.key)))

    def binding_deleted(self, binding: Binding) -> None:
        self.events.append(("binding_deleted", (binding.exchange, binding.queue, binding.key)))


class Guard:
    """An enqueue completer that holds every completion until told to let go."""

    def __init__(self) -> None:
        self.held: list[tuple[str, Completion]] = []

    def enqueued(self, queue: Queue, entry: QueueEntry, completion: Completion) -> None:
        completion.hold()
        self.held.append((queue.name, completion))

    def release_all(self) -> None:
        for _, completion in self.held:
            completion.release()
        self.held.clear()


class Passer:
    """An enqueue completer that looks but never holds."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def enqueued(self, queue: Queue, entry: QueueEntry, completion: Completion) -> None:
        self.seen.append((queue.name, entry.position))


@pytest.fixture
def reg() -> Registry:
    return Registry(Clock())


def body_of(queue: Queue) -> list[Any]:
    return [e.message.body for e in queue.browse_all()]


# -- queues ----------------------------------------------------------------------------------


def test_declare_queue_creates_once_and_returns_the_existing_queue(reg: Registry) -> None:
    q, created = reg.declare_queue("q", durable=True, arguments={"qpid.max_count": "5"})
    assert created and q.durable and q.arguments == {"qpid.max_count": 5}
    again, created = reg.declare_queue("q", arguments={"qpid.max_count": 9})
    assert again is q and not created and q.arguments == {"qpid.max_count": 5}
    assert reg.queues == {"q": q}


def test_declare_queue_refuses_bad_arguments_and_creates_nothing(reg: Registry) -> None:
    with pytest.raises(InvalidArgument, match=r"qpid\.policy_type"):
        reg.declare_queue("q", arguments={"qpid.policy_type": "flow"})
    assert "q" not in reg.queues


def test_declare_queue_needs_its_alternate_exchange(reg: Registry) -> None:
    with pytest.raises(NotFound, match="alternate exchange dlx"):
        reg.declare_queue("q", arguments={"alternate-exchange": "dlx"})
    reg.declare_exchange("dlx", "fanout")
    q, _ = reg.declare_queue("q", arguments={"alternate-exchange": "dlx"})
    assert q.alternate_exchange == "dlx"


def test_empty_queue_name_is_refused(reg: Registry) -> None:
    with pytest.raises(InvalidArgument):
        reg.declare_queue("")


def test_exclusive_queue_belongs_to_its_owner(reg: Registry) -> None:
    owner, stranger = object(), object()
    q, _ = reg.declare_queue("q", exclusive=True, owner=owner)
    assert reg.declare_queue("q", owner=owner) == (q, False)
    with pytest.raises(NotAllowed) as info:
        reg.declare_queue("q", owner=stranger)
    assert info.value.condition == "amqp:resource-locked"


def test_released_exclusive_queue_can_be_claimed(reg: Registry) -> None:
    owner, other = object(), object()
    q, _ = reg.declare_queue("q", exclusive=True, owner=owner)
    temp, _ = reg.declare_queue("temp", exclusive=True, auto_delete=True, owner=owner)
    reg.release_owner(owner)
    assert "temp" not in reg.queues and temp.deleted
    assert q.owner is None
    reg.declare_queue("q", exclusive=True, owner=other)
    assert q.owner is other


def test_delete_queue_checks_preconditions(reg: Registry) -> None:
    q, _ = reg.declare_queue("q")
    q.enqueue(msg(), 0)
    sub = q.subscribe(Waiter())
    with pytest.raises(NotAllowed) as info:
        reg.delete_queue("q", if_empty=True)
    assert info.value.condition == "amqp:precondition-failed"
    with pytest.raises(NotAllowed, match="consumers"):
        reg.delete_queue("q", if_unused=True)
    reg.delete_queue("q")
    assert "q" not in reg.queues and not sub.active
    with pytest.raises(NotFound):
        reg.delete_queue("q")


def test_deleting_a_queue_removes_its_bindings_first(reg: Registry) -> None:
    rec = Recorder()
    reg.add_observer(rec)
    reg.declare_queue("q")
    reg.bind("amq.direct", "q", "k")
    reg.bind("amq.topic", "q", "a.#")
    reg.delete_queue("q")
    assert rec.events == [
        ("queue_created", "q"),
        ("binding_created", ("amq.direct", "q", "k")),
        ("binding_created", ("amq.topic", "q", "a.#")),
        ("binding_deleted", ("amq.direct", "q", "k")),
        ("binding_deleted", ("amq.topic", "q", "a.#")),
        ("queue_deleted", "q"),
    ]
    assert reg.bindings() == []
    assert reg.route("amq.direct", msg(), "k") == []


def test_deleting_a_queue_sends_its_messages_to_the_alternate_exchange(reg: Registry) -> None:
    reg.declare_exchange("dlx", "fanout")
    dlq, _ = reg.declare_queue("dlq")
    reg.bind("dlx", "dlq")
    reg.declare_queue("q", arguments={"alternate-exchange": "dlx"})
    reg.enqueue([reg.queues["q"]], msg("m"), lambda: None)
    reg.delete_queue("q")
    assert body_of(dlq) == ["m"]


# -- exchanges -------------------------------------------------------------------------------


def test_builtin_exchanges_exist_from_the_start(reg: Registry) -> None:
    assert {n: x.type for n, x in reg.exchanges.items()} == BUILTIN_EXCHANGES
    assert BUILTIN_EXCHANGES["amq.match"] == "headers"


@pytest.mark.parametrize("name", ["", "amq.direct", "amq.topic", "amq.new"])
def test_reserved_exchange_names_cannot_be_declared_or_deleted(reg: Registry, name: str) -> None:
    with pytest.raises(NotAllowed):
        reg.declare_exchange(name, "direct")
    with pytest.raises(NotAllowed):
        reg.delete_exchange(name)


def test_declare_exchange_checks_type(reg: Registry) -> None:
    x, created = reg.declare_exchange("x", "topic", durable=True)
    assert created and x.type == "topic" and x.durable
    assert reg.declare_exchange("x", "topic") == (x, False)
    with pytest.raises(AlreadyExists) as info:
        reg.declare_exchange("x", "direct")
    assert info.value.condition == "amqp:precondition-failed"
    with pytest.raises(InvalidArgument, match="unknown exchange type 'xml'"):
        reg.declare_exchange("y", "xml")


def test_delete_exchange_checks_use(reg: Registry) -> None:
    rec = Recorder()
    reg.declare_exchange("x", "direct")
    reg.declare_queue("q")
    reg.bind("x", "q", "k")
    with pytest.raises(NotAllowed, match="bindings"):
        reg.delete_exchange("x", if_unused=True)
    reg.add_observer(rec)
    reg.delete_exchange("x")
    assert rec.events == [
        ("binding_deleted", ("x", "q", "k")),
        ("exchange_deleted", "x"),
    ]
    with pytest.raises(NotFound):
        reg.delete_exchange("x")


def test_an_alternate_exchange_in_use_cannot_be_deleted(reg: Registry) -> None:
    reg.declare_exchange("dlx", "fanout")
    reg.declare_queue("q", arguments={"alternate-exchange": "dlx"})
    with pytest.raises(NotAllowed, match="alternate exchange of q"):
        reg.delete_exchange("dlx")


# -- bindings and routing --------------------------------------------------------------------


def test_bind_needs_both_ends(reg: Registry) -> None:
    reg.declare_queue("q")
    with pytest.raises(NotFound, match="exchange nope"):
        reg.bind("nope", "q")
    with pytest.raises(NotFound, match="queue nope"):
        reg.bind("amq.direct", "nope")
    with pytest.raises(NotAllowed):
        reg.bind("", "q", "q")


def test_binding_again_reports_nothing_new(reg: Registry) -> None:
    rec = Recorder()
    reg.declare_queue("q")
    reg.add_observer(rec)
    first = reg.bind("amq.direct", "q", "k")
    assert reg.bind("amq.direct", "q", "k") is first
    reg.bind("amq.direct", "q", "k", {"qpid.replicate": "none"})
    assert rec.events == [
        ("binding_created", ("amq.direct", "q", "k")),
        ("binding_deleted", ("amq.direct", "q", "k")),
        ("binding_created", ("amq.direct", "q", "k")),
    ]
    assert reg.bindings() == [Binding("amq.direct", "q", "k", {"qpid.replicate": "none"})]


def test_unbind_removes_and_complains_about_unknown_bindings(reg: Registry) -> None:
    reg.declare_queue("q")
    reg.bind("amq.direct", "q", "k")
    reg.unbind("amq.direct", "q", "k")
    assert reg.route("amq.direct", msg(), "k") == []
    with pytest.raises(NotFound):
        reg.unbind("amq.direct", "q", "k")


def test_default_exchange_routes_by_queue_name(reg: Registry) -> None:
    q, _ = reg.declare_queue("q")
    assert reg.route("", msg(), "q") == [q]
    assert reg.route("", msg(), "other") == []
    assert reg.route("", msg(subject="q")) == [q]


def test_routing_key_defaults_to_the_subject(reg: Registry) -> None:
    q, _ = reg.declare_queue("q")
    reg.bind("amq.topic", "q", "news.#")
    assert reg.route("amq.topic", msg(subject="news.sport")) == [q]
    assert reg.route("amq.topic", msg()) == []


def test_routing_to_an_unknown_exchange_is_not_found(reg: Registry) -> None:
    with pytest.raises(NotFound):
        reg.route("nope", msg(), "k")


def test_unroutable_message_goes_to_the_exchanges_alternate(reg: Registry) -> None:
    reg.declare_exchange("dlx", "fanout")
    reg.declare_exchange("x", "direct", arguments={"alternate-exchange": "dlx"})
    spare, _ = reg.declare_queue("spare")
    normal, _ = reg.declare_queue("normal")
    reg.bind("dlx", "spare")
    reg.bind("x", "normal", "k")
    assert reg.route("x", msg(), "k") == [normal]
    assert reg.route("x", msg(), "other") == [spare]


def test_alternate_exchange_loops_are_cut(reg: Registry) -> None:
    reg.declare_exchange("a", "direct", arguments={"alternate-exchange": "a"})
    assert reg.route("a", msg(), "k") == []


def test_headers_builtin_exchange_routes_on_application_properties(reg: Registry) -> None:
    q, _ = reg.declare_queue("q")
    reg.bind("amq.match", "q", "", {"x-match": "any", "colour": "red"})
    assert reg.route("amq.match", msg(application_properties={"colour": "red"})) == [q]
    assert reg.route("amq.fanout", msg()) == []


# -- enqueue and completers ------------------------------------------------------------------


def test_enqueue_without_completers_is_complete_at_once(reg: Registry) -> None:
    a, _ = reg.declare_queue("a")
    b, _ = reg.declare_queue("b")
    calls: list[str] = []
    assert reg.enqueue([a, b], msg("m"), lambda: calls.append("done"))
    assert calls == [] and body_of(a) == ["m"] and body_of(b) == ["m"]


def test_completer_that_holds_delays_completion_until_released(reg: Registry) -> None:
    guard = Guard()
    reg.add_completer(guard)
    a, _ = reg.declare_queue("a")
    b, _ = reg.declare_queue("b")
    calls: list[str] = []
    assert not reg.enqueue([a, b], msg("m"), lambda: calls.append("done"))
    assert [name for name, _ in guard.held] == ["a", "b"]
    guard.held[0][1].release()
    assert calls == []
    guard.held[1][1].release()
    assert calls == ["done"]


def test_completers_that_do_not_hold_leave_the_enqueue_complete(reg: Registry) -> None:
    passer = Passer()
    reg.add_completer(passer)
    a, _ = reg.declare_queue("a")
    calls: list[str] = []
    assert reg.enqueue([a], msg("m"), lambda: calls.append("done"))
    assert passer.seen == [("a", 1)] and calls == []
    reg.remove_completer(passer)
    reg.enqueue([a], msg("m"), lambda: None)
    assert len(passer.seen) == 1


def test_release_during_the_enqueue_still_counts_as_complete(reg: Registry) -> None:
    class Quick:
        def enqueued(self, queue: Queue, entry: QueueEntry, completion: Completion) -> None:
            completion.hold()
            completion.release()

    reg.add_completer(Quick())
    a, _ = reg.declare_queue("a")
    calls: list[str] = []
    assert reg.enqueue([a], msg(), lambda: calls.append("done"))
    assert calls == []


def test_full_queue_fails_the_enqueue_and_keeps_earlier_queues(reg: Registry) -> None:
    guard = Guard()
    reg.add_completer(guard)
    a, _ = reg.declare_queue("a")
    tiny, _ = reg.declare_queue("tiny", arguments={"qpid.max_count": 1})
    tiny.enqueue(msg(), 0)
    calls: list[str] = []
    with pytest.raises(ResourceLimitExceeded):
        reg.enqueue([a, tiny], msg("m"), lambda: calls.append("done"))
    assert body_of(a) == ["m"]
    guard.release_all()
    assert calls == []  # the producer was refused; it is never accepted


def test_completion_counts_holds() -> None:
    calls: list[int] = []
    c = Completion(lambda: calls.append(1))
    c.hold()
    c.hold()
    c.release()
    assert not c.done and c.pending == 1
    c.release()
    assert c.done and calls == [1]
    with pytest.raises(UsageError):
        c.hold()
    with pytest.raises(UsageError):
        Completion(lambda: None).release()


def test_reject_dead_letters_to_the_queues_alternate_exchange(reg: Registry) -> None:
    reg.declare_exchange("dlx", "fanout")
    dlq, _ = reg.declare_queue("dlq")
    reg.bind("dlx", "dlq")
    q, _ = reg.declare_queue("q", arguments={"alternate-exchange": "dlx"})
    reg.enqueue([q], msg("bad"), lambda: None)
    entry = q.subscribe(Waiter()).next(0)
    assert entry is not None
    reg.reject(q, entry)
    assert q.depth == 0 and q.stats.rejects == 1
    assert body_of(dlq) == ["bad"]
    reg.reject(q, entry)  # settling twice does not dead-letter twice
    assert body_of(dlq) == ["bad"]


def test_reject_without_alternate_just_drops(reg: Registry) -> None:
    q, _ = reg.declare_queue("q")
    entry = q.enqueue(msg(), 0)
    reg.reject(q, entry)
    assert q.depth == 0 and all(x.bindings == [] for x in reg.exchanges.values())


def test_full_dead_letter_queue_drops_the_message(reg: Registry) -> None:
    reg.declare_exchange("dlx", "fanout")
    dlq, _ = reg.declare_queue("dlq", arguments={"qpid.max_count": 1})
    dlq.enqueue(msg("first"), 0)
    reg.bind("dlx", "dlq")
    q, _ = reg.declare_queue("q", arguments={"alternate-exchange": "dlx"})
    entry = q.enqueue(msg("bad"), 0)
    reg.reject(q, entry)
    assert body_of(dlq) == ["first"] and q.depth == 0


# -- timed work ------------------------------------------------------------------------------


def test_poll_expires_messages_and_returns_the_next_deadline() -> None:
    clock = Clock()
    reg = Registry(clock)
    wakeups: list[float] = []
    reg.wakeup = wakeups.append
    q, _ = reg.declare_queue("q")
    reg.declare_queue("idle")
    clock.now = 10.0
    reg.enqueue([q], msg("a", ttl=2000), lambda: None)
    reg.enqueue([q], msg("b", ttl=5000), lambda: None)
    reg.enqueue([q], msg("c"), lambda: None)
    assert wakeups == [12.0]
    assert reg.poll(11.0) == 12.0
    assert reg.poll(12.0) == 15.0
    assert body_of(q) == ["b", "c"]
    assert reg.poll(15.0) is None
    assert body_of(q) == ["c"]
    reg.enqueue([q], msg("d", ttl=1000), lambda: None)
    assert wakeups == [12.0, 11.0]


def test_auto_delete_queue_goes_when_its_last_consumer_leaves() -> None:
    reg = Registry(Clock())
    rec = Recorder()
    reg.add_observer(rec)
    q, _ = reg.declare_queue("q", auto_delete=True)
    a, b = q.subscribe(Waiter()), q.subscribe(Waiter())
    a.cancel()
    assert "q" in reg.queues
    b.cancel()
    assert "q" not in reg.queues and q.deleted
    assert rec.events[-1] == ("queue_deleted", "q")


def test_auto_delete_queue_never_consumed_from_stays() -> None:
    reg = Registry(Clock())
    reg.declare_queue("q", auto_delete=True)
    assert reg.poll(1e9) is None
    assert "q" in reg.queues


def test_auto_delete_timeout_delays_deletion() -> None:
    clock = Clock()
    reg = Registry(clock)
    wakeups: list[float] = []
    reg.wakeup = wakeups.append
    q, _ = reg.declare_queue("q", auto_delete=True, arguments={"qpid.auto_delete_timeout": 30})
    clock.now = 100.0
    q.subscribe(Waiter()).cancel()
    assert "q" in reg.queues and wakeups == [130.0]
    assert reg.poll(129.0) == 130.0
    assert reg.poll(130.0) is None
    assert "q" not in reg.queues


def test_a_new_consumer_saves_an_auto_delete_queue_from_its_timeout() -> None:
    clock = Clock()
    reg = Registry(clock)
    q, _ = reg.declare_queue("q", auto_delete=True, arguments={"qpid.auto_delete_timeout": 5})
    q.subscribe(Waiter()).cancel()
    q.subscribe(Waiter())
    assert reg.poll(100.0) is None
    assert "q" in reg.queues


def test_a_replicator_does_not_keep_an_auto_delete_queue_alive() -> None:
    reg = Registry(Clock())
    q, _ = reg.declare_queue("q", auto_delete=True)
    q.subscribe(Waiter(), browse=True, counted=False)
    q.subscribe(Waiter()).cancel()
    assert "q" not in reg.queues


# -- arguments -------------------------------------------------------------------------------


def test_queue_arguments_are_normalized_and_unknown_keys_kept() -> None:
    args = validate_queue_arguments(
        {
            "qpid.max_count": "10",
            "qpid.max_size": 2048,
            "qpid.policy_type": "ring",
            "qpid.priorities": 12,
            "qpid.last_value_queue_key": "k",
            "qpid.auto_delete_timeout": " 7 ",
            "qpid.replicate": "all",
            "alternate-exchange": "dlx",
            "x-qpid-custom": [1, 2],
        }
    )
    assert args == {
        "qpid.max_count": 10,
        "qpid.max_size": 2048,
        "qpid.policy_type": "ring",
        "qpid.priorities": 10,
        "qpid.last_value_queue_key": "k",
        "qpid.auto_delete_timeout": 7,
        "qpid.replicate": "all",
        "alternate-exchange": "dlx",
        "x-qpid-custom": [1, 2],
    }


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"qpid.max_count": -1}, "qpid.max_count"),
        ({"qpid.max_count": "-1"}, "qpid.max_count"),
        ({"qpid.max_count": "ten"}, "qpid.max_count"),
        ({"qpid.max_count": 1.5}, "qpid.max_count"),
        ({"qpid.max_count": True}, "qpid.max_count"),
        ({"qpid.max_size": None}, "qpid.max_size"),
        ({"qpid.auto_delete_timeout": "1e3"}, "qpid.auto_delete_timeout"),
        ({"qpid.priorities": 0}, "qpid.priorities"),
        ({"qpid.policy_type": "flow_to_disk"}, "qpid.policy_type"),
        ({"qpid.last_value_queue_key": ""}, "qpid.last_value_queue_key"),
        ({"qpid.replicate": "some"}, "Invalid replication value"),
        ({"alternate-exchange": 5}, "alternate-exchange"),
        ({1: "x"}, "strings"),
    ],
)
def test_bad_queue_arguments_are_refused_naming_the_key(args: Any, named: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(named)) as info:
        validate_queue_arguments(args)
    assert info.value.condition == "amqp:invalid-field"


def test_exchange_arguments_check_replicate_and_keep_the_rest() -> None:
    assert validate_exchange_arguments({"qpid.replicate": "none", "other": 1}) == {
        "qpid.replicate": "none",
        "other": 1,
    }
    with pytest.raises(InvalidArgument, match="Invalid replication value"):
        validate_exchange_arguments({"qpid.replicate": "ALL"})
