"""Broker tests over memory streams: our engine as the client, the whole broker behind it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import anyio
import pytest

from qpid_ha.amqp import (
    Accepted,
    Connection,
    ConnectionOpened,
    CreditGranted,
    DeliveryReceived,
    DeliveryUpdated,
    Event,
    Link,
    LinkAttached,
    LinkDetached,
    Message,
    Rejected,
    Session,
    Source,
    Target,
    encode_message,
)
from qpid_ha.broker.broker import Broker
from qpid_ha.testing import MemoryByteStream, memory_stream_pair

pytestmark = pytest.mark.anyio

E = TypeVar("E", bound=Event)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Client:
    """Our engine as an AMQP client over a memory stream to the broker."""

    def __init__(self, stream: MemoryByteStream, container_id: str = "test-client") -> None:
        self.stream = stream
        self.engine = Connection(container_id=container_id)
        self.events: list[Event] = []

    async def flush(self) -> None:
        data = self.engine.data_to_send()
        if data:
            await self.stream.send(data)

    async def until(self, done: Callable[[], bool], timeout: float = 5.0) -> None:
        """Exchange bytes until ``done()`` holds (or fail after ``timeout`` seconds)."""
        with anyio.fail_after(timeout):
            await self.flush()
            while not done():
                # The condition may also change on the broker's side without a frame for
                # us (a queue's depth after our disposition): look again every 10 ms.
                with anyio.move_on_after(0.01):
                    data = await self.stream.receive()
                    self.engine.receive_data(data)
                    self.events.extend(self.engine.events())
                await self.flush()

    async def wait_for(self, kind: type[E], n: int = 1) -> list[E]:
        """Wait for ``n`` events of ``kind``; remove and return them."""
        await self.until(lambda: sum(isinstance(e, kind) for e in self.events) >= n)
        found = [e for e in self.events if isinstance(e, kind)]
        self.events = [e for e in self.events if not isinstance(e, kind)]
        return found[:n]

    async def session(self) -> Session:
        self.engine.open()
        session = self.engine.begin()
        await self.wait_for(ConnectionOpened)
        return session

    async def sender(self, session: Session, address: str, **kw: Any) -> Link:
        link = session.attach_sender(f"s-{address}", target=Target(address=address, **kw))
        await self.wait_for(LinkAttached)
        await self.until(lambda: link.credit > 0 or link.remote_detach is not None)
        return link

    async def receiver(self, session: Session, source: Source, credit: int = 10) -> Link:
        link = session.attach_receiver(f"r-{source.address}", source=source)
        await self.wait_for(LinkAttached)
        if link.remote_detach is None:
            link.flow(credit)
        return link


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    async with Broker(port=0) as b:
        yield b


@contextlib.asynccontextmanager
async def connected(broker: Broker, container_id: str = "test-client") -> AsyncIterator[Client]:
    """A client on a memory stream that ``broker`` serves; the stream closes on exit."""
    ours, theirs = memory_stream_pair()
    async with anyio.create_task_group() as tg:
        tg.start_soon(broker.serve_stream, theirs)
        yield Client(ours, container_id)
        await ours.aclose()


@pytest.fixture
async def client(broker: Broker) -> AsyncIterator[Client]:
    async with connected(broker) as c:
        yield c


async def test_a_message_sent_to_a_queue_is_accepted_and_received(
    broker: Broker, client: Client
) -> None:
    broker.declare_queue("q")
    ssn = await client.session()
    snd = await client.sender(ssn, "q")
    snd.send(encode_message("hello", subject="greeting"))
    [upd] = await client.wait_for(DeliveryUpdated)
    assert upd.state == Accepted() and upd.settled
    assert broker.registry.queues["q"].depth == 1
    await client.receiver(ssn, Source(address="q"))
    [got] = await client.wait_for(DeliveryReceived)
    message = Message(got.payload)
    assert (message.body, message.subject) == ("hello", "greeting")
    got.delivery.accept()
    await client.until(lambda: broker.registry.queues["q"].depth == 0)


async def test_an_unknown_node_is_refused_with_not_found(client: Client) -> None:
    ssn = await client.session()
    ssn.attach_sender("nowhere", target=Target(address="nowhere"))
    [detached] = await client.wait_for(LinkDetached)
    assert detached.error is not None
    assert detached.error.condition == "amqp:not-found"
    assert detached.error.description == "Node not found: nowhere"


async def test_create_on_demand_declares_the_queue_with_node_properties(
    broker: Broker, client: Client
) -> None:
    ssn = await client.session()
    ssn.attach_sender(
        "maker",
        target=Target(
            address="made",
            capabilities=("queue", "create-on-demand"),
            dynamic_node_properties={"qpid.replicate": "all", "qpid.max_count": 5},
        ),
    )
    [attached] = await client.wait_for(LinkAttached)
    assert attached.attach.target.capabilities == ("queue", "create-on-demand")
    queue = broker.registry.queues["made"]
    assert queue.arguments["qpid.replicate"] == "all"
    assert queue.arguments["qpid.max_count"] == 5


async def test_a_full_queue_rejects_with_resource_limit_exceeded(
    broker: Broker, client: Client
) -> None:
    broker.declare_queue("small", arguments={"qpid.max_count": 2})
    ssn = await client.session()
    snd = await client.sender(ssn, "small")
    for i in range(3):
        snd.send(encode_message(i))
    updates = await client.wait_for(DeliveryUpdated, 3)
    states = [u.state for u in updates]
    assert states[:2] == [Accepted(), Accepted()]
    assert isinstance(states[2], Rejected) and states[2].error is not None
    assert states[2].error.condition == "amqp:resource-limit-exceeded"


async def test_anonymous_relay_routes_by_to_and_rejects_unknown_addresses(
    broker: Broker, client: Client
) -> None:
    broker.declare_queue("relayed")
    ssn = await client.session()
    relay = ssn.attach_sender("relay", target=Target())
    await client.wait_for(LinkAttached)
    await client.until(lambda: relay.credit > 0)
    relay.send(encode_message("a", to="relayed"))
    relay.send(encode_message("b", to="missing"))
    first, second = await client.wait_for(DeliveryUpdated, 2)
    assert first.state == Accepted()
    assert isinstance(second.state, Rejected) and second.state.error is not None
    assert second.state.error.condition == "amqp:not-found"
    assert broker.registry.queues["relayed"].depth == 1
    assert not client.engine.finished


async def test_outcomes_release_modify_and_reject_as_the_spec_says(
    broker: Broker, client: Client
) -> None:
    broker.declare_queue("q")
    ssn = await client.session()
    snd = await client.sender(ssn, "q")
    snd.send(encode_message("m"))
    await client.wait_for(DeliveryUpdated)
    rcv = await client.receiver(ssn, Source(address="q"), credit=1)
    [d1] = await client.wait_for(DeliveryReceived)
    d1.delivery.release()
    rcv.flow(1)
    [d2] = await client.wait_for(DeliveryReceived)
    assert Message(d2.payload).header.delivery_count == 0  # released: count unchanged
    d2.delivery.modify(delivery_failed=True)
    rcv.flow(1)
    [d3] = await client.wait_for(DeliveryReceived)
    header = Message(d3.payload).header
    assert header.delivery_count == 1 and not header.first_acquirer
    d3.delivery.reject()
    await client.until(lambda: broker.registry.queues["q"].depth == 0)


async def test_a_consumer_that_goes_away_gives_its_messages_back(broker: Broker) -> None:
    broker.declare_queue("q")
    async with connected(broker) as c:
        ssn = await c.session()
        snd = await c.sender(ssn, "q")
        snd.send(encode_message("held"))
        await c.wait_for(DeliveryUpdated)
        await c.receiver(ssn, Source(address="q"))
        await c.wait_for(DeliveryReceived)
        await c.stream.aclose()  # gone without settling
        queue = broker.registry.queues["q"]
        with anyio.fail_after(5):
            while queue.available != 1:
                await anyio.wait_all_tasks_blocked()
    assert queue.depth == 1


async def test_exchange_subscription_receives_what_matches_its_binding_filter(
    broker: Broker, client: Client
) -> None:
    from qpid_ha.amqp.types import Described, symbol

    ssn = await client.session()
    topic_filter = Described(symbol("apache.org:legacy-amqp-topic-binding:string"), "news.#")
    link = ssn.attach_receiver(
        "sub", source=Source(address="amq.topic", filter={symbol("f"): topic_filter})
    )
    [att] = await client.wait_for(LinkAttached)
    assert att.attach.source.filter == {"f": topic_filter}
    link.flow(10)
    snd = await client.sender(ssn, "amq.topic")
    snd.send(encode_message("sport", subject="sport.football"))
    snd.send(encode_message("news", subject="news.world"))
    await client.wait_for(DeliveryUpdated, 2)
    [got] = await client.wait_for(DeliveryReceived)
    assert Message(got.payload).body == "news"


async def test_management_query_over_amqp(broker: Broker, client: Client) -> None:
    broker.declare_queue("listed", arguments={"qpid.replicate": "configuration"})
    ssn = await client.session()
    replies = ssn.attach_receiver("replies", source=Source(dynamic=True))
    [att] = await client.wait_for(LinkAttached)
    reply_to = att.attach.source.address
    replies.flow(1)
    snd = await client.sender(ssn, "$management")
    snd.send(
        encode_message(
            {"attributeNames": ["name", "arguments"]},
            reply_to=reply_to,
            correlation_id="c-1",
            application_properties={
                "operation": "QUERY",
                "type": "org.amqp.management",
                "entityType": "org.apache.qpid.broker:queue",
            },
        )
    )
    [got] = await client.wait_for(DeliveryReceived)
    response = Message(got.payload)
    assert response.correlation_id == "c-1"
    assert response.application_properties is not None
    assert response.application_properties["statusCode"] == 200
    rows = {row[0]: row[1] for row in response.body["results"]}
    assert rows["listed"]["qpid.replicate"] == "configuration"


async def test_drain_on_an_empty_queue_answers_at_once(broker: Broker, client: Client) -> None:
    broker.declare_queue("empty")
    ssn = await client.session()
    rcv = await client.receiver(ssn, Source(address="empty"), credit=0)
    rcv.flow(5, drain=True)
    await client.until(lambda: rcv.credit == 0 and rcv.delivery_count == 5)


async def test_presettled_messages_need_no_outcome(broker: Broker, client: Client) -> None:
    broker.declare_queue("q")
    ssn = await client.session()
    snd = await client.sender(ssn, "q")
    snd.send(encode_message("fire"), settled=True)
    await client.until(lambda: broker.registry.queues["q"].depth == 1)
    assert not [e for e in client.events if isinstance(e, DeliveryUpdated)]
    assert not [e for e in client.events if isinstance(e, CreditGranted) and e.credit == 0]


async def test_auto_create_makes_a_queue_for_an_unknown_address() -> None:
    async with Broker(port=0, auto_create=True) as broker, connected(broker) as c:
        ssn = await c.session()
        snd = await c.sender(ssn, "fresh")
        snd.send(encode_message("x"))
        await c.wait_for(DeliveryUpdated)
        assert broker.registry.queues["fresh"].depth == 1


async def test_a_message_over_the_consumer_max_message_size_is_left_for_others(
    broker: Broker, client: Client
) -> None:
    broker.declare_queue("q")
    ssn = await client.session()
    snd = await client.sender(ssn, "q")
    snd.send(encode_message(b"x" * 500))
    snd.send(encode_message(b"small"))
    await client.wait_for(DeliveryUpdated, 2)
    small = ssn.attach_receiver("small", source=Source(address="q"), max_message_size=200)
    await client.wait_for(LinkAttached)
    small.flow(10)
    [got] = await client.wait_for(DeliveryReceived)
    assert Message(got.payload).body == b"small"
    got.delivery.accept()
    await client.until(lambda: broker.registry.queues["q"].depth == 1)


async def test_deleting_a_queue_detaches_its_consumers(broker: Broker, client: Client) -> None:
    broker.declare_queue("doomed")
    ssn = await client.session()
    await client.receiver(ssn, Source(address="doomed"))
    broker.registry.delete_queue("doomed")
    [detached] = await client.wait_for(LinkDetached)
    assert detached.error is not None
    assert detached.error.condition == "amqp:resource-deleted"


async def test_a_selector_filters_and_a_bad_selector_refuses_the_link(
    broker: Broker, client: Client
) -> None:
    from qpid_ha.amqp.types import Described, symbol

    broker.declare_queue("q")
    ssn = await client.session()
    snd = await client.sender(ssn, "q")
    for colour in ("blue", "red"):
        snd.send(encode_message(colour, application_properties={"colour": colour}))
    await client.wait_for(DeliveryUpdated, 2)
    selector = Described(symbol("apache.org:selector-filter:string"), "colour = 'red'")
    red = ssn.attach_receiver(
        "red", source=Source(address="q", filter={symbol("jms-selector"): selector})
    )
    [att] = await client.wait_for(LinkAttached)
    assert att.attach.source.filter == {"jms-selector": selector}
    red.flow(10)
    [got] = await client.wait_for(DeliveryReceived)
    assert Message(got.payload).body == "red"
    bad = Described(symbol("apache.org:selector-filter:string"), "colour = ")
    ssn.attach_receiver("bad", source=Source(address="q", filter={symbol("s"): bad}))
    [detached] = await client.wait_for(LinkDetached)
    assert detached.error is not None
    assert detached.error.condition == "amqp:invalid-field"


async def test_an_internal_error_closes_one_connection_and_the_broker_goes_on(
    broker: Broker, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qpid_ha.amqp import ConnectionClosed
    from qpid_ha.broker.adapter import AmqpConnection

    def broken(self: AmqpConnection, *args: Any) -> None:
        raise RuntimeError("a bug")

    broker.declare_queue("q")
    ssn = await client.session()
    snd = await client.sender(ssn, "q")
    monkeypatch.setattr(AmqpConnection, "_on_message", broken)
    snd.send(encode_message("boom"))
    [closed] = await client.wait_for(ConnectionClosed)
    assert closed.error is not None and closed.error.condition == "amqp:internal-error"
    monkeypatch.undo()
    async with connected(broker, "other") as other:
        s2 = await other.session()
        sender = await other.sender(s2, "q")
        sender.send(encode_message("fine"))
        [upd] = await other.wait_for(DeliveryUpdated)
        assert upd.state == Accepted()


async def test_a_message_over_the_broker_max_message_size_detaches_the_producer() -> None:
    async with Broker(port=0, max_message_size=1000) as broker, connected(broker) as c:
        broker.declare_queue("q")
        ssn = await c.session()
        snd = await c.sender(ssn, "q")
        assert snd.remote_max_message_size == 1000
        snd.remote_attach = None  # a client that ignores the advertised limit
        snd.send(encode_message(b"x" * 2000))
        [detached] = await c.wait_for(LinkDetached)
        assert detached.error is not None
        assert detached.error.condition == "amqp:link:message-size-exceeded"
        assert broker.registry.queues["q"].depth == 0


async def test_a_completer_holds_the_producers_accepted_until_it_releases(
    broker: Broker, client: Client
) -> None:
    from qpid_ha.broker import Completion, Queue, QueueEntry

    held: list[Completion] = []

    class Guard:
        def enqueued(self, queue: Queue, entry: QueueEntry, completion: Completion) -> None:
            completion.hold()
            held.append(completion)

    broker.declare_queue("q")
    broker.registry.add_completer(Guard())
    ssn = await client.session()
    snd = await client.sender(ssn, "q")
    sent = snd.send(encode_message("guarded"))
    await client.until(lambda: len(held) == 1)
    assert sent.remote_state is None  # stored, but not yet accepted
    held[0].release()
    [upd] = await client.wait_for(DeliveryUpdated)
    assert upd.delivery is sent and upd.state == Accepted()
