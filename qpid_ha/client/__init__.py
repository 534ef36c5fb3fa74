"""The qpid-ha client: an async AMQP 1.0 client with failover, in the style of qpid.messaging.

Addresses are qpid.messaging address strings (:mod:`qpid_ha.client.address`) and messages
are :class:`qpid_ha.client.message.Message` objects, whose content round-trips Python values
as AMQP values. :mod:`qpid_ha.messaging` is the blocking facade over this package.
"""

from __future__ import annotations

from .address import Address, parse_address, parse_connection_options
from .connection import ConnectError, Connection
from .message import Message
from .session import Empty, MessageRejected, Receiver, Sender, Session, Timeout

__all__ = [
    "Address",
    "ConnectError",
    "Connection",
    "Empty",
    "Message",
    "MessageRejected",
    "Receiver",
    "Sender",
    "Session",
    "Timeout",
    "parse_address",
    "parse_connection_options",
]
