"""Sans-IO AMQP 1.0: bytes in, events out; commands in, bytes out.

Nothing in this package imports anyio, socket, ssl or time: the clock is passed to
:meth:`Connection.tick`. Modules follow the OASIS AMQP 1.0 parts:

- :mod:`~qpid_ha.amqp.types`, :mod:`~qpid_ha.amqp.codec`: Part 1, the type system;
- :mod:`~qpid_ha.amqp.framing`, :mod:`~qpid_ha.amqp.performatives`,
  :mod:`~qpid_ha.amqp.connection`, :mod:`~qpid_ha.amqp.session`, :mod:`~qpid_ha.amqp.link`:
  Part 2, transport;
- :mod:`~qpid_ha.amqp.message`, :mod:`~qpid_ha.amqp.delivery_states`,
  :mod:`~qpid_ha.amqp.terminus`: Part 3, messaging;
- :mod:`~qpid_ha.amqp.transactions`: Part 4; :mod:`~qpid_ha.amqp.sasl`: Part 5 section 5.3.
"""

from __future__ import annotations

from . import conditions
from .codec import DecodeLimits, decode_value, encode_value
from .connection import Connection
from .delivery_states import Accepted, Modified, Outcome, Received, Rejected, Released
from .events import (
    Authenticated,
    AuthenticationFailed,
    ConnectionClosed,
    ConnectionOpened,
    CreditGranted,
    DeliveryAborted,
    DeliveryReceived,
    DeliveryUpdated,
    Event,
    LinkAttached,
    LinkDetached,
    LinkDrained,
    SessionBegun,
    SessionEnded,
)
from .link import Delivery, Link
from .message import BodyKind, Header, Message, Properties, encode_message
from .performatives import (
    Attach,
    Begin,
    Close,
    Detach,
    Disposition,
    End,
    Error,
    Flow,
    Open,
    ReceiverSettleMode,
    Role,
    SenderSettleMode,
    Transfer,
)
from .sasl import (
    AnonymousClient,
    AnonymousServer,
    PlainClient,
    PlainServer,
    SaslClient,
    SaslCode,
    SaslServer,
)
from .session import Session
from .terminus import DistributionMode, ExpiryPolicy, Source, Target, TerminusDurability
from .transactions import Coordinator, Declare, Declared, Discharge, TransactionalState

__all__ = [
    "Accepted",
    "AnonymousClient",
    "AnonymousServer",
    "Attach",
    "Authenticated",
    "AuthenticationFailed",
    "Begin",
    "BodyKind",
    "Close",
    "Connection",
    "ConnectionClosed",
    "ConnectionOpened",
    "Coordinator",
    "CreditGranted",
    "Declare",
    "Declared",
    "DecodeLimits",
    "Delivery",
    "DeliveryAborted",
    "DeliveryReceived",
    "DeliveryUpdated",
    "Detach",
    "Discharge",
    "Disposition",
    "DistributionMode",
    "End",
    "Error",
    "Event",
    "ExpiryPolicy",
    "Flow",
    "Header",
    "Link",
    "LinkAttached",
    "LinkDetached",
    "LinkDrained",
    "Message",
    "Modified",
    "Open",
    "Outcome",
    "PlainClient",
    "PlainServer",
    "Properties",
    "Received",
    "ReceiverSettleMode",
    "Rejected",
    "Released",
    "Role",
    "SaslClient",
    "SaslCode",
    "SaslServer",
    "SenderSettleMode",
    "Session",
    "SessionBegun",
    "SessionEnded",
    "Source",
    "Target",
    "TerminusDurability",
    "TransactionalState",
    "Transfer",
    "conditions",
    "decode_value",
    "encode_message",
    "encode_value",
]
