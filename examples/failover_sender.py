"""A sender that fails over to the next broker, with the qpid.messaging-style blocking API.

The example starts two brokers, A and B (``qpidd`` subprocesses on free ports), connects to
A with B as its reconnect URL, and sends numbered messages without waiting for each one
(at most ``capacity`` unacknowledged). Midway it kills A with SIGKILL. The sender moves to B
on its own and sends again, in order, every message A had not acknowledged, then the rest.
Whatever A had acknowledged is lost with it (that is what HA replication is for); B holds
an unbroken run of numbers up to the last. Run it with::

    python examples/failover_sender.py
"""

from __future__ import annotations

import subprocess
import sys

from qpid_ha.messaging import Connection, Empty, Message

COUNT = 1000
KILL_AT = 400


def start_broker() -> tuple[subprocess.Popen[str], int]:
    """A qpidd on a free loopback port that creates queues on demand: (process, port)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "qpid_ha.tools.qpidd", "--port", "0", "--auto-create", "yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def contents_of(port: int, queue: str) -> list[int]:
    """Every message on ``queue`` of the broker on ``port``, consumed."""
    with Connection(f"127.0.0.1:{port}") as connection:
        session = connection.session()
        receiver = session.receiver(queue, capacity=100)
        numbers = []
        while True:
            try:
                numbers.append(receiver.fetch(timeout=0.5).content)
            except Empty:
                break
        session.acknowledge()
    return numbers


def main() -> int:
    a, port_a = start_broker()
    b, port_b = start_broker()
    try:
        print(f"broker A on port {port_a}, broker B on port {port_b}")
        connection = Connection.establish(
            f"127.0.0.1:{port_a}",
            reconnect=True,
            reconnect_urls=[f"127.0.0.1:{port_b}"],
            heartbeat=1,
        )
        session = connection.session()
        sender = session.sender("numbers;{create:always}", capacity=100)
        for i in range(COUNT):
            if i == KILL_AT:
                in_flight = sender.unsettled()
                a.kill()
                a.wait()
                print(f"killed broker A after {i} sends, {in_flight} not yet acknowledged")
            sender.send(Message(i), sync=False)
        sender.sync(timeout=10)
        connection.close()
        print(f"all {COUNT} messages acknowledged")

        on_b = contents_of(port_b, "numbers")
        first = on_b[0]
        print(f"broker B holds #{first}..#{on_b[-1]}: {len(on_b)} messages")
        if on_b != list(range(first, COUNT)) or first > KILL_AT:
            print("unexpected: B's messages are not an unbroken run from before the kill")
            return 1
        print(f"{KILL_AT - first} sent before the kill and not acknowledged by A went to B again")
        return 0
    finally:
        for process in (a, b):
            process.kill()
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
