"""Hostile and careless peers on raw sockets: the broker must close them promptly, allocate
nothing on their say-so, and keep serving well-behaved proton clients meanwhile.

What the broker sends back is decoded by proton's own engine (a sans-IO ``Transport``), so
these tests do not trust the broker's codec to check the broker.
"""

from __future__ import annotations

import resource
import selectors
import socket
import time
from collections.abc import Iterator

import pytest
from proton import Connection, ConnectionException, Delivery, Message, Transport
from proton.utils import BlockingConnection

from qpid_ha.broker.broker import Broker

from .conftest import STEP_TIMEOUT, on_loop, wait_for

pytestmark = pytest.mark.timeout(60)

AMQP_HEADER = b"AMQP\x00\x01\x00\x00"


def read_until_closed(sock: socket.socket, timeout: float = STEP_TIMEOUT) -> bytes:
    """Everything the broker sends until it closes the socket; fail after ``timeout``."""
    sock.settimeout(timeout)
    received = b""
    deadline = time.monotonic() + timeout
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return received
        except TimeoutError:
            pytest.fail(f"the broker did not close the connection within {timeout}s")
        if not data:
            return received
        received += data
        if time.monotonic() > deadline:
            pytest.fail(f"the broker did not close the connection within {timeout}s")


def decode_close(received: bytes) -> tuple[str | None, str | None]:
    """The condition and description of the broker's close, decoded by proton."""
    conn = Connection()
    transport = Transport()
    transport.bind(conn)
    transport.push(received)
    condition = conn.remote_condition
    if condition is None:
        return None, None
    return condition.name, condition.description


@pytest.fixture
def broker() -> Iterator[Broker]:
    """A broker with a short handshake timeout, so that silent peers go quickly."""
    with Broker.running(port=0, handshake_timeout=1.0) as running:
        yield running


def connect(broker: Broker) -> socket.socket:
    return socket.create_connection(("127.0.0.1", broker.port), timeout=STEP_TIMEOUT)


def no_connections(broker: Broker) -> bool:
    return on_loop(broker, lambda: not broker.connections)


def test_garbage_instead_of_a_protocol_header_is_answered_with_amqp_header_and_closed(
    broker: Broker,
) -> None:
    with connect(broker) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        received = read_until_closed(sock, timeout=2.0)
    # Part 2 section 2.2: answer a header we do not speak with one we do, then close.
    assert received in (b"", b"AMQP\x03\x01\x00\x00", AMQP_HEADER)
    wait_for(lambda: no_connections(broker), "the broker to forget the connection")


def test_garbage_after_the_header_closes_the_connection(broker: Broker) -> None:
    with connect(broker) as sock:
        sock.sendall(AMQP_HEADER + bytes(range(256)) * 4)
        read_until_closed(sock, timeout=2.0)
    wait_for(lambda: no_connections(broker), "the broker to forget the connection")


def test_a_four_gibibyte_frame_size_is_refused_with_a_framing_error_and_nothing_allocated(
    broker: Broker,
) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with connect(broker) as sock:
        sock.sendall(AMQP_HEADER + b"\xff\xff\xff\xff\x02\x00\x00\x00")
        received = read_until_closed(sock, timeout=2.0)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert received.startswith(AMQP_HEADER)
    condition, description = decode_close(received)
    assert condition == "amqp:connection:framing-error"
    assert description is not None and "4294967295" in description
    assert after - before < 64 * 1024, "the broker must not allocate the announced frame"


@pytest.fixture
def enough_file_descriptors() -> Iterator[None]:
    """500 client sockets plus 500 broker sockets in this one process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 1400
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.usefixtures("enough_file_descriptors")
def test_five_hundred_silent_sockets_are_dropped_while_a_real_client_still_gets_served(
    broker: Broker,
) -> None:
    broker.declare_queue("q")
    silent = [connect(broker) for _ in range(500)]
    try:
        wait_for(
            lambda: on_loop(broker, lambda: len(broker.connections)) == 500,
            "the broker to accept the silent sockets",
        )
        started = time.monotonic()
        client = BlockingConnection(broker.url, timeout=STEP_TIMEOUT)
        try:
            delivery = client.create_sender("q").send(Message(body="served"))
            assert delivery.remote_state == Delivery.ACCEPTED
        finally:
            client.close()
        assert time.monotonic() - started < 1.0

        # Each silent socket is closed once the 1 s handshake timeout has passed.
        open_ones = set(silent)
        with selectors.DefaultSelector() as sel:
            for sock in silent:
                sock.setblocking(False)
                sel.register(sock, selectors.EVENT_READ)
            deadline = time.monotonic() + 10.0
            while open_ones and time.monotonic() < deadline:
                for key, _ in sel.select(timeout=0.5):
                    ready = key.fileobj
                    assert isinstance(ready, socket.socket)
                    try:
                        data = ready.recv(65536)
                    except ConnectionResetError:
                        data = b""
                    if not data:
                        sel.unregister(ready)
                        open_ones.discard(ready)
        assert not open_ones, f"{len(open_ones)} silent sockets still open after 10 s"
    finally:
        for sock in silent:
            sock.close()
    wait_for(lambda: no_connections(broker), "the broker to forget the silent sockets")


def test_connections_beyond_max_connections_are_refused() -> None:
    with Broker.running(port=0, max_connections=2) as broker:
        first = BlockingConnection(broker.url, timeout=STEP_TIMEOUT)
        second = BlockingConnection(broker.url, timeout=STEP_TIMEOUT)
        try:
            with pytest.raises(ConnectionException):
                BlockingConnection(broker.url, timeout=STEP_TIMEOUT)
            assert on_loop(broker, lambda: len(broker.connections)) == 2
        finally:
            first.close()
        # the freed slot can be used again
        wait_for(
            lambda: on_loop(broker, lambda: len(broker.connections)) == 1, "the slot to free up"
        )
        third = BlockingConnection(broker.url, timeout=STEP_TIMEOUT)
        third.close()
        second.close()
