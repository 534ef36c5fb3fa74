"""Error condition symbols (OASIS AMQP 1.0 Part 2, sections 2.8.15 to 2.8.18)."""

from __future__ import annotations

__all__ = [
    "DECODE_ERROR",
    "DETACH_FORCED",
    "ERRANT_LINK",
    "FRAME_SIZE_TOO_SMALL",
    "FRAMING_ERROR",
    "HANDLE_IN_USE",
    "ILLEGAL_STATE",
    "INTERNAL_ERROR",
    "INVALID_FIELD",
    "LINK_REDIRECT",
    "MESSAGE_SIZE_EXCEEDED",
    "NOT_ALLOWED",
    "NOT_FOUND",
    "NOT_IMPLEMENTED",
    "PRECONDITION_FAILED",
    "RESOURCE_DELETED",
    "RESOURCE_LIMIT_EXCEEDED",
    "RESOURCE_LOCKED",
    "STOLEN",
    "TRANSFER_LIMIT_EXCEEDED",
    "UNATTACHED_HANDLE",
    "UNAUTHORIZED_ACCESS",
    "WINDOW_VIOLATION",
]

# amqp-error (2.8.15)
INTERNAL_ERROR = "amqp:internal-error"
NOT_FOUND = "amqp:not-found"
UNAUTHORIZED_ACCESS = "amqp:unauthorized-access"
DECODE_ERROR = "amqp:decode-error"
RESOURCE_LIMIT_EXCEEDED = "amqp:resource-limit-exceeded"
NOT_ALLOWED = "amqp:not-allowed"
INVALID_FIELD = "amqp:invalid-field"
NOT_IMPLEMENTED = "amqp:not-implemented"
RESOURCE_LOCKED = "amqp:resource-locked"
PRECONDITION_FAILED = "amqp:precondition-failed"
RESOURCE_DELETED = "amqp:resource-deleted"
ILLEGAL_STATE = "amqp:illegal-state"
FRAME_SIZE_TOO_SMALL = "amqp:frame-size-too-small"

# connection-error (2.8.16)
CONNECTION_FORCED = "amqp:connection:forced"
FRAMING_ERROR = "amqp:connection:framing-error"
CONNECTION_REDIRECT = "amqp:connection:redirect"

# session-error (2.8.17)
WINDOW_VIOLATION = "amqp:session:window-violation"
ERRANT_LINK = "amqp:session:errant-link"
HANDLE_IN_USE = "amqp:session:handle-in-use"
UNATTACHED_HANDLE = "amqp:session:unattached-handle"

# link-error (2.8.18)
DETACH_FORCED = "amqp:link:detach-forced"
TRANSFER_LIMIT_EXCEEDED = "amqp:link:transfer-limit-exceeded"
MESSAGE_SIZE_EXCEEDED = "amqp:link:message-size-exceeded"
LINK_REDIRECT = "amqp:link:redirect"
STOLEN = "amqp:link:stolen"
