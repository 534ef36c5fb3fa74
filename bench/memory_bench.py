"""Memory benchmark: RSS of a qpidd holding N queued 1 KiB messages.

Starts ``qpidd --port 0`` as a subprocess, sends N messages at-least-once over AMQP 1.0 to a
queue with nobody consuming (using our own engine over a plain socket, in batches), waits for
every outcome, then reads the daemon's resident set size from /proc.

Usage: python bench/memory_bench.py [--count 1000000] [--size 1024]
Target (issue 3): 1,000,000 queued 1 KiB messages in <= 1.5 GiB RSS.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time

from qpid_ha.amqp import (
    Connection,
    CreditGranted,
    DeliveryUpdated,
    Link,
    Source,
    Target,
    encode_message,
)


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fill(port: int, count: int, size: int) -> float:
    """Send ``count`` messages to queue ``mem``; return the seconds it took."""
    sock = socket.create_connection(("127.0.0.1", port))
    conn = Connection(container_id="memory-bench")
    conn.open()
    session = conn.begin()
    sender: Link = session.attach_sender(
        "fill",
        source=Source(),
        target=Target(address="mem", capabilities=("queue", "create-on-demand")),
    )
    bodies = [encode_message(bytes([i % 251]) * size, message_id=i) for i in range(64)]
    sent = settled = 0
    start = time.perf_counter()
    while settled < count:
        while sender.credit > 0 and sent < count:
            sender.send(bodies[sent % 64])
            sent += 1
        data = conn.data_to_send()
        if data:
            sock.sendall(data)
        conn.receive_data(sock.recv(1 << 20))
        for ev in conn.events():
            if isinstance(ev, DeliveryUpdated):
                settled += 1
            elif isinstance(ev, CreditGranted):
                pass
        if conn.finished:
            raise SystemExit(f"connection closed: {conn.error}")
    elapsed = time.perf_counter() - start
    conn.close()
    sock.sendall(conn.data_to_send())
    sock.close()
    return elapsed


def main() -> None:
    """Fill a queue and print the daemon's memory per message."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--count", type=int, default=1_000_000)
    p.add_argument("--size", type=int, default=1024)
    a = p.parse_args()
    daemon = subprocess.Popen(
        [sys.executable, "-m", "qpid_ha.tools.qpidd", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert daemon.stdout is not None
        port = int(daemon.stdout.readline())
        before = rss_kib(daemon.pid)
        elapsed = fill(port, a.count, a.size)
        after = rss_kib(daemon.pid)
        print(
            f"{a.count:,} queued {a.size}-byte messages: RSS {after / 1024:,.0f} MiB "
            f"(empty broker {before / 1024:,.0f} MiB; "
            f"{(after - before) * 1024 / a.count:,.0f} bytes per message; "
            f"filled at {a.count / elapsed:,.0f} msg/s) - target <= 1,536 MiB"
        )
    finally:
        daemon.terminate()
        daemon.wait(10)


if __name__ == "__main__":
    main()
