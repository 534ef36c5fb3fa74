"""qpid-ha: an embeddable active-passive high-availability AMQP 1.0 message broker toolkit.

The package is built in layers (see ``docs/architecture.md``); what exists today:

- :mod:`qpid_ha.amqp`: the sans-IO AMQP 1.0 protocol engine (codec, framing, SASL,
  connections, sessions, links, messages);
- :mod:`qpid_ha.broker`: the broker (:class:`Broker`, :class:`BrokerOptions`) and its model;
- :mod:`qpid_ha.errors`: the exception tree.

``HaCluster``, ``ReplicatingQueue`` and ``QueueReplicator`` join this namespace as the HA
layer lands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    AlreadyExists,
    AmqpError,
    AuthenticationError,
    ConnectionFailed,
    DecodeError,
    FramingError,
    InvalidArgument,
    LinkError,
    NotAllowed,
    NotFound,
    ProtocolError,
    QpidHaError,
    ResourceLimitExceeded,
    SessionError,
    UsageError,
)

if TYPE_CHECKING:
    from .broker import Broker, BrokerOptions

# The broker pulls in anyio; load it on first use so that importing the sans-IO engine
# (qpid_ha.amqp) stays free of I/O modules.
_LAZY = {"Broker": "qpid_ha.broker", "BrokerOptions": "qpid_ha.broker"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qpid_ha' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "AlreadyExists",
    "AmqpError",
    "AuthenticationError",
    "Broker",
    "BrokerOptions",
    "ConnectionFailed",
    "DecodeError",
    "FramingError",
    "InvalidArgument",
    "LinkError",
    "NotAllowed",
    "NotFound",
    "ProtocolError",
    "QpidHaError",
    "ResourceLimitExceeded",
    "SessionError",
    "UsageError",
    "__version__",
]
