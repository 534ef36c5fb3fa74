"""The async client against our broker: flow control, acknowledgements, addresses, content.

Most tests run an in-process :class:`~qpid_ha.broker.broker.Broker` on a loopback port, so
they can look at its queues; the capacity test needs a broker that stops answering, so it
SIGSTOPs a ``qpidd`` daemon.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from qpid_ha.broker.broker import Broker
from qpid_ha.client import (
    Connection,
    Message,
    MessageRejected,
    Receiver,
    Session,
    Timeout,
)
from qpid_ha.errors import InvalidArgument, NotFound, QpidHaError

from .conftest import QpiddFactory

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

LIMITED = (
    "limited;{create:always,node:{x-declare:{arguments:"
    "{'qpid.max_count':2,'qpid.policy_type':reject}}}}"
)


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        await anyio.sleep(0.005)


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    async with Broker(port=0, auto_create=True) as b:
        yield b


@pytest.fixture
async def session(broker: Broker) -> AsyncIterator[Session]:
    async with Connection(broker.url) as conn:
        yield await conn.session()


async def fill(session: Session, address: str, contents: list[Any]) -> None:
    sender = await session.sender(address)
    for content in contents:
        await sender.send(content, sync=False)
    await sender.sync(timeout=5)


async def drain(receiver: Receiver, quiet: float = 0.2) -> list[Any]:
    """Every message that arrives until none has for ``quiet`` seconds."""
    contents = []
    while (message := await receiver.get(timeout=quiet)) is not None:
        contents.append(message.content)
    return contents


# ------------------------------------------------------------------------------------------
# Senders: capacity and outcomes
# ------------------------------------------------------------------------------------------


async def test_sends_wait_once_capacity_messages_are_unacknowledged(qpidd: QpiddFactory) -> None:
    daemon = qpidd()
    async with Connection(f"amqp:{daemon.url}") as conn:
        session = await conn.session()
        sender = await session.sender("q", capacity=5)
        receiver = await session.receiver("q")
        daemon.stop()  # nothing is accepted any more
        for i in range(5):
            with anyio.fail_after(1):
                await sender.send(i, sync=False)  # returns at once: room in the capacity
        assert sender.unsettled == 5
        with pytest.raises(Timeout):
            await sender.send(5, sync=False, timeout=0.3)  # waits for room, none comes
        assert sender.unsettled == 5
        daemon.cont()
        await sender.sync(timeout=5)
        assert sender.unsettled == 0
        # the send that timed out sent nothing
        assert await drain(receiver) == [0, 1, 2, 3, 4]


async def test_unacknowledged_messages_never_exceed_the_capacity(session: Session) -> None:
    sender = await session.sender("q", capacity=7)
    most = 0
    for i in range(500):
        await sender.send(i, sync=False)
        most = max(most, sender.unsettled)
    assert most <= 7
    await sender.sync(timeout=5)
    assert sender.unsettled == 0


async def test_a_message_a_full_queue_rejects_raises_on_its_sync_send(
    session: Session, broker: Broker
) -> None:
    sender = await session.sender(LIMITED)
    await sender.send("1")
    await sender.send("2")
    with pytest.raises(MessageRejected) as info:
        await sender.send("3")
    assert info.value.condition == "amqp:resource-limit-exceeded"
    assert "limited" in str(info.value)
    assert broker.registry.queues["limited"].depth == 2
    # the sender goes on working once there is room
    receiver = await session.receiver("limited")
    session.acknowledge(await receiver.fetch(timeout=5))
    await wait_for(lambda: broker.registry.queues["limited"].depth == 1, "room in the queue")
    await sender.send("4")


async def test_a_rejected_asynchronous_send_raises_on_the_next_send_once(
    session: Session, broker: Broker
) -> None:
    sender = await session.sender(LIMITED)
    for content in ("1", "2", "3"):
        await sender.send(content, sync=False)  # none of these raises
    await wait_for(lambda: sender.unsettled == 0, "outcomes of the three messages")
    with pytest.raises(MessageRejected) as info:
        await sender.send("4", sync=False)
    assert info.value.condition == "amqp:resource-limit-exceeded"
    # reported once: the sender is usable again (the queue being full, "5" is rejected too)
    await sender.send("5", sync=False)
    with pytest.raises(MessageRejected):
        await sender.sync(timeout=5)
    assert broker.registry.queues["limited"].depth == 2


# ------------------------------------------------------------------------------------------
# Receivers: prefetch, acknowledgements, iteration
# ------------------------------------------------------------------------------------------


async def test_a_receiver_prefetches_exactly_its_capacity(session: Session, broker: Broker) -> None:
    await fill(session, "q", list(range(10)))
    queue = broker.registry.queues["q"]
    receiver = await session.receiver("q", capacity=3)
    await wait_for(lambda: receiver.available == 3, "three messages prefetched")
    # a round trip on the same connection: anything more the broker sent has arrived by now
    await fill(session, "other", ["ping"])
    assert (receiver.available, queue.available) == (3, 7)
    assert (await receiver.fetch(timeout=5)).content == 0
    await wait_for(lambda: receiver.available == 3, "credit topped up after a fetch")
    assert queue.available == 6


async def test_a_receiver_of_capacity_zero_takes_one_message_per_fetch(
    session: Session, broker: Broker
) -> None:
    await fill(session, "q", list(range(5)))
    queue = broker.registry.queues["q"]
    receiver = await session.receiver("q", capacity=0)
    await fill(session, "other", ["ping"])  # a round trip: nothing was prefetched
    assert (receiver.available, queue.available) == (0, 5)
    assert (await receiver.fetch(timeout=5)).content == 0
    assert (await receiver.fetch(timeout=5)).content == 1
    await fill(session, "other", ["ping"])
    assert (receiver.available, queue.available) == (0, 3)


async def test_a_released_message_comes_back_and_a_rejected_one_does_not(
    session: Session, broker: Broker
) -> None:
    await fill(session, "q", ["keep", "drop"])
    receiver = await session.receiver("q", capacity=1)
    keep = await receiver.fetch(timeout=5)
    assert keep.content == "keep"
    session.release(keep)
    seen = []
    for _ in range(2):  # "keep" again, and "drop", in whichever order the broker chooses
        message = await receiver.fetch(timeout=5)
        seen.append(message.content)
        if message.content == "drop":
            session.reject(message)
        else:
            session.acknowledge(message)
    assert sorted(seen) == ["drop", "keep"]
    assert await receiver.get(timeout=0.2) is None
    queue = broker.registry.queues["q"]
    await wait_for(lambda: queue.depth == 0, "the queue emptied by the acknowledgement")


async def test_acknowledge_without_a_message_acknowledges_everything_fetched(
    session: Session, broker: Broker
) -> None:
    await fill(session, "q", [1, 2, 3])
    receiver = await session.receiver("q")
    for _ in range(3):
        await receiver.fetch(timeout=5)
    queue = broker.registry.queues["q"]
    assert (session.unacked, queue.depth) == (3, 3)
    session.acknowledge()
    assert session.unacked == 0
    await wait_for(lambda: queue.depth == 0, "three messages acknowledged at once")


async def test_messages_fetched_but_not_acknowledged_are_redelivered_when_the_session_closes(
    broker: Broker,
) -> None:
    async with Connection(broker.url) as conn:
        first = await conn.session()
        await fill(first, "q", ["a", "b"])
        receiver = await first.receiver("q")
        assert (await receiver.fetch(timeout=5)).content == "a"
        await first.close()
        second = await conn.session()
        again = await (await second.receiver("q")).fetch(timeout=5)
        assert again.content == "a"
        assert again.redelivered


async def test_a_receiver_is_an_async_iterator_of_messages(session: Session) -> None:
    await fill(session, "q", ["x", "y", "z"])
    receiver = await session.receiver("q")
    seen = []
    with anyio.fail_after(5):
        async for message in receiver:
            seen.append(message.content)
            session.acknowledge(message)
            if len(seen) == 3:
                break
    assert seen == ["x", "y", "z"]


async def test_fetch_raises_empty_and_get_returns_none_when_nothing_comes(
    session: Session,
) -> None:
    from qpid_ha.client import Empty

    receiver = await session.receiver("q")
    started = time.monotonic()
    with pytest.raises(Empty, match="'q'"):
        await receiver.fetch(timeout=0.2)
    assert await receiver.get(timeout=0.1) is None
    assert 0.3 <= time.monotonic() - started < 2


# ------------------------------------------------------------------------------------------
# Addresses, mapped onto our broker
# ------------------------------------------------------------------------------------------


async def test_the_replicate_address_creates_a_queue_with_that_argument(
    session: Session, broker: Broker
) -> None:
    await session.sender(
        "myqueue;{create:always,node:{x-declare:{arguments:{'qpid.replicate':all}}}}"
    )
    assert broker.registry.queues["myqueue"].arguments["qpid.replicate"] == "all"


async def test_a_browsing_receiver_leaves_the_messages_on_the_queue(
    session: Session, broker: Broker
) -> None:
    await fill(session, "q", [1, 2, 3])
    browser = await session.receiver("q;{mode:browse}")
    assert await drain(browser) == [1, 2, 3]
    session.acknowledge()
    await fill(session, "other", ["ping"])  # a round trip after the acknowledgement
    assert broker.registry.queues["q"].depth == 3
    consumer = await session.receiver("q")
    assert await drain(consumer) == [1, 2, 3]


async def test_a_topic_subscription_gets_only_the_matching_subjects(session: Session) -> None:
    news = await session.receiver("amq.topic/news.#")
    sender = await session.sender("amq.topic")
    for subject in ("sport.football", "news.world", "weather", "news.uk.politics"):
        await sender.send(Message(subject, subject=subject))
    assert await drain(news) == ["news.world", "news.uk.politics"]


async def test_a_missing_node_is_not_found_where_the_broker_does_not_create_it() -> None:
    async with Broker(port=0) as broker, Connection(broker.url) as conn:
        session = await conn.session()
        with pytest.raises(NotFound, match="nosuch"):
            await session.sender("nosuch")
        with pytest.raises(NotFound, match="nosuch"):
            await session.receiver("nosuch")
        await session.sender("made;{create:always}")  # the session still works
        assert "made" in broker.registry.queues


@pytest.mark.parametrize(
    ("address", "names"),
    [
        ("q;{create:sometimes}", ["create", "sometimes"]),
        ("q;{", ["position"]),
        ("q;{mode:peek}", ["mode", "peek"]),
        ("q;{node:{type:stack}}", ["type", "stack"]),
        ("q;{colour:red}", ["colour"]),
        ("", ["name"]),
    ],
)
async def test_a_bad_address_is_refused_naming_what_is_wrong(
    session: Session, address: str, names: list[str]
) -> None:
    with pytest.raises(InvalidArgument) as info:
        await session.sender(address)
    for name in names:
        assert name in str(info.value)
    with pytest.raises(InvalidArgument):
        await session.receiver(address)
    await session.sender("q")  # nothing was attached, the session is fine


@pytest.mark.parametrize(
    ("url", "names"),
    [
        ("amqp:tcp:127.0.0.1:99999", ["99999"]),
        ("amqp:tcp:127.0.0.1:http", ["http"]),
        ("amqp:rdma:host:5672", ["rdma"]),
        ("amqp://host/path", ["path"]),
        ("", ["empty"]),
        ("amqp:tcp:[::1:5672", ["]"]),
    ],
)
def test_a_bad_url_is_refused_naming_what_is_wrong(url: str, names: list[str]) -> None:
    with pytest.raises(InvalidArgument) as info:
        Connection(url)
    for name in names:
        assert name in str(info.value)


def test_bad_connection_settings_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="heartbeat"):
        Connection("amqp:tcp:127.0.0.1:5672", heartbeat=0)
    with pytest.raises(InvalidArgument, match="interval"):
        Connection("amqp:tcp:127.0.0.1:5672", reconnect_interval_min=2, reconnect_interval_max=1)
    with pytest.raises(InvalidArgument, match="URL"):
        Connection([])


# ------------------------------------------------------------------------------------------
# Content and fields through the broker
# ------------------------------------------------------------------------------------------

CONTENTS: list[Any] = [
    "text",
    "ünïcødé ✓",
    "",
    b"\x00\x01\xfe\xff",
    b"",
    {"a": 1, "nested": {"list": [1, 2.5, None, True, "s"]}, "bytes": b"\x00"},
    [1, "two", b"three", [4.0], {"five": 5}],
    [],
    {},
    0,
    -1,
    2**63 - 1,
    -(2**63),
    3.25,
    True,
    False,
    None,
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
]


async def test_content_round_trips_through_the_broker_as_the_same_values(
    session: Session,
) -> None:
    await fill(session, "content", CONTENTS)
    receiver = await session.receiver("content", capacity=len(CONTENTS))
    received = [(await receiver.fetch(timeout=5)).content for _ in CONTENTS]
    session.acknowledge()
    assert received == CONTENTS
    assert [type(c) for c in received] == [type(c) for c in CONTENTS]


async def test_message_fields_round_trip_through_the_broker(session: Session) -> None:
    sent = Message(
        {"k": "v"},
        content_type="application/x-test",
        subject="a.subject",
        id="id-1",
        correlation_id="corr-1",
        reply_to="replies",
        durable=True,
        priority=7,
        ttl=60,
        properties={"colour": "red", "n": 3},
    )
    sender = await session.sender("fields")
    await sender.send(sent)
    got = await (await session.receiver("fields")).fetch(timeout=5)
    assert got.content == {"k": "v"}
    assert (got.content_type, got.subject, got.id, got.correlation_id, got.reply_to) == (
        "application/x-test",
        "a.subject",
        "id-1",
        "corr-1",
        "replies",
    )
    assert (got.durable, got.priority) == (True, 7)
    assert got.ttl is not None and 0 < got.ttl <= 60
    assert got.properties == {"colour": "red", "n": 3}


async def test_every_client_error_is_a_qpid_ha_error(session: Session) -> None:
    from qpid_ha import client

    for name in ("ConnectError", "Empty", "MessageRejected", "Timeout"):
        assert issubclass(getattr(client, name), QpidHaError)
    with pytest.raises(QpidHaError):
        await (await session.receiver("q")).fetch(timeout=0)


SCENARIO_CLOSE_RIGHT_AFTER_BEGIN = """
import anyio
from qpid_ha.broker.broker import Broker
from qpid_ha.client import Connection
async def main() -> None:
    async with Broker(port=0) as broker:
        async with Connection(broker.url) as conn:
            await conn.session()  # the begin and the close leave in one write
        async with Connection(broker.url) as conn:
            await (await conn.session()).sender("q;{create:always}")
    print("broker still serving")
anyio.run(main)
"""


def test_a_client_closing_right_after_beginning_a_session_leaves_the_broker_serving() -> None:
    # In a process of its own: the broker's failure breaks the event loop it runs on.
    done = subprocess.run(
        [sys.executable, "-c", SCENARIO_CLOSE_RIGHT_AFTER_BEGIN],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "broker still serving"


async def test_the_client_adopts_the_failover_server_list_a_broker_offers() -> None:
    async def run_a(backup_port: int, stop: anyio.Event, *, task_status: Any) -> None:
        async with Broker(port=0, auto_create=True) as a:
            a.open_properties["failover-server-list"] = [
                {"network-host": "127.0.0.1", "port": backup_port, "scheme": "amqp"}
            ]
            task_status.started(a)
            await stop.wait()

    async with Broker(port=0, auto_create=True) as b, anyio.create_task_group() as tg:
        stop = anyio.Event()
        a = await tg.start(run_a, b.port, stop)
        # The client knows only A; A's open tells it about B.
        async with Connection(a.url, reconnect=True, reconnect_limit=20) as conn:
            assert [x.port for x in conn.addresses] == [a.port, b.port]
            session = await conn.session()
            sender = await session.sender("q")
            await sender.send(Message("to a"))
            stop.set()  # A goes away
            await sender.send(Message("to b"), timeout=10)
            assert conn.address is not None and conn.address.port == b.port
        assert b.registry.queues["q"].depth == 1


async def test_messages_settle_themselves_on_the_async_api() -> None:
    async with Broker(port=0, auto_create=True) as b, Connection(b.url) as conn:
        session = await conn.session()
        sender = await session.sender("own")
        for i in range(2):
            await sender.send(Message(i))
        receiver = await session.receiver("own", capacity=1)
        first = await receiver.fetch(timeout=5)
        first.reject()
        second = await receiver.fetch(timeout=5)
        second.acknowledge()
        queue = b.registry.queues["own"]
        with anyio.fail_after(5):
            while queue.depth:
                await anyio.sleep(0.01)
        assert queue.stats.rejects == 1
