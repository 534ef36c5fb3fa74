"""Benchmark of the sans-IO AMQP 1.0 engine, in memory, on one core.

1. Engine pair: a client engine sends 1 KiB messages at-least-once (unsettled) to a server
   engine; the server accepts each batch it receives (dispositions coalesce into ranges) and
   tops its credit up; the client counts the accepted outcomes. Prints messages/s.
2. Decode: parse_frame over one transfer frame carrying a 1 KiB message. Prints decodes/s.

Usage: python bench/engine_bench.py [--count N] [--window W] [--size BYTES] [--repeat R]
Targets (issue 2): >= 50,000 messages/s for the pair; >= 300,000 decodes/s.
"""

from __future__ import annotations

import argparse
import time

from qpid_ha.amqp import (
    Accepted,
    Connection,
    ConnectionOpened,
    DeliveryReceived,
    DeliveryUpdated,
    Link,
    LinkAttached,
    SessionBegun,
    Source,
    Target,
)
from qpid_ha.amqp.codec import DEFAULT_LIMITS
from qpid_ha.amqp.framing import parse_frame
from qpid_ha.amqp.message import encode_message


def _pump(a: Connection, b: Connection) -> None:
    while True:
        moved = False
        for x, y in ((a, b), (b, a)):
            data = x.data_to_send()
            if data:
                y.receive_data(data)
                moved = True
        if not moved:
            return


def _setup(window: int) -> tuple[Connection, Connection, Link]:
    client = Connection(container_id="bench-client")
    server = Connection(server=True, container_id="bench-server")
    client.open()
    session = client.begin()
    sender = session.attach_sender("bench", target=Target(address="q"))
    _pump(client, server)
    for ev in server.events():
        if isinstance(ev, ConnectionOpened):
            server.open()
        elif isinstance(ev, SessionBegun):
            ev.session.begin()
        elif isinstance(ev, LinkAttached):
            ev.link.attach(source=Source(), target=ev.attach.target)
            ev.link.flow(window)
    _pump(client, server)
    list(client.events())
    return client, server, sender


def bench_pair(count: int, window: int, size: int) -> float:
    """Messages per second through a client/server engine pair."""
    client, server, sender = _setup(window)
    body = encode_message(b"x" * size)
    accepted = 0
    sent = 0
    start = time.perf_counter()
    while accepted < count:
        while sender.credit > 0 and sent < count:
            sender.send(body)
            sent += 1
        server.receive_data(client.data_to_send())
        received = 0
        link = None
        for ev in server.events():
            if type(ev) is DeliveryReceived:
                ev.delivery.accept()
                received += 1
                link = ev.link
        if link is not None:
            link.flow(window)
        client.receive_data(server.data_to_send())
        for ev in client.events():
            if type(ev) is DeliveryUpdated:
                if type(ev.state) is not Accepted:
                    raise SystemExit(f"unexpected outcome {ev.state!r}")
                accepted += 1
    elapsed = time.perf_counter() - start
    return count / elapsed


def bench_decode(count: int, size: int) -> float:
    """Transfer frames with a 1 KiB message parsed per second."""
    client, _server, sender = _setup(10)
    sender.send(encode_message(b"x" * size))
    frame = client.data_to_send()
    limits = DEFAULT_LIMITS
    r = parse_frame(frame, 0, 1 << 20, limits)
    assert r is not None and len(r[4]) >= size
    start = time.perf_counter()
    for _ in range(count):
        parse_frame(frame, 0, 1 << 20, limits)
    elapsed = time.perf_counter() - start
    return count / elapsed


def main() -> None:
    """Run both benchmarks and print their figures."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--count", type=int, default=200_000)
    p.add_argument("--window", type=int, default=100)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    pair = max(bench_pair(a.count, a.window, a.size) for _ in range(a.repeat))
    dec = max(bench_decode(a.count, a.size) for _ in range(a.repeat))
    print(
        f"engine pair, {a.size}-byte messages at-least-once, window {a.window}: "
        f"{pair:,.0f} messages/s (target >= 50,000)"
    )
    print(
        f"decode of a transfer frame with a {a.size}-byte message: "
        f"{dec:,.0f} frames/s (target >= 300,000)"
    )


if __name__ == "__main__":
    main()
