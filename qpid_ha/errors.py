"""The exception tree of qpid-ha.

Every exception the library raises on purpose derives from :class:`QpidHaError`::

    QpidHaError
     ├── UsageError               the application called the API wrongly (a local mistake)
     └── AmqpError                an AMQP error: condition, description, info
          ├── ProtocolError       the peer broke AMQP 1.0; the engine closes with the condition
          │    ├── DecodeError    malformed or over-limit encoded data (amqp:decode-error)
          │    └── FramingError   bad frame or protocol header (amqp:connection:framing-error)
          ├── AuthenticationError SASL negotiation failed (amqp:unauthorized-access)
          ├── ConnectionFailed    the connection was closed or lost, with the peer's error
          ├── SessionError        a session ended with an error
          ├── LinkError           a link was detached with an error
          ├── NotFound            no such queue, exchange or node (amqp:not-found)
          ├── AlreadyExists       a conflicting object of that name (amqp:precondition-failed)
          ├── InvalidArgument     a bad declare argument or option value (amqp:invalid-field)
          ├── NotAllowed          the operation is not allowed here (amqp:not-allowed)
          └── ResourceLimitExceeded  a queue or other limit (amqp:resource-limit-exceeded)

AMQP errors carry the spec's error condition symbol (Part 2 section 2.8.14) so that every layer
(engine, broker, client, tools) can report exactly what went over the wire.
"""

from __future__ import annotations

from typing import Any

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
]


class QpidHaError(Exception):
    """Root of every exception raised on purpose by qpid-ha."""


class UsageError(QpidHaError):
    """The application used the API in a way the protocol does not allow.

    Raised at once by the call that was wrong; the connection is unaffected.
    """


class AmqpError(QpidHaError):
    """An error with an AMQP error condition (OASIS AMQP 1.0 Part 2 section 2.8.14).

    Attributes:
        condition: the error condition symbol, for example ``amqp:not-found``.
        description: a human-readable text, possibly empty.
        info: the ``info`` map of the AMQP error, possibly empty.
    """

    default_condition = "amqp:internal-error"

    def __init__(
        self,
        description: str = "",
        condition: str | None = None,
        info: dict[Any, Any] | None = None,
    ) -> None:
        self.condition: str = condition or self.default_condition
        self.description = description
        self.info: dict[Any, Any] = info or {}
        super().__init__(f"{self.condition}: {description}" if description else self.condition)


class ProtocolError(AmqpError):
    """The peer violated AMQP 1.0; the engine answers with close, end or detach."""

    default_condition = "amqp:internal-error"


class DecodeError(ProtocolError):
    """Encoded data that cannot be decoded, or that exceeds a decoding limit."""

    default_condition = "amqp:decode-error"


class FramingError(ProtocolError):
    """A malformed frame or protocol header."""

    default_condition = "amqp:connection:framing-error"


class AuthenticationError(AmqpError):
    """SASL authentication failed."""

    default_condition = "amqp:unauthorized-access"


class ConnectionFailed(AmqpError):
    """The connection was closed by the peer with an error, or lost."""

    default_condition = "amqp:connection:forced"


class SessionError(AmqpError):
    """A session ended with an error."""

    default_condition = "amqp:internal-error"


class LinkError(AmqpError):
    """A link was detached with an error."""

    default_condition = "amqp:internal-error"


class NotFound(AmqpError):
    """No queue, exchange, binding or node of that name."""

    default_condition = "amqp:not-found"


class AlreadyExists(AmqpError):
    """An object of that name exists with other properties."""

    default_condition = "amqp:precondition-failed"


class InvalidArgument(AmqpError):
    """A declare argument or option has an invalid value."""

    default_condition = "amqp:invalid-field"


class NotAllowed(AmqpError):
    """The operation is not allowed (for example: an exclusive queue owned by another session)."""

    default_condition = "amqp:not-allowed"


class ResourceLimitExceeded(AmqpError):
    """A limit was reached: a full queue under the reject policy, too many connections..."""

    default_condition = "amqp:resource-limit-exceeded"
