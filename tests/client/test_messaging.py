"""The blocking qpid.messaging-style API end to end, against a broker on a background thread.

Code written for Qpid's Python ``qpid.messaging`` should run with only its import changed:
the same calls, the same option strings, the same exception names.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from qpid_ha import messaging
from qpid_ha.broker.broker import Broker
from qpid_ha.errors import QpidHaError, UsageError
from qpid_ha.messaging import Connection, Message

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def broker() -> Iterator[Broker]:
    with Broker.running(port=0, auto_create=True) as b:
        yield b


@pytest.fixture
def connection(broker: Broker) -> Iterator[Connection]:
    conn = Connection.establish(broker.url, "{reconnect:true, heartbeat:10}")
    yield conn
    conn.close()


def closed_port() -> int:
    """A loopback port nothing listens on: bound, read back and closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_the_user_guide_round_trip_works_unchanged(broker: Broker) -> None:
    host_port = broker.url.removeprefix("amqp://")
    connection = Connection.establish(host_port, "{reconnect:true, heartbeat:10}")
    try:
        assert connection.opened()
        session = connection.session()
        sender = session.sender("q;{create:always}")
        sender.send(Message("hello"))
        receiver = session.receiver("q")
        message = receiver.fetch(timeout=5)
        session.acknowledge()
        assert message.content == "hello"
    finally:
        connection.close()
    assert not connection.opened()
    assert broker.registry.queues["q"].depth == 0


def test_options_may_be_keywords_instead_of_the_string_form(broker: Broker) -> None:
    with Connection(broker.url, reconnect=True, heartbeat=5, reconnect_limit=2) as connection:
        assert connection.opened()
        session = connection.session()
        session.sender("q").send("by keywords")
        assert session.receiver("q").fetch(timeout=5).content == "by keywords"


def test_a_bad_connection_option_is_refused_naming_it(broker: Broker) -> None:
    with pytest.raises(messaging.ConnectionError, match="heartbeat"):
        Connection(broker.url, "{heartbeat:soon}")
    with pytest.raises(messaging.ConnectionError, match="position 15"):
        Connection(broker.url, "{reconnect:true")


def test_a_bad_url_is_refused_naming_what_is_wrong() -> None:
    with pytest.raises(messaging.ConnectionError, match="bad port 99999"):
        Connection("127.0.0.1:99999")
    with pytest.raises(messaging.ConnectionError, match="rdma"):
        Connection.establish("amqp:rdma:127.0.0.1:5672")


def test_many_messages_are_sent_and_fetched_in_order(connection: Connection) -> None:
    session = connection.session()
    sender = session.sender("numbers", capacity=20)
    for i in range(200):
        sender.send(Message(i), sync=False)
    sender.sync(timeout=5)
    assert sender.unsettled() == 0
    receiver = session.receiver("numbers", capacity=20)
    got = [receiver.fetch(timeout=5).content for _ in range(200)]
    session.acknowledge()
    assert got == list(range(200))
    assert receiver.capacity == 20 and sender.capacity == 20


def test_fetch_raises_empty_when_nothing_arrives_in_time(connection: Connection) -> None:
    receiver = connection.session().receiver("empty")
    started = time.monotonic()
    with pytest.raises(messaging.Empty):
        receiver.fetch(timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 2
    assert receiver.get(timeout=0.1) is None
    assert isinstance(messaging.Empty("x"), messaging.ReceiverError)


def test_an_unknown_node_is_not_found_without_create() -> None:
    with Broker.running(port=0) as broker, Connection(broker.url) as connection:
        session = connection.session()
        with pytest.raises(messaging.NotFound, match="nosuch"):
            session.sender("nosuch")
        with pytest.raises(messaging.NotFound, match="nosuch"):
            session.receiver("nosuch")
        with pytest.raises(messaging.AddressError):  # NotFound is an address error, as in qpid
            session.receiver("nosuch")
        session.sender("made;{create:always}").send("fine")


def test_a_malformed_address_is_refused_naming_the_problem(connection: Connection) -> None:
    session = connection.session()
    with pytest.raises(messaging.MalformedAddress, match="create"):
        session.sender("q;{create:sometimes}")
    with pytest.raises(messaging.MalformedAddress, match="position"):
        session.receiver("q;{")


def test_nothing_listening_is_a_connect_error_naming_the_address() -> None:
    port = closed_port()
    with pytest.raises(messaging.ConnectError, match=f"127.0.0.1:{port}"):
        Connection.establish(f"127.0.0.1:{port}")
    with pytest.raises(messaging.ConnectError, match=f"127.0.0.1:{port}"):
        Connection.establish(f"127.0.0.1:{port}", "{reconnect:true, reconnect_limit:1}")


def test_a_full_queue_is_target_capacity_exceeded(connection: Connection) -> None:
    session = connection.session()
    sender = session.sender(
        "full;{create:always,node:{x-declare:{arguments:{'qpid.max_count':1}}}}"
    )
    sender.send("fits")
    with pytest.raises(messaging.TargetCapacityExceeded, match="full"):
        sender.send("does not fit")
    assert issubclass(messaging.TargetCapacityExceeded, messaging.SendError)


def test_released_messages_come_back_and_rejected_ones_do_not(connection: Connection) -> None:
    session = connection.session()
    sender = session.sender("q")
    sender.send("release me")
    sender.send("reject me")
    receiver = session.receiver("q", capacity=0)
    first = receiver.fetch(timeout=5)
    assert first.content == "release me"
    session.release(first)
    seen = []
    for _ in range(2):
        message = receiver.fetch(timeout=5)
        seen.append(message.content)
        if message.content == "reject me":
            session.reject(message)
        else:
            session.acknowledge(message)
    assert sorted(seen) == ["reject me", "release me"]
    assert receiver.get(timeout=0.2) is None


def test_a_closed_connection_refuses_further_use(broker: Broker) -> None:
    connection = Connection.establish(broker.url)
    session = connection.session()
    session.sender("q").send("before")  # (a round trip first: see test_client's xfail)
    connection.close()
    connection.close()  # twice is harmless
    with pytest.raises(messaging.ConnectionError):
        connection.session()
    with pytest.raises(messaging.MessagingError):
        session.sender("q")


def test_every_exception_is_a_qpid_ha_error_under_messaging_error() -> None:
    names = [n for n in messaging.__all__ if n.endswith(("Error", "Failure")) or n in EXTRA]
    assert len(names) >= 15
    for name in names:
        cls = getattr(messaging, name)
        assert issubclass(cls, messaging.MessagingError), name
        assert issubclass(cls, QpidHaError), name
    assert issubclass(messaging.ConnectError, messaging.ConnectionError)
    assert issubclass(messaging.NotFound, messaging.ResolutionError)
    assert issubclass(messaging.Empty, messaging.ReceiverError)


EXTRA = {"Empty", "Timeout", "NotFound", "MalformedAddress", "TargetCapacityExceeded"}


def test_a_received_message_acknowledges_itself(connection: Connection) -> None:
    session = connection.session()
    sender = session.sender("self-acked")
    for i in range(3):
        sender.send(Message(i))
    receiver = session.receiver("self-acked")
    first = receiver.fetch(timeout=5)
    second = receiver.fetch(timeout=5)
    first.acknowledge()
    second.release()
    again = receiver.fetch(timeout=5)
    assert again.content in (1, 2)
    with pytest.raises(UsageError, match="only a message received"):
        Message("not received").acknowledge()
