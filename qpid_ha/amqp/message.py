"""Messages (OASIS AMQP 1.0 Part 3, section 3.2).

A message is a run of sections, each a described value, in this order::

    header? delivery-annotations? message-annotations?      the annotations (per hop)
    properties? application-properties? body footer?         the bare message, then the footer

where the body is one or more ``data`` sections, one or more ``amqp-sequence`` sections or a
single ``amqp-value`` section. The bare message (properties through body) is immutable: a
broker forwards it byte for byte and rewrites only the header and the annotations.

:class:`Message` wraps the bytes of a transfer payload and parses them lazily. Construction only
walks the top-level sections, checking their descriptors, their order, their sizes and the
format code of each section's value; a section's content is decoded the first time it is read
and then cached. Reading ``to`` or ``subject`` therefore decodes the properties section and
nothing else, and a message whose body is malformed still gives its header and properties.
Every malformation raises :class:`~qpid_ha.errors.DecodeError`, at construction for the
section framing and on first access for a section's content.

:meth:`Message.encode` re-encodes a message for forwarding: a new header and annotations in
front of the original bare message bytes. :func:`encode_message` encodes a message for an
application.
"""

from __future__ import annotations

import enum
import struct
import uuid
from collections.abc import Mapping
from typing import Any, Final

import msgspec

from ..errors import DecodeError, UsageError
from .codec import (
    DEFAULT_LIMITS,
    DecodeLimits,
    decode_value,
    encode_typed,
    encode_value,
    skip_value,
)
from .composite import Composite, composite
from .types import decimal32, decimal64, decimal128, ulong

__all__ = [
    "KEEP",
    "SECTION_SYMBOLS",
    "BodyKind",
    "Header",
    "Keep",
    "Message",
    "Properties",
    "Section",
    "encode_message",
]


class Section(enum.IntEnum):
    """The descriptor codes of the message sections (Part 3 sections 3.2.1 to 3.2.10)."""

    HEADER = 0x70
    DELIVERY_ANNOTATIONS = 0x71
    MESSAGE_ANNOTATIONS = 0x72
    PROPERTIES = 0x73
    APPLICATION_PROPERTIES = 0x74
    DATA = 0x75
    AMQP_SEQUENCE = 0x76
    AMQP_VALUE = 0x77
    FOOTER = 0x78


#: symbolic descriptor -> section, for sections sent with symbolic descriptors
SECTION_SYMBOLS: Final[dict[str, Section]] = {
    "amqp:header:list": Section.HEADER,
    "amqp:delivery-annotations:map": Section.DELIVERY_ANNOTATIONS,
    "amqp:message-annotations:map": Section.MESSAGE_ANNOTATIONS,
    "amqp:properties:list": Section.PROPERTIES,
    "amqp:application-properties:map": Section.APPLICATION_PROPERTIES,
    "amqp:data:binary": Section.DATA,
    "amqp:amqp-sequence:list": Section.AMQP_SEQUENCE,
    "amqp:amqp-value:*": Section.AMQP_VALUE,
    "amqp:footer:map": Section.FOOTER,
}


class BodyKind(enum.StrEnum):
    """Which of the three body encodings a message uses (Part 3 section 3.2).

    ``NONE`` marks a message without a body section. The spec requires a body, but
    python-qpid-proton sends ``Message()`` without one, so such messages are accepted.
    """

    DATA = "data"
    SEQUENCE = "amqp-sequence"
    VALUE = "amqp-value"
    NONE = "none"


class Keep(enum.Enum):
    """Type of :data:`KEEP`, the marker that keeps a section as received."""

    KEEP = "keep"


#: passed to :meth:`Message.encode`: keep this section's original bytes
KEEP: Final = Keep.KEEP


@composite(0x70, "amqp:header:list", "boolean", "ubyte", "uint", "boolean", "uint")
class Header(Composite, frozen=True):
    """header: transport headers of a message (Part 3 section 3.2.1).

    A message without a header section has the defaults below. The broker may change the
    header (redelivery bookkeeping); ``msgspec.structs.replace`` gives a changed copy.

    Attributes:
        durable: the message must survive a broker restart.
        priority: relative priority, 0 to 255; 4 is the default.
        ttl: time to live in milliseconds, ``None`` for unlimited.
        first_acquirer: no previous acquirer has returned the message.
        delivery_count: how many earlier delivery attempts failed.
    """

    durable: bool = False
    priority: int = 4
    ttl: int | None = None
    first_acquirer: bool = False
    delivery_count: int = 0


#: the header of a message that has none: every field at its default (shared, immutable)
_DEFAULT_HEADER: Final = Header()


@composite(
    0x73, "amqp:properties:list",
    "*", "binary", "*", "string", "*", "*", "symbol", "symbol", "timestamp", "timestamp",
    "string", "uint", "string",
)  # fmt: skip
class Properties(Composite, frozen=True):
    """properties: the immutable properties of the bare message (Part 3 section 3.2.4).

    Message and correlation ids are a ulong, a :class:`uuid.UUID`, ``bytes`` or ``str``; give
    a number as :class:`~qpid_ha.amqp.types.ulong` (a plain ``int`` encodes as a long, which
    the spec does not allow; :func:`encode_message` converts it). Addresses (``to``,
    ``reply_to``) are strings in practice but the spec types them ``*``. Times are
    milliseconds since the Unix epoch.
    """

    message_id: Any = None
    user_id: bytes | None = None
    to: Any = None
    subject: str | None = None
    reply_to: Any = None
    correlation_id: Any = None
    content_type: str | None = None
    content_encoding: str | None = None
    absolute_expiry_time: int | None = None
    creation_time: int | None = None
    group_id: str | None = None
    group_sequence: int | None = None
    reply_to_group_id: str | None = None


# Position of each section in the order the spec prescribes; the three body kinds share one.
_RANK: Final = {0x70: 0, 0x71: 1, 0x72: 2, 0x73: 3, 0x74: 4, 0x75: 5, 0x76: 5, 0x77: 5, 0x78: 6}
_BODY_RANK: Final = 5
_SPAN: Final = struct.Struct(">BIII")
_BODY_KEY: Final = -1  # the decoded body sections, in the section cache
_LISTS: Final = frozenset((0x40, 0x45, 0xC0, 0xD0))
_MAPS: Final = frozenset((0x40, 0xC1, 0xD1))
# The format codes a section's value may have; amqp-value accepts any value.
_VALUE_CODES: Final[dict[int, frozenset[int] | None]] = {
    0x70: _LISTS,
    0x71: _MAPS,
    0x72: _MAPS,
    0x73: _LISTS,
    0x74: _MAPS,
    0x75: frozenset((0xA0, 0xB0)),
    0x76: frozenset((0x45, 0xC0, 0xD0)),
    0x77: None,
    0x78: _MAPS,
}
_BODY_KINDS: Final = {0x75: BodyKind.DATA, 0x76: BodyKind.SEQUENCE, 0x77: BodyKind.VALUE}
_SYMBOL_CODES: Final = {name: int(code) for name, code in SECTION_SYMBOLS.items()}
_u64 = struct.Struct(">Q").unpack_from
_BYTES_LIKE: Final = (bytes, bytearray, memoryview)
_DECIMALS: Final = (decimal32, decimal64, decimal128)  # bytes subclasses, but not binary
_ENCODE_ERRORS: Final = (ValueError, TypeError, OverflowError, struct.error)


def _section_name(code: int) -> str:
    return Section(code).name.lower().replace("_", "-")


def _read_descriptor(buf: bytes, pos: int, limits: DecodeLimits) -> tuple[int, int]:
    """Read a section descriptor at ``pos``; return its section code and where its value starts."""
    n = len(buf)
    if pos >= n:
        raise DecodeError("truncated message section descriptor")
    fc = buf[pos]
    if fc == 0x53:  # smallulong: the encoding every client uses
        if pos + 1 >= n:
            raise DecodeError("truncated message section descriptor")
        code = buf[pos + 1]
        pos += 2
    elif fc == 0x80:
        if pos + 9 > n:
            raise DecodeError("truncated message section descriptor")
        code = _u64(buf, pos + 1)[0]
        pos += 9
    elif fc == 0x44:
        code = 0
        pos += 1
    elif fc in (0xA3, 0xB3):
        name, pos = decode_value(buf, pos, limits)
        sym = _SYMBOL_CODES.get(name)
        if sym is None:
            raise DecodeError(f"unknown message section descriptor {name!r}")
        code = sym
    else:
        raise DecodeError(f"message section descriptor with format code 0x{fc:02x}")
    if code not in _RANK:
        raise DecodeError(f"unknown message section descriptor 0x{code:x}")
    if pos >= n:
        raise DecodeError(f"{_section_name(code)} section without a value")
    return code, pos


def _encode_section(out: bytearray, code: int, amqp_type: str, value: Any) -> None:
    out += b"\x00\x53"
    out.append(code)
    encode_typed(out, amqp_type, value)


def _message_id(value: Any, name: str) -> Any:
    """Check a message-id or correlation-id and turn a plain int into the ulong the spec needs."""
    if value is None or isinstance(value, str | bytes | uuid.UUID | ulong):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= ulong.hi:
        return ulong(value)
    raise UsageError(f"{name} must be a ulong, uuid, binary or string, not {value!r}")


class Message:
    """An AMQP message over the bytes of a transfer payload, decoded lazily.

    Args:
        data: the encoded message: every section, as carried by the transfer frames.
        limits: bounds for decoding the sections' content.

    Raises:
        DecodeError: the bytes are not a run of well-formed sections in the spec's order.

    Sections are decoded on first access and cached; a malformed section raises
    :class:`~qpid_ha.errors.DecodeError` each time it is read and leaves the others readable.
    The returned dicts and lists are the cached objects: treat them as read-only (changing
    them never changes :attr:`data`).
    """

    # Memory matters: a broker holds millions of these. The section index is packed into one
    # small bytes object, and the cache is created on first use.
    __slots__ = ("_cache", "_index", "_limits", "data")

    def __init__(
        self, data: bytes | bytearray | memoryview, *, limits: DecodeLimits = DEFAULT_LIMITS
    ) -> None:
        if not isinstance(data, bytes):
            data = bytes(data)
        #: the encoded message, exactly as given
        self.data: bytes = data
        self._limits = limits
        self._cache: dict[int, Any] | None = None
        # (section code, section start, value start, section end) per section, packed
        self._index = self._scan()

    def _scan(self) -> bytes:
        buf = self.data
        n = len(buf)
        max_depth = self._limits.max_depth
        spans: list[int] = []
        pos = 0
        last = -1
        prev = 0
        while pos < n:
            if buf[pos] != 0x00:
                raise DecodeError(
                    f"expected a message section at offset {pos}, found format code"
                    f" 0x{buf[pos]:02x}"
                )
            code, vpos = _read_descriptor(buf, pos + 1, self._limits)
            rank = _RANK[code]
            # Sections come in rank order, each at most once, except that a body of data or
            # amqp-sequence sections repeats its one kind.
            repeats = rank == _BODY_RANK and code == prev and code != Section.AMQP_VALUE
            if rank < last or (rank == last and not repeats):
                raise DecodeError(
                    f"message section {_section_name(code)} may not follow {_section_name(prev)}"
                )
            allowed = _VALUE_CODES[code]
            if allowed is not None and buf[vpos] not in allowed:
                raise DecodeError(
                    f"{_section_name(code)} section holds a value with format code"
                    f" 0x{buf[vpos]:02x}"
                )
            end = skip_value(buf, vpos, 0, max_depth)
            spans += (code, pos, vpos, end)
            last, prev, pos = rank, code, end
        return (
            _SPAN.pack(*spans)
            if len(spans) == 4
            else b"".join(_SPAN.pack(*spans[i : i + 4]) for i in range(0, len(spans), 4))
        )

    @property
    def _spans(self) -> list[tuple[int, int, int, int]]:
        """(section code, section start, value start, section end), in message order."""
        return list(_SPAN.iter_unpack(self._index))

    @property
    def _body_spans(self) -> list[tuple[int, int]]:
        return [(v, e) for c, _, v, e in _SPAN.iter_unpack(self._index) if _RANK[c] == _BODY_RANK]

    # -- section access --------------------------------------------------------------------

    def _span(self, code: int) -> tuple[int, int, int, int] | None:
        for span in self._spans:
            if span[0] == code:
                return span
        return None

    def _decode(self, vpos: int, end: int) -> Any:
        value, pos = decode_value(self.data, vpos, self._limits)
        if pos != end:  # pragma: no cover - skip_value and decode_value read the same sizes
            raise DecodeError("message section size does not match its value")
        return value

    def _section(self, code: int) -> Any:
        """The decoded value of the section ``code``, ``None`` when absent (cached)."""
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        elif code in cache:
            return cache[code]
        span = self._span(code)
        value = None if span is None else self._decode(span[2], span[3])
        if code == Section.HEADER:
            value = _DEFAULT_HEADER if value is None else Header.from_fields(value)
        elif code == Section.PROPERTIES:
            if value is not None:
                value = Properties.from_fields(value)
        elif code == Section.APPLICATION_PROPERTIES and value is not None:
            for key in value:
                if not isinstance(key, str):
                    raise DecodeError(
                        f"application-properties key of type {type(key).__name__}",
                        condition="amqp:invalid-field",
                    )
        cache[code] = value
        return value

    @property
    def sections(self) -> tuple[Section, ...]:
        """The sections present, in message order (no decoding)."""
        return tuple(Section(span[0]) for span in self._spans)

    @property
    def header(self) -> Header:
        """The header section; ``Header()`` (every default) when the message has none."""
        header: Header = self._section(Section.HEADER)
        return header

    @property
    def delivery_annotations(self) -> dict[Any, Any] | None:
        """The delivery-annotations map (per hop), or ``None`` when absent."""
        value: dict[Any, Any] | None = self._section(Section.DELIVERY_ANNOTATIONS)
        return value

    @property
    def message_annotations(self) -> dict[Any, Any] | None:
        """The message-annotations map, or ``None`` when absent."""
        value: dict[Any, Any] | None = self._section(Section.MESSAGE_ANNOTATIONS)
        return value

    @property
    def properties(self) -> Properties | None:
        """The properties section, or ``None`` when absent."""
        value: Properties | None = self._section(Section.PROPERTIES)
        return value

    @property
    def application_properties(self) -> dict[str, Any] | None:
        """The application-properties map (string keys), or ``None`` when absent."""
        value: dict[str, Any] | None = self._section(Section.APPLICATION_PROPERTIES)
        return value

    @property
    def footer(self) -> dict[Any, Any] | None:
        """The footer map, or ``None`` when absent."""
        value: dict[Any, Any] | None = self._section(Section.FOOTER)
        return value

    @property
    def body_kind(self) -> BodyKind:
        """How the body is encoded (no decoding)."""
        if not self._body_spans:
            return BodyKind.NONE
        code = self._spans[-1][0]
        if code == Section.FOOTER:
            code = self._spans[-2][0]
        return _BODY_KINDS[code]

    @property
    def body_sections(self) -> list[Any]:
        """The decoded value of every body section, in order.

        ``bytes`` for each data section, a ``list`` for each amqp-sequence section, the value
        of the amqp-value section; empty when the message has no body.
        """
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        body: list[Any] | None = cache.get(_BODY_KEY)
        if body is None:
            body = cache[_BODY_KEY] = [self._decode(v, e) for v, e in self._body_spans]
        return body

    @property
    def body(self) -> Any:
        """The body as one value.

        For a single section, its value: the ``bytes`` of a data section, the ``list`` of an
        amqp-sequence section or the value of the amqp-value section. For several data or
        amqp-sequence sections, the list of their values (see :attr:`body_sections`).
        ``None`` when the message has no body; :attr:`body_kind` tells the cases apart.
        """
        sections = self.body_sections
        if not sections:
            return None
        return sections[0] if len(sections) == 1 else sections

    @property
    def bare(self) -> bytes:
        """The bare message: properties through body, a slice of :attr:`data` (never re-encoded)."""
        start = end = -1
        for code, pos, _, stop in self._spans:
            if Section.PROPERTIES <= code <= Section.AMQP_VALUE:
                if start < 0:
                    start = pos
                end = stop
        return self.data[start:end] if start >= 0 else b""

    # -- quick accessors for routing -------------------------------------------------------

    def _property(self, index: int) -> Any:
        """One field of the properties section, read without decoding (or caching) the rest.

        The quick accessors below use it, so routing a message and computing its expiry
        allocate nothing that stays with the message.
        """
        cache = self._cache
        if cache is not None and Section.PROPERTIES in cache:
            props = cache[Section.PROPERTIES]
            return None if props is None else getattr(props, Properties.__struct_fields__[index])
        span = self._span(Section.PROPERTIES)
        if span is None:
            return None
        buf = self.data
        pos, end = span[2], span[3]
        code = buf[pos]
        if code == 0xC0:
            count, p = buf[pos + 2], pos + 3
        elif code == 0xD0:
            count, p = int.from_bytes(buf[pos + 5 : pos + 9], "big"), pos + 9
        else:  # list0 or null: every field absent
            return None
        if index >= count:
            return None
        for _ in range(index):
            p = skip_value(buf, p, 0, self._limits.max_depth)
        if p >= end:
            raise DecodeError("properties field overruns the section")
        return decode_value(buf, p, self._limits)[0]

    @property
    def to(self) -> Any:
        """The ``to`` address of the properties, or ``None``."""
        return self._property(2)

    @property
    def subject(self) -> str | None:
        """The subject of the properties, or ``None``."""
        value = self._property(3)
        return value if isinstance(value, str) else None

    @property
    def reply_to(self) -> Any:
        """The ``reply-to`` address of the properties, or ``None``."""
        return self._property(4)

    @property
    def message_id(self) -> Any:
        """The message-id of the properties, or ``None``."""
        return self._property(0)

    @property
    def correlation_id(self) -> Any:
        """The correlation-id of the properties, or ``None``."""
        return self._property(5)

    @property
    def absolute_expiry_time(self) -> int | None:
        """The absolute expiry time (ms since the epoch) of the properties, or ``None``."""
        value = self._property(8)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def compact(self) -> None:
        """Forget decoded sections (they decode again on demand).

        A queue keeps what it needs of a message in its entry, so a broker calls this once a
        message is stored: a million queued messages then hold little beyond their bytes.
        """
        self._cache = None

    @property
    def durable(self) -> bool:
        """The header's durable flag."""
        return self.header.durable

    @property
    def priority(self) -> int:
        """The header's priority (4 by default)."""
        return self.header.priority

    @property
    def ttl(self) -> int | None:
        """The header's time to live in milliseconds, or ``None``."""
        return self.header.ttl

    @property
    def delivery_count(self) -> int:
        """The header's count of failed delivery attempts."""
        return self.header.delivery_count

    # -- encoding --------------------------------------------------------------------------

    def _raw(self, code: int) -> bytes:
        span = self._span(code)
        return b"" if span is None else self.data[span[1] : span[3]]

    def encode(
        self,
        *,
        header: Header | Keep | None = KEEP,
        delivery_annotations: Mapping[Any, Any] | Keep | None = None,
        message_annotations: Mapping[Any, Any] | Keep | None = KEEP,
        footer: Mapping[Any, Any] | Keep | None = KEEP,
    ) -> bytes:
        """Encode the message for forwarding, with the original bare message bytes.

        Each argument is :data:`KEEP` for the section's original bytes (or its absence),
        ``None`` to leave the section out, or a new value. An empty mapping leaves the section
        out too. Delivery annotations are per hop, so they are dropped unless kept or given.

        Args:
            header: the header section.
            delivery_annotations: the delivery-annotations map; keys given as ``str`` are
                encoded as symbols.
            message_annotations: the message-annotations map; ``str`` keys become symbols.
            footer: the footer map; ``str`` keys become symbols.

        Returns:
            The new encoding: header, annotations, the bare message exactly as received, footer.

        Raises:
            UsageError: a new value cannot be encoded (a field out of range, say).
        """
        out = bytearray()
        try:
            if header is KEEP:
                out += self._raw(Section.HEADER)
            elif header is not None:
                header.encode_amqp(out)
            for code, value in (
                (Section.DELIVERY_ANNOTATIONS, delivery_annotations),
                (Section.MESSAGE_ANNOTATIONS, message_annotations),
            ):
                if value is KEEP:
                    out += self._raw(code)
                elif value:
                    _encode_section(out, code, "fields", value)
            out += self.bare
            if footer is KEEP:
                out += self._raw(Section.FOOTER)
            elif footer:
                _encode_section(out, Section.FOOTER, "fields", footer)
        except _ENCODE_ERRORS as e:
            raise UsageError(f"cannot encode the message: {e}") from None
        return bytes(out)

    def __bytes__(self) -> bytes:
        """The encoded message (:attr:`data`)."""
        return self.data

    def __repr__(self) -> str:
        names = ", ".join(_section_name(span[0]) for span in self._spans)
        return f"<Message {len(self.data)} bytes: {names or 'no sections'}>"


def encode_message(
    body: Any = None,
    *,
    body_kind: BodyKind | None = None,
    header: Header | None = None,
    properties: Properties | None = None,
    application_properties: Mapping[str, Any] | None = None,
    message_annotations: Mapping[Any, Any] | None = None,
    delivery_annotations: Mapping[Any, Any] | None = None,
    footer: Mapping[Any, Any] | None = None,
    durable: bool | None = None,
    priority: int | None = None,
    ttl: int | None = None,
    message_id: Any = None,
    to: Any = None,
    subject: str | None = None,
    reply_to: Any = None,
    correlation_id: Any = None,
    content_type: str | None = None,
) -> bytes:
    """Encode a message for an application.

    The body goes into sections by this rule, unless ``body_kind`` says otherwise:
    ``bytes``, ``bytearray`` or ``memoryview`` become one data section; every other value
    (``str``, ``dict``, ``list``, numbers, ``None``, the decimal types...) becomes one
    amqp-value section. With ``body_kind``:

    - ``BodyKind.DATA``: ``body`` is bytes (one data section) or a list of bytes (one
      data section each, at least one);
    - ``BodyKind.SEQUENCE``: ``body`` is a list, sent as one amqp-sequence section;
    - ``BodyKind.VALUE``: ``body`` is sent as one amqp-value section, even bytes (as
      python-qpid-proton sends ``Message(body=b"...")``);
    - ``BodyKind.NONE``: no body section; ``body`` must be ``None``.

    The header and properties sections are sent when given or when one of their
    shortcut arguments (``durable`` ... ``content_type``) is; a shortcut overrides the
    field of ``header`` or ``properties``. Annotation and footer keys given as ``str``
    are encoded as symbols. Empty maps (application properties too) are left out.

    Args:
        body: the application data.
        body_kind: the body encoding; by default chosen from the type of ``body``.
        header: the header section.
        properties: the properties section.
        application_properties: string keys to simple values.
        message_annotations: the message-annotations map.
        delivery_annotations: the delivery-annotations map.
        footer: the footer map.
        durable: header shortcut.
        priority: header shortcut (0 to 255).
        ttl: header shortcut, in milliseconds.
        message_id: properties shortcut; a plain ``int`` is sent as a ulong.
        to: properties shortcut: the destination address.
        subject: properties shortcut.
        reply_to: properties shortcut.
        correlation_id: properties shortcut; a plain ``int`` is sent as a ulong.
        content_type: properties shortcut (a MIME type).

    Returns:
        The encoded message, ready to send; ``Message(encode_message(...))`` reads it back.

    Raises:
        UsageError: a value cannot be encoded or does not fit its section.
    """
    h_changes = {
        k: v
        for k, v in (("durable", durable), ("priority", priority), ("ttl", ttl))
        if v is not None
    }
    if h_changes:
        header = msgspec.structs.replace(header or Header(), **h_changes)
    p_changes = {
        k: v
        for k, v in (
            ("message_id", message_id),
            ("to", to),
            ("subject", subject),
            ("reply_to", reply_to),
            ("correlation_id", correlation_id),
            ("content_type", content_type),
        )
        if v is not None
    }
    if p_changes:
        properties = msgspec.structs.replace(properties or Properties(), **p_changes)
    if properties is not None:
        properties = msgspec.structs.replace(
            properties,
            message_id=_message_id(properties.message_id, "message_id"),
            correlation_id=_message_id(properties.correlation_id, "correlation_id"),
        )
    out = bytearray()
    try:
        if header is not None:
            header.encode_amqp(out)
        if delivery_annotations:
            _encode_section(out, Section.DELIVERY_ANNOTATIONS, "fields", delivery_annotations)
        if message_annotations:
            _encode_section(out, Section.MESSAGE_ANNOTATIONS, "fields", message_annotations)
        if properties is not None:
            properties.encode_amqp(out)
        if application_properties:
            _encode_section(
                out,
                Section.APPLICATION_PROPERTIES,
                "map",
                _string_keys(application_properties),
            )
        _encode_body(out, body, body_kind)
        if footer:
            _encode_section(out, Section.FOOTER, "fields", footer)
    except _ENCODE_ERRORS as e:
        raise UsageError(f"cannot encode the message: {e}") from None
    return bytes(out)


def _string_keys(props: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in props.items():
        if not isinstance(k, str):
            raise UsageError(f"application-properties keys must be strings, not {k!r}")
        out[str(k)] = v  # a symbol key would otherwise be encoded as a symbol
    return out


def _is_binary(value: Any) -> bool:
    return isinstance(value, _BYTES_LIKE) and not isinstance(value, _DECIMALS)


def _encode_body(out: bytearray, body: Any, kind: BodyKind | None) -> None:
    if kind is None:
        kind = BodyKind.DATA if _is_binary(body) else BodyKind.VALUE
    if kind is BodyKind.DATA:
        chunks = [body] if _is_binary(body) else body
        if not isinstance(chunks, list | tuple) or not chunks:
            raise UsageError("a data body is bytes or a non-empty list of bytes")
        for chunk in chunks:
            if not _is_binary(chunk):
                raise UsageError(f"a data section holds bytes, not {type(chunk).__name__}")
            out += b"\x00\x53\x75"
            encode_value(chunk, out)
    elif kind is BodyKind.SEQUENCE:
        if not isinstance(body, list | tuple):
            raise UsageError(f"an amqp-sequence body is a list, not {type(body).__name__}")
        out += b"\x00\x53\x76"
        encode_value(list(body), out)
    elif kind is BodyKind.VALUE:
        out += b"\x00\x53\x77"
        encode_value(body, out)
    elif body is not None:
        raise UsageError("a message without a body section cannot carry a body")
