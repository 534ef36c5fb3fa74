"""Client failover against real ``qpidd`` daemons on loopback.

The daemons are subprocesses (``conftest.qpidd``), so that a broker can die the way brokers
die: SIGKILL (the sockets reset at once) or SIGSTOP (the sockets stay open and nothing more
is said, which only the heartbeat reveals). Qpid's HA tests check failover with a numbered
sender and a numbered receiver; so does the first test here. Without HA (a later issue) the
messages the killed broker had accepted but not delivered are lost with it: they must be the
only gap, and everything it had not accepted must reach the next broker, in order.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable

import anyio
import anyio.abc
import pytest

from qpid_ha import messaging
from qpid_ha.client import ConnectError, Connection, Message
from qpid_ha.errors import QpidHaError

from .conftest import QpiddFactory

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

HEARTBEAT = 1.0
#: how long detecting a silent broker and moving on may take: twice the heartbeat, plus a
#: second for the scheduler and the next connect
DETECTION = 2 * HEARTBEAT + 1.0


async def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        await anyio.sleep(0.01)


def closed_port() -> int:
    """A loopback port nothing listens on: bound, read back and closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# ------------------------------------------------------------------------------------------
# SIGKILL: a numbered sender and a numbered receiver
# ------------------------------------------------------------------------------------------

COUNT = 3000
KILL_AT = 1000


async def test_sender_and_receiver_finish_on_the_next_broker_when_the_first_is_killed(
    qpidd: QpiddFactory,
) -> None:
    a, b = qpidd(), qpidd()
    url = f"amqp:{a.url},{b.url}"
    got: list[int] = []
    sent = 0  # numbers handed to send() and returned from it
    at_loss: tuple[int, int] | None = None  # (sent, sender.unsettled) when A was found lost

    async with (
        Connection(url, reconnect=True, heartbeat=HEARTBEAT) as sc,
        Connection(url, reconnect=True, heartbeat=HEARTBEAT) as rc,
    ):
        assert sc.address is not None and sc.address.port == a.port
        assert rc.address is not None and rc.address.port == a.port
        sender_session = await sc.session()
        sender = await sender_session.sender("numbers", capacity=50)
        receiver_session = await rc.session()
        receiver = await receiver_session.receiver("numbers", capacity=10)

        async def receive() -> None:
            while not got or got[-1] != COUNT - 1:
                message = await receiver.fetch(timeout=10)
                receiver_session.acknowledge(message)
                got.append(message.content)

        async def watch_sender_connection() -> None:
            # Once the loss is seen no outcome from A can arrive any more, and B has not been
            # reached yet: what is unsettled now is exactly what A did not accept.
            nonlocal at_loss
            while sc.reconnects == 0:
                await sc.wait_changed()
            at_loss = (sent, sender.unsettled)

        with anyio.fail_after(45):
            async with anyio.create_task_group() as tg:
                tg.start_soon(receive)
                tg.start_soon(watch_sender_connection)
                for i in range(COUNT):
                    if i == KILL_AT:
                        assert sender.unsettled > 0, "nothing in flight when A is killed"
                        a.kill()
                    await sender.send(Message(i), sync=False)
                    sent += 1
                await sender.sync(timeout=30)

        assert sc.address is not None and sc.address.port == b.port
        assert rc.address is not None and rc.address.port == b.port
        assert (sc.reconnects, rc.reconnects) == (1, 1)

    assert at_loss is not None
    sent_at_loss, unaccepted = at_loss
    first_unaccepted = sent_at_loss - unaccepted
    assert 0 < sender.resent <= unaccepted, (sender.resent, unaccepted)

    # got is 0..k-1 from A, then m..COUNT-1 from B; one break at most.
    k = next((j for j in range(1, len(got)) if got[j] != got[j - 1] + 1), len(got))
    assert got[:k] == list(range(k)), "A delivered out of order or with gaps"
    after = got[k:]
    if after:
        m = after[0]
        assert after == list(range(m, COUNT)), "a gap or a disorder after the failover"
        assert m <= first_unaccepted, (
            f"{first_unaccepted - m} messages A never accepted did not reach B "
            f"(B's first is {m}, A accepted up to {first_unaccepted - 1})"
        )
    missing = sorted(set(range(COUNT)) - set(got))
    duplicates = len(got) - len(set(got))
    # Lost: only what A accepted and never delivered, one contiguous run.
    assert missing == list(range(k, k + len(missing))), missing[:10]
    assert all(n < first_unaccepted for n in missing)
    # Duplicates: only messages A accepted (and delivered) whose outcome never reached us.
    assert duplicates <= sender.resent
    print(
        f"killed at {KILL_AT}: resent {sender.resent}, lost with A {len(missing)}, "
        f"duplicates {duplicates}"
    )


async def test_the_first_message_after_a_kill_is_accepted_by_the_next_broker_promptly(
    qpidd: QpiddFactory,
) -> None:
    # Issue 4's target (measured by bench/client_bench.py) is 0.5 s; a loaded CI machine
    # gets twice that here.
    a, b = qpidd(), qpidd()
    url = f"amqp:{a.url},{b.url}"
    async with Connection(url, reconnect=True, reconnect_interval_min=0.05) as conn:
        sender = await (await conn.session()).sender("gap", capacity=10)
        for i in range(10):
            await sender.send(Message(i))
        a.kill()
        killed = time.monotonic()
        await sender.send(Message("after"), timeout=5)
        gap = time.monotonic() - killed
        assert conn.address is not None and conn.address.port == b.port
    print(f"first message accepted by B {gap * 1000:.0f} ms after the kill")
    assert gap < 1.0


async def test_a_fetch_waiting_on_a_receiver_without_prefetch_survives_a_failover(
    qpidd: QpiddFactory,
) -> None:
    a, b = qpidd(), qpidd()
    async with (
        Connection(f"amqp:{a.url},{b.url}", reconnect=True, heartbeat=HEARTBEAT) as conn,
        Connection(f"amqp:{b.url}") as direct,
    ):
        receiver = await (await conn.session()).receiver("q", capacity=0)
        sender = await (await direct.session()).sender("q")
        got: list[object] = []

        async def fetch() -> None:
            got.append((await receiver.fetch(timeout=2)).content)

        async with anyio.create_task_group() as tg:
            tg.start_soon(fetch)
            await wait_for(
                lambda: receiver.link is not None and receiver.link.credit == 1,
                2,
                "the fetch asking A for one message",
            )
            a.kill()
            await wait_for(
                lambda: conn.opened and conn.address is not None and conn.address.port == b.port,
                DETECTION,
                "failover to B",
            )
            await sender.send("on B")
        assert got == ["on B"]


# ------------------------------------------------------------------------------------------
# SIGSTOP: a silent broker is found out by the heartbeat
# ------------------------------------------------------------------------------------------


async def test_an_open_connection_leaves_a_stopped_broker_within_twice_the_heartbeat(
    qpidd: QpiddFactory,
) -> None:
    a, b = qpidd(), qpidd()
    async with Connection(f"amqp:{a.url},{b.url}", reconnect=True, heartbeat=HEARTBEAT) as conn:
        session = await conn.session()
        receiver = await session.receiver("idle")  # nothing flows: only heartbeats tell
        a.stop()
        stopped = time.monotonic()
        await wait_for(
            lambda: conn.opened and conn.address is not None and conn.address.port == b.port,
            DETECTION,
            "move from the stopped broker to the next",
        )
        moved = time.monotonic() - stopped
        assert conn.reconnects == 1
        async with Connection(f"amqp:{b.url}") as direct:
            sender = await (await direct.session()).sender("idle")
            await sender.send("on B")
        assert (await receiver.fetch(timeout=5)).content == "on B"
    assert moved >= HEARTBEAT, f"moved after {moved:.2f} s: before any heartbeat was missed"


async def test_a_new_connection_skips_a_stopped_broker_within_twice_the_heartbeat(
    qpidd: QpiddFactory,
) -> None:
    a, b = qpidd(), qpidd()
    a.stop()  # its port still accepts TCP connections; nothing answers on them
    started = time.monotonic()
    # (no timeout around the open: cancelling an open is the bug the xfail test below shows)
    async with Connection(f"amqp:{a.url},{b.url}", reconnect=True, heartbeat=HEARTBEAT) as conn:
        assert time.monotonic() - started < DETECTION
        assert conn.address is not None and conn.address.port == b.port
        sender = await (await conn.session()).sender("q")
        await sender.send("hello")
    assert time.monotonic() - started < DETECTION


async def test_a_new_connection_without_reconnect_gives_up_on_a_stopped_broker(
    qpidd: QpiddFactory,
) -> None:
    a = qpidd()
    a.stop()
    started = time.monotonic()
    with pytest.raises(ConnectError):
        async with Connection(f"amqp:{a.url}", heartbeat=HEARTBEAT):
            pass
    assert time.monotonic() - started < DETECTION


async def test_a_reconnect_skips_a_stopped_broker_within_twice_the_heartbeat(
    qpidd: QpiddFactory,
) -> None:
    a, stopped, b = qpidd(), qpidd(), qpidd()
    stopped.stop()
    url = f"amqp:{a.url},{stopped.url},{b.url}"
    async with Connection(url, reconnect=True, heartbeat=HEARTBEAT) as conn:
        assert conn.address is not None and conn.address.port == a.port
        session = await conn.session()
        receiver = await session.receiver("q")
        a.kill()  # the next address is the stopped broker: the reconnect must not stick there
        killed = time.monotonic()
        await wait_for(
            lambda: conn.opened and conn.address is not None and conn.address.port == b.port,
            DETECTION,
            "reconnect past the stopped broker",
        )
        assert time.monotonic() - killed < DETECTION
        async with Connection(f"amqp:{b.url}") as direct:
            await (await (await direct.session()).sender("q")).send("on B")
        assert (await receiver.fetch(timeout=5)).content == "on B"


# ------------------------------------------------------------------------------------------
# Nothing reachable: the reconnect policy ends in ConnectError
# ------------------------------------------------------------------------------------------


async def test_without_reconnect_an_unreachable_broker_is_a_connect_error_naming_it() -> None:
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(ConnectError, match=f"127.0.0.1:{port}"):
        async with Connection(f"amqp:tcp:127.0.0.1:{port}"):
            pass
    assert time.monotonic() - started < 2


async def test_reconnect_limit_ends_in_a_connect_error_naming_every_url() -> None:
    p1, p2 = closed_port(), closed_port()
    started = time.monotonic()
    with pytest.raises(ConnectError) as info:
        async with Connection(
            f"amqp:tcp:127.0.0.1:{p1}",
            reconnect=True,
            reconnect_urls=[f"tcp:127.0.0.1:{p2}"],
            reconnect_limit=3,
            reconnect_interval_min=0.05,
            reconnect_interval_max=0.2,
        ):
            pass
    assert time.monotonic() - started < 3
    assert f"127.0.0.1:{p1}" in str(info.value) and f"127.0.0.1:{p2}" in str(info.value)
    assert isinstance(info.value, QpidHaError)


async def test_reconnect_timeout_ends_in_a_connect_error_soon_after_it_passes() -> None:
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(ConnectError, match=f"127.0.0.1:{port}"):
        async with Connection(
            f"amqp:tcp:127.0.0.1:{port}",
            reconnect=True,
            reconnect_timeout=0.5,
            reconnect_interval_max=0.1,
        ):
            pass
    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 2, elapsed


async def test_a_lost_connection_with_nowhere_to_go_fails_sends_after_the_reconnect_timeout(
    qpidd: QpiddFactory,
) -> None:
    a = qpidd()
    async with Connection(
        f"amqp:{a.url}", reconnect=True, reconnect_timeout=0.5, reconnect_interval_max=0.1
    ) as conn:
        sender = await (await conn.session()).sender("q")
        await sender.send("before")
        a.kill()
        started = time.monotonic()
        with anyio.fail_after(5), pytest.raises(ConnectError, match=f"127.0.0.1:{a.port}"):
            await sender.send("after")
        assert time.monotonic() - started < 2.5


async def test_reconnect_limit_counts_attempts_a_broker_answers_by_dropping_the_socket() -> None:
    # A backup broker refuses clients by accepting and closing the connection at once; such
    # an attempt is a failed attempt like a refused one. Should the client retry for ever,
    # the listener closes after GIVE_UP connections: refused attempts then end the test.
    give_up = 50
    accepted = 0
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def serve() -> None:
        async with listener, anyio.create_task_group() as tg:

            async def drop(stream: anyio.abc.SocketStream) -> None:
                nonlocal accepted
                accepted += 1
                await stream.aclose()
                if accepted >= give_up:
                    tg.cancel_scope.cancel()

            await listener.serve(drop, task_group=tg)

    async with anyio.create_task_group() as tg:
        tg.start_soon(serve)
        started = time.monotonic()
        with pytest.raises(ConnectError, match=f"127.0.0.1:{port}"):
            async with Connection(
                f"amqp:tcp:127.0.0.1:{port}",
                reconnect=True,
                reconnect_limit=3,
                reconnect_interval_min=0.05,
                reconnect_interval_max=0.2,
            ):
                pass
        elapsed = time.monotonic() - started
        tg.cancel_scope.cancel()
    assert accepted <= 4, f"{accepted} connections for reconnect_limit=3"
    assert elapsed >= 0.05 + 0.1 + 0.2, f"no backoff between attempts: {elapsed:.3f} s"


async def test_a_connect_error_after_a_silent_broker_names_the_broker(
    qpidd: QpiddFactory,
) -> None:
    a = qpidd()
    a.stop()
    with pytest.raises(ConnectError, match=f"127.0.0.1:{a.port}"):
        async with Connection(f"amqp:{a.url}", heartbeat=HEARTBEAT):
            pass


SCENARIO_TIMEOUT_AROUND_OPEN = """
import socket, anyio
from qpid_ha.client import Connection
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
async def main() -> None:
    try:
        with anyio.fail_after(0.3):
            async with Connection(f"amqp:tcp:127.0.0.1:{port}", reconnect=True):
                pass
    except TimeoutError:
        print("timed out")
anyio.run(main)
"""


def test_a_timeout_around_opening_a_connection_is_an_ordinary_timeout() -> None:
    # In a process of its own: the bug corrupts the event loop it happens on.
    done = subprocess.run(
        [sys.executable, "-c", SCENARIO_TIMEOUT_AROUND_OPEN],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "timed out"


def test_the_blocking_api_reports_an_unreachable_url_list_as_connect_error() -> None:
    p1, p2 = closed_port(), closed_port()
    started = time.monotonic()
    with pytest.raises(messaging.ConnectError) as info:
        messaging.Connection.establish(
            f"127.0.0.1:{p1}",
            f"{{reconnect:true, reconnect_urls:['127.0.0.1:{p2}'], reconnect_limit:2,"
            " reconnect_interval:0.05}",
        )
    assert time.monotonic() - started < 3
    assert str(p1) in str(info.value) and str(p2) in str(info.value)
    assert isinstance(info.value, messaging.ConnectionError)
    assert isinstance(info.value, QpidHaError)
