"""Fixtures and helpers for the interop tests that run real clients against a real broker.

Every broker listens on port 0 of the loopback interface and is function-scoped, so tests
share no state. Waits are condition waits with deadlines, never fixed sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from proton import Event, Handler
from proton.reactor import Container

from qpid_ha.broker.broker import Broker

T = TypeVar("T")

#: how long a single client step may take before the test fails (loopback: far more than enough)
STEP_TIMEOUT = 10.0


@pytest.fixture
def broker() -> Iterator[Broker]:
    """A running broker with default options on an ephemeral loopback port."""
    with Broker.running(port=0) as running:
        yield running


def proton_url(broker: Broker, address: str = "") -> str:
    """The URL a proton client uses to reach ``broker`` (and ``address`` on it)."""
    return f"{broker.url}/{address}" if address else broker.url


def on_loop(broker: Broker, fn: Callable[[], T]) -> T:
    """Run ``fn`` on the broker's event loop thread, where the model may be read safely."""
    return broker._call(fn)


def depth(broker: Broker, queue: str) -> int:
    """The number of messages on ``queue`` (-1 when it does not exist)."""

    def read() -> int:
        q = broker.registry.queues.get(queue)
        return -1 if q is None else q.depth

    return on_loop(broker, read)


def wait_for(
    condition: Callable[[], bool], what: str, timeout: float = STEP_TIMEOUT, poll: float = 0.005
) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(poll)


class _Deadline(Handler):
    def __init__(self) -> None:
        self.expired = False

    def on_timer_task(self, event: Event) -> None:
        self.expired = True
        event.container.stop()


def run_container(handler: Handler, timeout: float = STEP_TIMEOUT, **kwargs: Any) -> Container:
    """Run a proton ``Container`` driving ``handler`` until it stops; fail after ``timeout``.

    The handler ends the run with ``event.container.stop()``. Exceptions raised inside the
    handler's callbacks (failed asserts included) propagate out of this call.
    """
    container = Container(handler, **kwargs)
    deadline = _Deadline()
    task = container.schedule(timeout, deadline)
    try:
        container.run()
    finally:
        task.cancel()
    if deadline.expired:
        pytest.fail(f"proton container did not finish within {timeout}s")
    return container
