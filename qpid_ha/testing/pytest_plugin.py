"""A pytest plugin: a running broker for an application's own tests.

Installed with qpid-ha (entry point ``pytest11``), it offers:

- ``qpid_broker``: a :class:`~qpid_ha.broker.Broker` on a free loopback port, running in a
  thread of its own for the duration of one test; ``qpid_broker.url`` is its address.
- ``qpid_broker_options``: override it to change the broker's settings (a mapping of
  :class:`~qpid_ha.broker.BrokerOptions` fields).

Example::

    def test_orders_are_queued(qpid_broker):
        qpid_broker.declare_queue("orders")
        send_order(qpid_broker.url, {"id": 1})          # the application under test
        assert qpid_broker.registry.queues["orders"].depth == 1
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..broker import Broker

__all__ = ["qpid_broker", "qpid_broker_options"]


@pytest.fixture
def qpid_broker_options() -> dict[str, Any]:
    """Settings of the ``qpid_broker`` fixture; override to change them."""
    return {"auto_create": True}


@pytest.fixture
def qpid_broker(qpid_broker_options: dict[str, Any]) -> Iterator[Broker]:
    """A broker on a free loopback port for one test."""
    options = {"port": 0, **qpid_broker_options}
    with Broker.running(**options) as broker:
        yield broker
