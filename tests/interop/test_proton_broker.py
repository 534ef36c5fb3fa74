"""Level 3 interop: python-qpid-proton clients against a running broker over loopback TCP.

The scenarios follow research/amqp10-broker-requirements.md section 11 (1-16 and 20), plus
message fidelity, exchange routing, queue limits, TTL and priorities. Each test starts its
own broker on an ephemeral port (the ``broker`` fixture) and talks to it the way a proton
application would: through ``Container`` + ``MessagingHandler`` (pipelined open) or through
``BlockingConnection``. Every wait is a condition with a deadline.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from proton import (
    Connection,
    Data,
    Delivery,
    Described,
    Endpoint,
    Event,
    Message,
    Timeout,
    Transport,
    symbol,
)
from proton.handlers import MessagingHandler
from proton.reactor import (
    AtMostOnce,
    Container,
    Copy,
    DurableSubscription,
    Filter,
    LinkOption,
    Selector,
)
from proton.utils import (
    BlockingConnection,
    BlockingReceiver,
    LinkDetached,
    SyncRequestResponse,
)

from qpid_ha.broker.broker import Broker

from .conftest import STEP_TIMEOUT, depth, on_loop, proton_url, run_container, wait_for

pytestmark = pytest.mark.timeout(60)

TOPIC_FILTER = symbol("apache.org:legacy-amqp-topic-binding:string")
SELECTOR_FILTER = symbol("apache.org:selector-filter:string")


# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def client(broker: Broker) -> Iterator[BlockingConnection]:
    """A BlockingConnection to the broker, closed after the test."""
    conn = BlockingConnection(proton_url(broker), timeout=STEP_TIMEOUT)
    try:
        yield conn
    finally:
        conn.close()


class Inbox(MessagingHandler):
    """A receiver's handler that keeps every message with its delivery, unsettled."""

    def __init__(self) -> None:
        super().__init__(prefetch=0, auto_accept=False)
        self.messages: list[Message] = []
        self.deliveries: list[Delivery] = []
        self.detached = False

    def on_link_remote_detach(self, event: Event) -> None:
        self.detached = True

    def on_message(self, event: Event) -> None:
        assert event.delivery is not None
        self.messages.append(event.message)
        self.deliveries.append(event.delivery)

    @property
    def bodies(self) -> list[Any]:
        return [m.body for m in self.messages]


def receiver(
    conn: BlockingConnection,
    address: str | None,
    credit: int = 0,
    **kwargs: Any,
) -> tuple[BlockingReceiver, Inbox]:
    """Attach a receiver whose deliveries an :class:`Inbox` collects; grant ``credit``."""
    inbox = Inbox()
    kwargs.setdefault("name", f"receiver-{uuid.uuid4()}")  # proton would reuse "<id>-<address>"
    rcv = conn.create_receiver(address, credit=credit, handler=inbox, **kwargs)
    return rcv, inbox


def wait_pumping(
    conn: BlockingConnection,
    condition: Callable[[], bool],
    what: str,
    timeout: float = STEP_TIMEOUT,
) -> None:
    """Wait for ``condition`` (on the broker) while the client keeps doing its I/O."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        with contextlib.suppress(Timeout):
            conn.wait(condition, timeout=0.02)


def wait_messages(conn: BlockingConnection, inbox: Inbox, n: int) -> None:
    conn.wait(lambda: len(inbox.messages) >= n, timeout=STEP_TIMEOUT, msg=f"{n} messages")


def drain(conn: BlockingConnection, rcv: BlockingReceiver, credit: int = 10) -> None:
    """Ask for up to ``credit`` more messages and wait until the broker says it has no more."""
    link = rcv.link
    link.drain(credit)
    conn.wait(lambda: not link.draining(), timeout=STEP_TIMEOUT, msg="drain")


def send(conn: BlockingConnection, address: str, *bodies: Any, **props: Any) -> None:
    """Send each body as a message to ``address`` and wait for each to be accepted."""
    snd = conn.create_sender(address)
    for body in bodies:
        delivery = snd.send(Message(body=body, **props))
        assert delivery.remote_state == Delivery.ACCEPTED
    snd.close()


def settle(delivery: Delivery, state: int, *, failed: bool = False, here: bool = False) -> None:
    delivery.local.failed = failed
    delivery.local.undeliverable = here
    delivery.update(state)
    delivery.settle()


def put_symbols(data: Data, *names: str) -> None:
    data.put_array(False, Data.SYMBOL)
    data.enter()
    for name in names:
        data.put_symbol(name)
    data.exit()


class Capabilities(LinkOption):
    """Set capabilities on the terminus that names the node (target of a sender, source of
    a receiver)."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def apply(self, link: Any) -> None:
        terminus = link.target if link.is_sender else link.source
        put_symbols(terminus.capabilities, *self.names)


def symbols_of(data: Data) -> list[str]:
    data.rewind()
    data.next()
    value = data.get_object()
    if value is None:
        return []
    if isinstance(value, str):
        return [str(value)]
    return [str(v) for v in value]


# -- 1. default connect (pipelined) ------------------------------------------------------------


class _RoundTrip(MessagingHandler):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.opened: dict[str, Any] = {}
        self.sent = False
        self.received: list[Any] = []

    def on_start(self, event: Event) -> None:
        conn = event.container.connect(self.url)
        # All of these go out before the broker's open arrives: open, begin, attach x2, flow.
        event.container.create_sender(conn, "q")
        event.container.create_receiver(conn, "q")

    def on_connection_opened(self, event: Event) -> None:
        conn = event.connection
        assert conn is not None and conn.transport is not None
        self.opened["caps"] = [str(c) for c in conn.remote_offered_capabilities or ()]
        self.opened["max_frame"] = conn.transport.remote_max_frame_size

    def on_sendable(self, event: Event) -> None:
        if not self.sent:
            assert event.sender is not None
            event.sender.send(Message(body="ping"))
            self.sent = True

    def on_message(self, event: Event) -> None:
        self.received.append(event.message.body)
        assert event.connection is not None
        event.connection.close()

    def on_connection_closed(self, event: Event) -> None:
        event.container.stop()


def test_pipelined_client_connects_sends_and_receives_and_sees_anonymous_relay(
    broker: Broker,
) -> None:
    broker.declare_queue("q")
    handler = _RoundTrip(proton_url(broker))
    run_container(handler)
    assert handler.received == ["ping"]
    assert "ANONYMOUS-RELAY" in handler.opened["caps"]
    assert 512 <= handler.opened["max_frame"] <= broker.options.max_frame_size


# -- 2. PLAIN authentication ------------------------------------------------------------------


class _Login(MessagingHandler):
    def __init__(self, url: str, password: str) -> None:
        super().__init__()
        self.url = url
        self.password = password
        self.opened = False
        self.error: str | None = None

    def on_start(self, event: Event) -> None:
        event.container.connect(
            self.url,
            user="bob",
            password=self.password,
            allowed_mechs="PLAIN",
            allow_insecure_mechs=True,
            reconnect=False,
        )

    def on_connection_opened(self, event: Event) -> None:
        self.opened = True
        assert event.connection is not None
        event.connection.close()

    def on_connection_closed(self, event: Event) -> None:
        event.container.stop()

    def on_transport_error(self, event: Event) -> None:
        assert event.transport is not None and event.transport.condition is not None
        self.error = event.transport.condition.name
        event.container.stop()


def test_plain_login_with_the_right_password_is_accepted_as_that_user() -> None:
    with Broker.running(port=0, auth=True, users={"bob": "pw"}) as broker:
        seen: list[str] = []

        class Check(_Login):
            def on_connection_opened(self, event: Event) -> None:
                seen.extend(
                    on_loop(broker, lambda: [c.info()["authIdentity"] for c in broker.connections])
                )
                super().on_connection_opened(event)

        handler = Check(broker.url, "pw")
        run_container(handler)
        assert handler.opened and handler.error is None
        assert seen == ["bob"]


def test_plain_login_with_a_wrong_password_fails_with_unauthorized_access() -> None:
    with Broker.running(port=0, auth=True, users={"bob": "pw"}) as broker:
        handler = _Login(broker.url, "wrong")
        run_container(handler)
        assert not handler.opened
        assert handler.error == "amqp:unauthorized-access"


# -- 3. blocking send ------------------------------------------------------------------------


def test_blocking_send_returns_once_the_broker_has_accepted_the_message(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    snd = client.create_sender("q")
    delivery = snd.send(Message(body="hello"), timeout=STEP_TIMEOUT)
    assert delivery.remote_state == Delivery.ACCEPTED
    assert depth(broker, "q") == 1


# -- 4. unknown nodes and create-on-demand ---------------------------------------------------


def test_sending_to_an_unknown_queue_is_refused_with_not_found(client: BlockingConnection) -> None:
    with pytest.raises(LinkDetached) as info:
        client.create_sender("nope")
    assert info.value.condition == "amqp:not-found"
    assert "Node not found: nope" in str(info.value)


def test_receiving_from_an_unknown_queue_is_refused_with_not_found(
    client: BlockingConnection,
) -> None:
    with pytest.raises(LinkDetached) as info:
        client.create_receiver("nope")
    assert info.value.condition == "amqp:not-found"


def test_create_on_demand_capability_creates_the_missing_queue(
    broker: Broker, client: BlockingConnection
) -> None:
    snd = client.create_sender("made", options=Capabilities("queue", "create-on-demand"))
    assert "create-on-demand" in symbols_of(snd.link.remote_target.capabilities)
    snd.send(Message(body="x"))
    assert depth(broker, "made") == 1
    _rcv, inbox = receiver(client, "fresh", 1, options=Capabilities("create-on-demand"))
    assert depth(broker, "fresh") == 0
    send(client, "fresh", "y")
    wait_messages(client, inbox, 1)
    assert inbox.bodies == ["y"]


# -- 5. prefetch ------------------------------------------------------------------------------


class _Prefetch(MessagingHandler):
    def __init__(self, url: str, expected: int) -> None:
        super().__init__(prefetch=10)
        self.url = url
        self.expected = expected
        self.bodies: list[Any] = []
        self.most_queued = 0

    def on_start(self, event: Event) -> None:
        event.container.create_receiver(event.container.connect(self.url), "q")

    def on_message(self, event: Event) -> None:
        assert event.receiver is not None
        self.most_queued = max(self.most_queued, event.receiver.queued + 1)
        self.bodies.append(event.message.body)
        if len(self.bodies) == self.expected:
            assert event.connection is not None
            event.connection.close()

    def on_connection_closed(self, event: Event) -> None:
        event.container.stop()


def test_prefetching_receiver_gets_every_message_in_order_and_empties_the_queue(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    send(client, "q", *range(25))
    handler = _Prefetch(proton_url(broker), 25)
    run_container(handler)
    assert handler.bodies == list(range(25))
    assert handler.most_queued <= 10
    wait_for(lambda: depth(broker, "q") == 0, "the accepts to empty the queue")


# -- 6. outcomes ------------------------------------------------------------------------------


def test_released_message_comes_back_without_counting_a_failed_delivery(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    send(client, "q", "m")
    rcv, inbox = receiver(client, "q", 1)
    wait_messages(client, inbox, 1)
    inbox.release(inbox.deliveries[0], delivered=False)  # released
    rcv.link.flow(1)
    wait_messages(client, inbox, 2)
    inbox.release(inbox.deliveries[1])  # modified, delivery-failed false
    rcv.link.flow(1)
    wait_messages(client, inbox, 3)
    assert inbox.bodies == ["m", "m", "m"]
    assert [m.delivery_count for m in inbox.messages] == [0, 0, 0]


def test_modified_delivery_failed_redelivers_with_an_incremented_delivery_count(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    send(client, "q", "m")
    rcv, inbox = receiver(client, "q", 1)
    wait_messages(client, inbox, 1)
    settle(inbox.deliveries[0], Delivery.MODIFIED, failed=True)
    rcv.link.flow(1)
    wait_messages(client, inbox, 2)
    again = inbox.messages[1]
    assert again.body == "m"
    assert again.delivery_count == 1
    assert not again.first_acquirer


def test_undeliverable_here_message_goes_to_another_receiver_not_back(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    send(client, "q", "m")
    first, inbox1 = receiver(client, "q", 1)
    wait_messages(client, inbox1, 1)
    settle(inbox1.deliveries[0], Delivery.MODIFIED, failed=True, here=True)
    drain(client, first)  # with credit again, the first receiver is not given it back
    assert len(inbox1.messages) == 1
    _, inbox2 = receiver(client, "q", 1)
    wait_messages(client, inbox2, 1)
    assert inbox2.bodies == ["m"]
    assert inbox2.messages[0].delivery_count == 1


def test_rejected_message_is_dropped_and_never_redelivered(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    send(client, "q", "bad", "good")
    rcv, inbox = receiver(client, "q", 1)
    wait_messages(client, inbox, 1)
    inbox.reject(inbox.deliveries[0])
    drain(client, rcv)
    assert inbox.bodies == ["bad", "good"]
    inbox.accept(inbox.deliveries[1])
    wait_pumping(client, lambda: depth(broker, "q") == 0, "the queue to be empty")
    drain(client, rcv)
    assert len(inbox.messages) == 2


# -- 7. at-most-once --------------------------------------------------------------------------


def test_presettled_send_is_enqueued_without_an_outcome(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    snd = client.create_sender("q", options=AtMostOnce())
    delivery = snd.send(Message(body="fire-and-forget"))
    wait_pumping(client, lambda: depth(broker, "q") == 1, "the presettled message to be enqueued")
    client.create_receiver("q", credit=0).close()  # a round trip for any stray disposition
    assert delivery.remote_state == 0


def test_at_most_once_receiver_gets_presettled_messages_that_leave_the_queue(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    send(client, "q", "a", "b")
    _, inbox = receiver(client, "q", 5, options=AtMostOnce())
    wait_messages(client, inbox, 2)
    assert inbox.bodies == ["a", "b"]
    assert all(d.settled for d in inbox.deliveries)
    wait_pumping(client, lambda: depth(broker, "q") == 0, "presettled messages to leave the queue")


# -- 8. browse --------------------------------------------------------------------------------


def test_browsing_receivers_see_every_message_and_leave_it_on_the_queue(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    send(client, "q", 1, 2, 3)
    for _ in range(2):
        browser, inbox = receiver(client, "q", 10, options=Copy())
        wait_messages(client, inbox, 3)
        drain(client, browser)
        assert inbox.bodies == [1, 2, 3]
        browser.close()
        assert depth(broker, "q") == 3
    _consumer, inbox = receiver(client, "q", 10)
    wait_messages(client, inbox, 3)
    for d in inbox.deliveries:
        inbox.accept(d)
    wait_pumping(client, lambda: depth(broker, "q") == 0, "the consumer to take the messages")


# -- 9. request/response with a dynamic reply queue ------------------------------------------


def _echo_service(url: str, ready: threading.Event, errors: list[BaseException]) -> None:
    try:
        conn = BlockingConnection(url, timeout=STEP_TIMEOUT)
        try:
            rcv = conn.create_receiver("service", credit=1)
            ready.set()
            request = rcv.receive(timeout=STEP_TIMEOUT)
            rcv.accept()
            snd = conn.create_sender(None)
            snd.send(
                Message(
                    address=request.reply_to,
                    correlation_id=request.correlation_id,
                    body=str(request.body).upper(),
                )
            )
        finally:
            conn.close()
    except BaseException as e:
        errors.append(e)
        ready.set()


def test_request_response_through_a_dynamic_reply_queue_deleted_when_the_link_closes(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("service")
    ready = threading.Event()
    errors: list[BaseException] = []
    service = threading.Thread(target=_echo_service, args=(broker.url, ready, errors))
    service.start()
    try:
        assert ready.wait(STEP_TIMEOUT)
        rpc = SyncRequestResponse(client, "service")
        reply_to = rpc.reply_to
        assert reply_to
        assert depth(broker, reply_to) == 0  # the broker made a node of that name
        response = rpc.call(Message(body="hello"))
        assert response.body == "HELLO"
    finally:
        service.join(STEP_TIMEOUT)
    assert not errors
    rpc.receiver.close()
    wait_pumping(client, lambda: depth(broker, reply_to) == -1, "the temporary queue to be deleted")
    with pytest.raises(LinkDetached) as info:
        client.create_sender(reply_to)
    assert info.value.condition == "amqp:not-found"


# -- 10. anonymous relay ----------------------------------------------------------------------


def test_anonymous_relay_routes_by_to_and_rejects_an_unknown_to_with_not_found(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    relay = client.create_sender(None)
    assert relay.send(Message(address="q", body=1)).remote_state == Delivery.ACCEPTED
    lost = relay.send(Message(address="nowhere", body=2), error_states=[])
    assert lost.remote_state == Delivery.REJECTED
    assert lost.remote.condition is not None
    assert lost.remote.condition.name == "amqp:not-found"
    # the link and the connection survive
    assert relay.send(Message(address="q", body=3)).remote_state == Delivery.ACCEPTED
    _, inbox = receiver(client, "q", 5)
    wait_messages(client, inbox, 2)
    assert inbox.bodies == [1, 3]


# -- 11. selector -----------------------------------------------------------------------------


def test_selector_receiver_gets_only_matching_messages_and_leaves_the_rest(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    snd = client.create_sender("q")
    for i, colour in enumerate(["red", "blue", "red", "green"]):
        snd.send(Message(body=i, properties={"colour": colour}))
    rcv, inbox = receiver(client, "q", 10, options=Selector("colour = 'red'"))
    reply_filter = rcv.link.remote_source.filter
    reply_filter.rewind()
    reply_filter.next()
    echoed = reply_filter.get_object()
    assert isinstance(echoed, dict) and echoed, "the attach reply must echo the selector"
    described = next(iter(echoed.values()))
    assert described.descriptor == SELECTOR_FILTER
    drain(client, rcv)
    assert inbox.bodies == [0, 2]
    for d in inbox.deliveries:
        inbox.accept(d)
    wait_pumping(client, lambda: depth(broker, "q") == 2, "the red messages to be consumed")
    _, others = receiver(client, "q", 10)
    wait_messages(client, others, 2)
    assert others.bodies == [1, 3]


# -- 12. durable subscription -----------------------------------------------------------------


def _durable_client(broker: Broker, container_id: str) -> BlockingConnection:
    return BlockingConnection(
        broker.url, timeout=STEP_TIMEOUT, container=Container(container_id=container_id)
    )


def test_durable_subscription_keeps_messages_published_while_detached(broker: Broker) -> None:
    container_id = f"durable-{uuid.uuid4()}"
    subscription = f"{container_id}_sub1"  # the broker's name for the subscription queue

    conn = _durable_client(broker, container_id)
    rcv, inbox = receiver(conn, "amq.topic", 0, name="sub1", options=DurableSubscription())
    rcv.link.detach()  # detach(closed=false): suspend the subscription
    conn.wait(lambda: inbox.detached, msg="the broker's detach")
    conn.close()
    assert depth(broker, subscription) == 0

    publisher = BlockingConnection(broker.url, timeout=STEP_TIMEOUT)
    send(publisher, "amq.topic", "a", "b", "c", subject="news")
    publisher.close()
    assert depth(broker, subscription) == 3

    conn = _durable_client(broker, container_id)
    try:
        _, inbox = receiver(conn, "amq.topic", 10, name="sub1", options=DurableSubscription())
        wait_messages(conn, inbox, 3)
        assert inbox.bodies == ["a", "b", "c"]
    finally:
        conn.close()


def test_closing_a_durable_subscription_link_deletes_the_subscription(broker: Broker) -> None:
    container_id = f"durable-{uuid.uuid4()}"
    subscription = f"{container_id}_sub1"
    conn = _durable_client(broker, container_id)
    try:
        rcv, _ = receiver(conn, "amq.topic", 0, name="sub1", options=DurableSubscription())
        assert depth(broker, subscription) == 0
        rcv.close()  # detach(closed=true): end the subscription
        # the broker deletes it while handling the detach: no long wait is needed
        wait_pumping(conn, lambda: depth(broker, subscription) == -1, "the deletion", 2.0)
    finally:
        conn.close()


# -- 13. drain --------------------------------------------------------------------------------


def test_drain_on_an_empty_queue_is_answered_at_once(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    rcv, inbox = receiver(client, "q", 0)
    rcv.link.drain(5)
    client.wait(lambda: not rcv.link.draining(), timeout=2.0, msg="drain answer")
    assert rcv.link.credit == 0
    assert inbox.messages == []


def test_drain_delivers_what_is_queued_then_uses_up_the_credit(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    send(client, "q", "x", "y")
    rcv, inbox = receiver(client, "q", 0)
    rcv.link.drain(5)
    client.wait(lambda: not rcv.link.draining(), timeout=2.0, msg="drain answer")
    assert inbox.bodies == ["x", "y"]
    assert rcv.link.credit == 0


# -- 14. large message ------------------------------------------------------------------------


def test_one_mebibyte_message_crosses_the_broker_intact(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    body = os.urandom(1 << 20)
    snd = client.create_sender("q")
    assert snd.send(Message(body=body)).remote_state == Delivery.ACCEPTED
    _, inbox = receiver(client, "q", 1)
    wait_messages(client, inbox, 1)
    assert inbox.messages[0].body == body


# -- 15. heartbeats and idle timeout -----------------------------------------------------------


def test_broker_open_advertises_half_its_idle_timeout(broker: Broker) -> None:
    conn = BlockingConnection(broker.url, timeout=STEP_TIMEOUT)
    try:
        transport = conn.conn.transport
        assert transport is not None
        assert transport.remote_idle_timeout == pytest.approx(broker.options.idle_timeout / 2)
    finally:
        conn.close()


def test_broker_heartbeats_keep_an_idle_client_with_a_short_timeout_connected() -> None:
    with Broker.running(port=0) as broker:
        broker.declare_queue("q")
        # heartbeat=0.6: the client advertises 300 ms and gives up after 600 ms of silence.
        conn = BlockingConnection(broker.url, timeout=STEP_TIMEOUT, heartbeat=0.6)
        try:
            with pytest.raises(Timeout):
                conn.wait(lambda: conn.conn.state & Endpoint.REMOTE_CLOSED != 0, timeout=1.5)
            send(conn, "q", "still here")
        finally:
            conn.close()
        assert depth(broker, "q") == 1


def _raw_open(sock: socket.socket) -> tuple[Connection, Transport]:
    """Open an AMQP connection with a sans-IO proton engine over ``sock``; then go silent."""
    conn = Connection()
    conn.container = "silent"
    transport = Transport()
    transport.bind(conn)
    conn.open()
    while transport.pending() > 0:
        out = transport.peek(transport.pending())
        assert out is not None
        sock.sendall(out)
        transport.pop(len(out))
    while not (conn.state & Endpoint.REMOTE_ACTIVE):
        data = sock.recv(65536)
        assert data, "the broker closed before its open"
        transport.push(data)
    return conn, transport


def test_broker_closes_a_silent_connection_with_resource_limit_exceeded() -> None:
    with Broker.running(port=0, idle_timeout=0.6) as broker:
        with socket.create_connection(("127.0.0.1", broker.port), timeout=STEP_TIMEOUT) as sock:
            conn, transport = _raw_open(sock)
            assert 0 < transport.remote_idle_timeout <= 0.6
            # Read (never write) until the broker hangs up.
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                if transport.capacity() > 0:
                    transport.push(data)
            assert conn.remote_condition is not None
            assert conn.remote_condition.name == "amqp:resource-limit-exceeded"
        wait_for(lambda: on_loop(broker, lambda: not broker.connections), "the connection to go")


# -- 16. small session window -----------------------------------------------------------------


class _SmallWindow(MessagingHandler):
    def __init__(self, url: str, expected: int) -> None:
        super().__init__(prefetch=expected)
        self.url = url
        self.expected = expected
        self.bodies: list[Any] = []

    def on_start(self, event: Event) -> None:
        conn = event.container.connect(self.url, max_frame_size=4096)
        session = conn.session()
        session.incoming_capacity = 2 * 4096  # incoming-window 2
        session.open()
        event.container.create_receiver(session, "q")

    def on_message(self, event: Event) -> None:
        self.bodies.append(event.message.body)
        if len(self.bodies) == self.expected:
            assert event.connection is not None
            event.connection.close()

    def on_connection_closed(self, event: Event) -> None:
        event.container.stop()


def test_receiver_with_a_two_transfer_session_window_still_gets_every_message(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    bodies = [f"{i}:" + "x" * 3000 for i in range(20)]
    send(client, "q", *bodies)
    handler = _SmallWindow(proton_url(broker), 20)
    run_container(handler)
    assert handler.bodies == bodies


# -- 20. management ---------------------------------------------------------------------------


def _request(rpc: SyncRequestResponse, body: Any = None, **properties: Any) -> Message:
    request = Message(body=body, properties=properties)
    response = rpc.call(request)
    assert response.correlation_id == request.correlation_id
    return response


def test_management_queries_creates_and_reports_errors_with_status_codes(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    rpc = SyncRequestResponse(client, "$management")
    queue_type = "org.apache.qpid.broker:queue"

    found = _request(
        rpc,
        {"attributeNames": ["name"]},
        operation="QUERY",
        type="org.amqp.management",
        entityType=queue_type,
    )
    assert found.properties is not None and found.properties["statusCode"] == 200
    assert ["q"] in found.body["results"]

    created = _request(rpc, {}, operation="CREATE", type=queue_type, name="q2")
    assert created.properties is not None and created.properties["statusCode"] == 201
    send(client, "q2", "usable")
    assert depth(broker, "q2") == 1

    missing = _request(rpc, None, operation="READ", type=queue_type, name="no-such-queue")
    assert missing.properties is not None and missing.properties["statusCode"] == 404

    unknown = _request(rpc, None, operation="FROBNICATE", type=queue_type, name="q")
    assert unknown.properties is not None and unknown.properties["statusCode"] == 501


# -- message fidelity -------------------------------------------------------------------------


def test_every_message_section_crosses_the_broker_unchanged(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    sent = Message(
        id="msg-1",
        user_id=b"anonymous",
        address="q",
        subject="the subject",
        reply_to="replies",
        correlation_id=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        content_type="application/octet-stream",
        content_encoding="binary",
        expiry_time=4102444800.0,
        creation_time=1700000000.5,
        group_id="group",
        group_sequence=7,
        reply_to_group_id="reply-group",
        durable=True,
        priority=6,
        properties={
            "str": "text",
            "int": -42,
            "big": 2**40,
            "float": 1.5,
            "bool": True,
            "bytes": b"\x00\x01\xff",
            "none": None,
        },
        annotations={symbol("x-opt-a"): "annotation", symbol("x-opt-n"): 3},
        body={"nested": ["list", 1, 2.5, None], "bin": b"\x00\xff"},
    )
    snd = client.create_sender("q")
    assert snd.send(sent).remote_state == Delivery.ACCEPTED
    _, inbox = receiver(client, "q", 1)
    wait_messages(client, inbox, 1)
    got = inbox.messages[0]
    for field in (
        "id",
        "user_id",
        "address",
        "subject",
        "reply_to",
        "correlation_id",
        "content_type",
        "content_encoding",
        "expiry_time",
        "creation_time",
        "group_id",
        "group_sequence",
        "reply_to_group_id",
        "durable",
        "priority",
        "properties",
        "annotations",
        "body",
    ):
        assert getattr(got, field) == getattr(sent, field), field
    assert got.encode() == sent.encode()


# -- exchanges --------------------------------------------------------------------------------


def test_direct_exchange_routes_by_subject_to_the_bound_queue(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_exchange("orders", "direct")
    for name in ("qa", "qb"):
        broker.declare_queue(name)
    broker.bind("orders", "qa", "a")
    broker.bind("orders", "qb", "b")
    snd = client.create_sender("orders")
    for key in ("a", "b", "c", "a"):
        assert snd.send(Message(subject=key, body=key)).remote_state == Delivery.ACCEPTED
    assert (depth(broker, "qa"), depth(broker, "qb")) == (2, 1)


def test_topic_subscription_with_a_legacy_binding_filter_gets_matching_subjects(
    broker: Broker, client: BlockingConnection
) -> None:
    pattern = {symbol("f"): Described(TOPIC_FILTER, "news.#")}
    rcv, inbox = receiver(client, "amq.topic", 10, options=Filter(pattern))
    rcv.link.remote_source.filter.rewind()
    rcv.link.remote_source.filter.next()
    assert symbol("f") in rcv.link.remote_source.filter.get_object()
    snd = client.create_sender("amq.topic")
    for subject in ("news.uk", "sport.uk", "news.world.europe", "news"):
        snd.send(Message(subject=subject, body=subject))
    wait_messages(client, inbox, 3)
    drain(client, rcv)
    assert inbox.bodies == ["news.uk", "news.world.europe", "news"]


def test_fanout_exchange_gives_every_subscriber_a_copy(
    broker: Broker, client: BlockingConnection
) -> None:
    # keep the BlockingReceivers alive: deleting one unhooks its handler
    subscribers = [receiver(client, "amq.fanout", 5) for _ in range(3)]
    send(client, "amq.fanout", "all")
    for _, inbox in subscribers:
        wait_messages(client, inbox, 1)
        assert inbox.bodies == ["all"]


# -- queue limits, TTL, priorities -------------------------------------------------------------


def test_full_queue_with_reject_policy_rejects_the_sender_with_resource_limit_exceeded(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("small", arguments={"qpid.max_count": 2, "qpid.policy_type": "reject"})
    snd = client.create_sender("small")
    states = [snd.send(Message(body=i), error_states=[]) for i in range(3)]
    assert [d.remote_state for d in states] == [Delivery.ACCEPTED] * 2 + [Delivery.REJECTED]
    condition = states[2].remote.condition
    assert condition is not None and condition.name == "amqp:resource-limit-exceeded"
    assert depth(broker, "small") == 2


def test_full_ring_queue_drops_the_oldest_message(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("ring", arguments={"qpid.max_count": 2, "qpid.policy_type": "ring"})
    send(client, "ring", 1, 2, 3)
    rcv, inbox = receiver(client, "ring", 10)
    wait_messages(client, inbox, 2)
    drain(client, rcv)
    assert inbox.bodies == [2, 3]


def test_expired_message_is_removed_and_never_delivered(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("q")
    snd = client.create_sender("q")
    snd.send(Message(body="stale", ttl=0.1))
    snd.send(Message(body="fresh"))
    wait_pumping(client, lambda: depth(broker, "q") == 1, "the expired message to be removed")
    rcv, inbox = receiver(client, "q", 10)
    wait_messages(client, inbox, 1)
    drain(client, rcv)
    assert inbox.bodies == ["fresh"]


def test_priority_queue_delivers_higher_priorities_first_and_fifo_within_a_level(
    broker: Broker, client: BlockingConnection
) -> None:
    broker.declare_queue("prio", arguments={"qpid.priorities": 10})
    snd = client.create_sender("prio")
    for body, priority in (("low", 1), ("mid-1", 5), ("high", 9), ("mid-2", 5)):
        snd.send(Message(body=body, priority=priority))
    _rcv, inbox = receiver(client, "prio", 10)
    wait_messages(client, inbox, 4)
    assert inbox.bodies == ["high", "mid-1", "mid-2", "low"]
