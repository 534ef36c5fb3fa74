"""The client's message: mutable, with qpid.messaging's names, encoded as an AMQP 1.0 message.

:class:`Message` carries what qpid.messaging's ``Message`` carries (content, content_type,
subject, id, correlation_id, reply_to, user_id, durable, ttl in seconds, priority, properties)
plus the message annotations and, on received messages, the delivery count.

The content is sent as AMQP data so that it reads back exactly, as the same Python value:

- ``bytes`` (or ``bytearray``/``memoryview``) become one ``data`` section and read back as
  ``bytes``, whatever ``content_type`` says (the content type is passed through untouched
  and never changes the encoding);
- every other value (``str``, ``dict``, ``list``, ``int``, ``float``, ``bool``, ``None``,
  ``uuid.UUID`` and the AMQP types of :mod:`qpid_ha.amqp.types`) is one ``amqp-value``
  section and reads back as the same value, nested values keeping their types;
- on receipt, a message from another client reads back as: its data sections joined into
  one ``bytes``, its amqp-sequence sections joined into one ``list``, the value of its
  amqp-value section, or ``None`` without a body.

python-qpid-proton reads these messages with the same values (a ``data`` body as bytes), and
a message proton encodes decodes here with the values proton was given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from ..amqp.message import BodyKind, Header, Properties, encode_message
from ..amqp.message import Message as AmqpMessage
from ..errors import UsageError

__all__ = ["DEFAULT_PRIORITY", "Message", "decode", "encode"]

#: the AMQP priority of a message that names none; it reads back as ``priority=None``
DEFAULT_PRIORITY: Final = 4

_MAX_TTL_MS: Final = 0xFFFFFFFF
_FIELDS: Final = (
    "content",
    "content_type",
    "id",
    "subject",
    "user_id",
    "reply_to",
    "correlation_id",
    "durable",
    "priority",
    "ttl",
    "properties",
    "annotations",
    "to",
    "delivery_count",
)


class Message:
    """A message to send or a message received, as in qpid.messaging.

    The positional arguments are qpid.messaging's, in its order. Every attribute may be
    changed after construction. Two messages are equal when every attribute is.

    Args:
        content: the body: see the module documentation for how each type is sent.
        content_type: the MIME type of the content (passed through; it does not change the
            encoding).
        id: the message-id: a ``str``, ``int`` (0 to 2**64-1), ``uuid.UUID`` or ``bytes``.
        subject: the subject (with an exchange, the routing key).
        user_id: the authenticated user id; a ``str`` is sent as its UTF-8 bytes.
        reply_to: the address for replies.
        correlation_id: the correlation-id, typed as ``id``.
        durable: the message must survive a broker restart.
        priority: 0 to 255; ``None`` for the AMQP default, 4.
        ttl: time to live in seconds (millisecond resolution), ``None`` for unlimited.
        properties: the application properties: string keys to simple values.
        annotations: the message annotations; string keys are sent as symbols.
        to: the destination address (for a sender without an address of its own).
        delivery_count: how many earlier deliveries of the message failed (set by the
            broker; see :attr:`redelivered`).

    Attributes:
        content: the body.
        content_type: the MIME type of the content, or ``None``.
        id: the message-id, or ``None``.
        subject: the subject, or ``None``.
        user_id: the user id; ``bytes`` on a received message.
        reply_to: the address for replies, or ``None``.
        correlation_id: the correlation-id, or ``None``.
        durable: whether the message must survive a broker restart.
        priority: the priority, or ``None`` for the default (a received priority of 4 reads
            as ``None``).
        ttl: the time to live in seconds, or ``None``.
        properties: the application properties (a dict, empty when there are none).
        annotations: the message annotations (a dict, empty when there are none).
        to: the destination address, or ``None``.
        delivery_count: the count of earlier failed deliveries.
    """

    __slots__ = (*_FIELDS, "_settler")

    def __init__(
        self,
        content: Any = None,
        content_type: str | None = None,
        id: Any = None,
        subject: str | None = None,
        user_id: bytes | str | None = None,
        reply_to: str | None = None,
        correlation_id: Any = None,
        durable: bool = False,
        priority: int | None = None,
        ttl: float | None = None,
        properties: Mapping[str, Any] | None = None,
        *,
        annotations: Mapping[Any, Any] | None = None,
        to: str | None = None,
        delivery_count: int = 0,
    ) -> None:
        self.content = content
        self.content_type = content_type
        self.id = id
        self.subject = subject
        self.user_id = user_id
        self.reply_to = reply_to
        self.correlation_id = correlation_id
        self.durable = durable
        self.priority = priority
        self.ttl = ttl
        self.properties: dict[str, Any] = dict(properties or {})
        self.annotations: dict[Any, Any] = dict(annotations or {})
        self.to = to
        self.delivery_count = delivery_count
        # set by the receiver that fetched it: settles the delivery on its session
        self._settler: Callable[[Message | None, str], None] | None = None

    def acknowledge(self) -> None:
        """Accept this received message (the same as ``session.acknowledge(message)``)."""
        self._settle("accept")

    def reject(self) -> None:
        """Reject this received message: the broker does not deliver it again."""
        self._settle("reject")

    def release(self) -> None:
        """Release this received message: the broker may deliver it again."""
        self._settle("release")

    def _settle(self, action: str) -> None:
        if self._settler is None:
            raise UsageError("only a message received from a receiver can be settled")
        self._settler(self, action)

    @property
    def redelivered(self) -> bool:
        """The message may have been delivered before (its delivery count is not zero).

        Setting it to ``True`` makes the delivery count at least 1; ``False`` makes it 0.
        """
        return self.delivery_count > 0

    @redelivered.setter
    def redelivered(self, value: bool) -> None:
        self.delivery_count = max(self.delivery_count, 1) if value else 0

    def __eq__(self, other: object) -> bool:
        """Equal to a message whose every attribute is equal."""
        if not isinstance(other, Message):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _FIELDS)

    __hash__ = None  # type: ignore[assignment]  # mutable and compared by value

    def __repr__(self) -> str:
        defaults = _DEFAULTS
        shown = [
            f"{name}={getattr(self, name)!r}"
            for name in _FIELDS
            if getattr(self, name) != defaults[name] or name == "content"
        ]
        return f"Message({', '.join(shown)})"


_DEFAULTS: Final = {name: getattr(Message(), name) for name in _FIELDS}


def _ttl_ms(ttl: Any) -> int | None:
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl):
        raise UsageError(f"ttl is a number of seconds, not {ttl!r}")
    if ttl < 0:
        raise UsageError(f"ttl cannot be negative: {ttl!r}")
    ms = round(ttl * 1000)
    if ms == 0 and ttl > 0:
        ms = 1  # a positive ttl below a millisecond still expires, it does not become 0
    if ms > _MAX_TTL_MS:
        raise UsageError(f"ttl {ttl!r} s is above the AMQP limit of {_MAX_TTL_MS / 1000} s")
    return ms


def _header(message: Message) -> Header | None:
    priority = message.priority
    if priority is not None and (
        isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 255
    ):
        raise UsageError(f"priority is 0 to 255, not {priority!r}")
    count = message.delivery_count
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 0xFFFFFFFF:
        raise UsageError(f"delivery_count is a uint, not {count!r}")
    header = Header(
        durable=bool(message.durable),
        priority=DEFAULT_PRIORITY if priority is None else priority,
        ttl=_ttl_ms(message.ttl),
        delivery_count=count,
    )
    return None if header == Header() else header


def _properties(message: Message) -> Properties | None:
    user_id = message.user_id
    if isinstance(user_id, str):
        user_id = user_id.encode()
    elif user_id is not None and not isinstance(user_id, bytes):
        raise UsageError(f"user_id is bytes or a string, not {user_id!r}")
    properties = Properties(
        message_id=message.id,
        user_id=user_id,
        to=message.to,
        subject=message.subject,
        reply_to=message.reply_to,
        correlation_id=message.correlation_id,
        content_type=message.content_type,
    )
    return None if properties == Properties() else properties


def encode(message: Message) -> bytes:
    """Encode a message as an AMQP 1.0 message (the payload of a transfer).

    Args:
        message: the message.

    Returns:
        The encoded message: the header and properties sections when any of their fields is
        set, the message annotations and application properties when not empty, and the body
        (a data section for bytes, an amqp-value section for anything else).

    Raises:
        UsageError: a field or the content cannot be encoded (a priority out of 0..255, a
            negative ttl, a value with no AMQP type...).
    """
    content = message.content
    if isinstance(content, bytearray | memoryview):
        content = bytes(content)
    return encode_message(
        content,
        header=_header(message),
        properties=_properties(message),
        application_properties=message.properties or None,
        message_annotations=message.annotations or None,
    )


def _content(amqp: AmqpMessage) -> Any:
    kind = amqp.body_kind
    sections = amqp.body_sections
    if kind is BodyKind.DATA:
        return sections[0] if len(sections) == 1 else b"".join(sections)
    if kind is BodyKind.SEQUENCE:
        return [item for section in sections for item in section]
    if kind is BodyKind.VALUE:
        return sections[0]
    return None


def decode(data: bytes | bytearray | memoryview | AmqpMessage) -> Message:
    """Decode an AMQP 1.0 message into a :class:`Message`.

    Args:
        data: the encoded message (a transfer's payload), or an already parsed
            :class:`qpid_ha.amqp.message.Message`.

    Returns:
        The message. Fields it does not carry (group ids, creation and expiry times, delivery
        annotations, the footer) are not kept.

    Raises:
        DecodeError: the data is not a well-formed AMQP message.
    """
    amqp = data if isinstance(data, AmqpMessage) else AmqpMessage(data)
    header = amqp.header
    props = amqp.properties or Properties()
    return Message(
        _content(amqp),
        content_type=props.content_type,
        id=props.message_id,
        subject=props.subject,
        user_id=props.user_id,
        reply_to=props.reply_to,
        correlation_id=props.correlation_id,
        durable=header.durable,
        priority=None if header.priority == DEFAULT_PRIORITY else header.priority,
        ttl=None if header.ttl is None else header.ttl / 1000,
        properties=amqp.application_properties,
        annotations=amqp.message_annotations,
        to=props.to,
        delivery_count=header.delivery_count,
    )
