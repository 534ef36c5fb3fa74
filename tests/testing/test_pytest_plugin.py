"""The pytest plugin gives applications a running broker."""

from __future__ import annotations

from typing import Any

import pytest
from proton import Message
from proton.utils import BlockingConnection

from qpid_ha.broker import Broker


def test_the_qpid_broker_fixture_serves_real_clients(qpid_broker: Broker) -> None:
    conn = BlockingConnection(qpid_broker.url, timeout=10)
    try:
        conn.create_sender("orders").send(Message(body={"id": 1}))
        assert conn.create_receiver("orders").receive(timeout=5).body == {"id": 1}
    finally:
        conn.close()


class TestOverriddenOptions:
    @pytest.fixture
    def qpid_broker_options(self) -> dict[str, Any]:
        return {"auto_create": False, "max_connections": 3}

    def test_its_options_can_be_overridden(self, qpid_broker: Broker) -> None:
        assert qpid_broker.options.auto_create is False
        assert qpid_broker.options.max_connections == 3
