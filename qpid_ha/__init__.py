"""qpid-ha: an embeddable active-passive high-availability AMQP 1.0 message broker toolkit.

The package is built in layers (see ``docs/architecture.md``); what exists today:

- :mod:`qpid_ha.amqp`: the sans-IO AMQP 1.0 protocol engine (codec, framing, SASL,
  connections, sessions, links, messages);
- :mod:`qpid_ha.errors`: the exception tree.

``Broker``, ``HaCluster``, ``ReplicatingQueue`` and ``QueueReplicator`` join this namespace
as their layers land.
"""

from __future__ import annotations

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

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "AmqpError",
    "AuthenticationError",
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
