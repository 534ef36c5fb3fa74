"""A receiver (and a sender) that fail over to the next broker, with the async client.

The example starts two brokers, A and B (``qpidd`` subprocesses on free ports). A sender and
a receiver, on connections of their own, both list A then B; the sender sends numbered
messages and the receiver fetches and acknowledges them. Midway the example kills A with
SIGKILL. Both clients move to B: the sender resends what A had not acknowledged, and the
receiver goes on from there. Messages A had accepted but not yet delivered are lost with it
(no HA here); they are the only gap in what the receiver sees. Run it with::

    python examples/failover_receiver.py
"""

from __future__ import annotations

import subprocess
import sys

import anyio

from qpid_ha.client import Connection, Message

COUNT = 2000
KILL_AT = 700


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


async def run(a: subprocess.Popen[str], port_a: int, port_b: int) -> int:
    url = f"amqp:tcp:127.0.0.1:{port_a},tcp:127.0.0.1:{port_b}"
    received: list[int] = []
    async with (
        Connection(url, reconnect=True, heartbeat=1) as sending,
        Connection(url, reconnect=True, heartbeat=1) as receiving,
    ):
        sender = await (await sending.session()).sender("numbers", capacity=50)
        session = await receiving.session()
        receiver = await session.receiver("numbers", capacity=20)

        async def receive() -> None:
            while not received or received[-1] != COUNT - 1:
                message = await receiver.fetch(timeout=10)
                session.acknowledge(message)
                received.append(message.content)

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(receive)
                for i in range(COUNT):
                    if i == KILL_AT:
                        a.kill()
                        print(f"killed broker A after {i} sends; receiver had {len(received)}")
                    await sender.send(Message(i), sync=False)
                await sender.sync(timeout=20)
        assert receiving.address is not None
        print(f"receiver now on port {receiving.address.port}, reconnects: {receiving.reconnects}")
        print(f"sender resent {sender.resent} messages A had not acknowledged")

    # received is 0..k-1 from A, then m..COUNT-1 from B (one break at most)
    k = next(
        (j for j in range(1, len(received)) if received[j] != received[j - 1] + 1),
        len(received),
    )
    before, after = received[:k], received[k:]
    lost = sorted(set(range(COUNT)) - set(received))
    duplicates = len(received) - len(set(received))
    if before != list(range(k)) or (after and after != list(range(after[0], COUNT))):
        print("unexpected: gaps or disorder")
        return 1
    if after:
        print(f"received #0..#{k - 1} from A, then #{after[0]}..#{after[-1]} from B, no gaps")
    else:
        print(f"received #0..#{k - 1} without a break")
    print(f"lost with A (accepted, never delivered): {len(lost)}; duplicates: {duplicates}")
    return 0


def main() -> int:
    a, port_a = start_broker()
    b, port_b = start_broker()
    try:
        print(f"broker A on port {port_a}, broker B on port {port_b}")
        return anyio.run(run, a, port_a, port_b)
    finally:
        for process in (a, b):
            process.kill()
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
