"""The broker: the protocol-independent model (queues, exchanges, bindings, the registry),
the AMQP adapter, the ``$management`` node and the :class:`Broker` that puts them together.
"""

from __future__ import annotations

from .broker import Broker
from .exchange import Binding, Exchange
from .management import EntityHandler, ManagementNode
from .options import BrokerOptions
from .queue import Consumer, Queue, QueueEntry, QueueObserver, Subscription
from .registry import BrokerObserver, Completion, EnqueueCompleter, Registry

__all__ = [
    "Binding",
    "Broker",
    "BrokerObserver",
    "BrokerOptions",
    "Completion",
    "Consumer",
    "EnqueueCompleter",
    "EntityHandler",
    "Exchange",
    "ManagementNode",
    "Queue",
    "QueueEntry",
    "QueueObserver",
    "Registry",
    "Subscription",
]
