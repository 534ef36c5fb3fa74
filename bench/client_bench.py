"""Benchmark of the async client (``qpid_ha.client``) against ``qpidd``.

1. Throughput: one process sends N 1 KiB messages at-least-once (capacity 100, not waiting
   for each outcome), then receives them (prefetch 100), acknowledging each.
2. Reconnect: a sender with ``reconnect=True`` sends to broker A, with broker B next in its
   URL list; A is killed with SIGKILL; the figure is the time from the kill (B is already
   reachable) to the first message B accepts.

Usage: python bench/client_bench.py [--count N]
Targets (issue 4): >= 10,000 messages/s sent and received; first message accepted by the
next broker within 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

import anyio

from qpid_ha.client import Connection, Message


def start_qpidd(*args: str) -> tuple[subprocess.Popen[str], int]:
    """A qpidd on a free port: (process, port)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "qpid_ha.tools.qpidd", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


async def throughput(port: int, count: int, size: int) -> tuple[float, float]:
    """Messages per second sent, then received."""
    body = b"x" * size
    async with Connection(f"amqp://127.0.0.1:{port}") as conn:
        session = await conn.session()
        sender = await session.sender("bench;{create:always}", capacity=100)
        start = time.perf_counter()
        for _ in range(count):
            await sender.send(Message(body), sync=False)
        await sender.sync()
        sent = count / (time.perf_counter() - start)
        receiver = await session.receiver("bench", capacity=100)
        start = time.perf_counter()
        for _ in range(count):
            message = await receiver.fetch(timeout=10)
            session.acknowledge(message)
        received = count / (time.perf_counter() - start)
    return sent, received


async def reconnect_gap() -> float:
    """Seconds from SIGKILL of broker A to the first message accepted by broker B."""
    a, port_a = start_qpidd("--auto-create", "yes")
    b, port_b = start_qpidd("--auto-create", "yes")
    try:
        url = f"amqp:tcp:127.0.0.1:{port_a},tcp:127.0.0.1:{port_b}"
        async with Connection(url, reconnect=True, reconnect_interval_min=0.05) as conn:
            session = await conn.session()
            sender = await session.sender("gap", capacity=10)
            for i in range(10):
                await sender.send(Message(i))
            os.kill(a.pid, signal.SIGKILL)
            killed = time.perf_counter()
            await sender.send(Message("after"), timeout=10)
            return time.perf_counter() - killed
    finally:
        for p in (a, b):
            p.kill()
            p.wait()


def main() -> None:
    """Print both figures."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--size", type=int, default=1024)
    a = p.parse_args()
    proc, port = start_qpidd()
    try:
        sent, received = anyio.run(throughput, port, a.count, a.size)
    finally:
        proc.terminate()
        proc.wait()
    print(
        f"async client, {a.size}-byte messages at-least-once, capacity 100: "
        f"{sent:,.0f} sent/s, {received:,.0f} received/s (target >= 10,000 each)"
    )
    gap = anyio.run(reconnect_gap)
    print(
        f"failover: first message accepted by the next broker {gap * 1000:,.0f} ms after "
        f"SIGKILL of the first (target <= 500 ms)"
    )


if __name__ == "__main__":
    main()
