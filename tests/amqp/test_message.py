"""Messages (Part 3 section 3.2): lazy parsing, forwarding without touching the bare message,
the application builder, and interop with python-qpid-proton in both directions."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import msgspec
import proton
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qpid_ha.amqp.codec import decode_value, encode_value
from qpid_ha.amqp.composite import REGISTRY
from qpid_ha.amqp.message import (
    KEEP,
    BodyKind,
    Header,
    Message,
    Properties,
    Section,
    encode_message,
)
from qpid_ha.amqp.types import Described, decimal32, symbol, ubyte, uint, ulong
from qpid_ha.errors import DecodeError, UsageError

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def section(code: int, value: Any) -> bytes:
    """One section with a small-ulong descriptor, its value encoded by the codec."""
    return bytes(encode_value(value, bytearray(b"\x00\x53" + bytes((code,)))))


def symbolic_section(name: str, value: Any) -> bytes:
    """One section with a symbolic descriptor."""
    out = bytearray(b"\x00")
    encode_value(symbol(name), out)
    return bytes(encode_value(value, out))


def wide_section(code: int, value: Any) -> bytes:
    """One section with its descriptor as an 8-byte ulong (format code 0x80)."""
    return bytes(encode_value(value, bytearray(b"\x00\x80" + code.to_bytes(8, "big"))))


HEADER = section(0x70, [True, ubyte(7)])
DELIVERY_ANNOTATIONS = section(0x71, {symbol("x-hop"): 1})
MESSAGE_ANNOTATIONS = section(0x72, {symbol("x-opt-a"): "a"})
PROPERTIES = section(0x73, [ulong(1), None, "queue", "subj"])
APPLICATION_PROPERTIES = section(0x74, {"colour": "red", "size": 3})
DATA = section(0x75, b"payload")
SEQUENCE = section(0x76, [1, 2])
VALUE = section(0x77, "hello")
FOOTER = section(0x78, {symbol("x-sig"): b"\x01\x02"})

FULL = (
    HEADER
    + DELIVERY_ANNOTATIONS
    + MESSAGE_ANNOTATIONS
    + PROPERTIES
    + APPLICATION_PROPERTIES
    + VALUE
    + FOOTER
)

ACCESSORS = (
    "sections",
    "header",
    "delivery_annotations",
    "message_annotations",
    "properties",
    "application_properties",
    "footer",
    "body_kind",
    "body_sections",
    "body",
    "bare",
    "to",
    "subject",
    "reply_to",
    "message_id",
    "correlation_id",
    "absolute_expiry_time",
    "durable",
    "priority",
    "ttl",
    "delivery_count",
)


def read_everything(data: bytes) -> None:
    """Parse ``data`` and read every accessor; only DecodeError may escape the parsing."""
    try:
        msg = Message(data)
    except DecodeError:
        return
    for name in ACCESSORS:
        with contextlib.suppress(DecodeError):
            getattr(msg, name)
    repr(msg)
    new = msg.encode(header=Header(delivery_count=1), message_annotations={"x-opt-b": 2})
    assert new.endswith(msg.bare + msg._raw(Section.FOOTER))


def create(body: Any = None, **fields: Any) -> Message:
    """Encode a message with :func:`encode_message` and parse it back."""
    return Message(encode_message(body, **fields))


def proton_decode(data: bytes) -> Any:
    """Decode ``data`` with python-qpid-proton (Any: its stubs omit most message attributes)."""
    msg: Any = proton.Message()
    msg.decode(data)
    return msg


# ---------------------------------------------------------------------------------------------
# Section structs
# ---------------------------------------------------------------------------------------------


def test_header_encodes_to_the_bytes_proton_sends() -> None:
    out = bytearray()
    Header(durable=True, priority=7, ttl=30000).encode_amqp(out)
    assert bytes(out) == b"\x00Sp\xc0\x09\x03AP\x07p\x00\x00u0"
    out = bytearray()
    Header().encode_amqp(out)
    assert bytes(out) == b"\x00SpE"


def test_importing_the_module_registers_header_and_properties_descriptors() -> None:
    symbolic = symbolic_section("amqp:header:list", [True, ubyte(7)])
    for data, key in ((HEADER, ulong(0x70)), (symbolic, symbol("amqp:header:list"))):
        value, _ = decode_value(data, 0, registry={key: REGISTRY[key]})
        assert value == Header(durable=True, priority=7)
    value, _ = decode_value(PROPERTIES, 0, registry=REGISTRY)
    assert value == Properties(message_id=1, to="queue", subject="subj")


def test_message_without_header_reads_the_spec_defaults() -> None:
    msg = Message(VALUE)
    assert msg.header == Header()
    assert (msg.durable, msg.priority, msg.ttl, msg.delivery_count) == (False, 4, None, 0)
    assert msg.header.first_acquirer is False


def test_header_fields_sent_as_null_take_their_defaults() -> None:
    # python-qpid-proton sends unset header fields as nulls: "@@@AR\x02".
    msg = Message(b"\x00Sp\xc0\x07\x05@@@AR\x02" + VALUE)
    assert msg.header == Header(first_acquirer=True, delivery_count=2)


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


def test_every_section_is_read_back() -> None:
    msg = Message(FULL)
    assert msg.sections == (
        Section.HEADER,
        Section.DELIVERY_ANNOTATIONS,
        Section.MESSAGE_ANNOTATIONS,
        Section.PROPERTIES,
        Section.APPLICATION_PROPERTIES,
        Section.AMQP_VALUE,
        Section.FOOTER,
    )
    assert msg.header == Header(durable=True, priority=7)
    assert msg.delivery_annotations == {"x-hop": 1}
    assert msg.message_annotations == {"x-opt-a": "a"}
    assert msg.properties == Properties(message_id=ulong(1), to="queue", subject="subj")
    assert msg.application_properties == {"colour": "red", "size": 3}
    assert (msg.body_kind, msg.body, msg.body_sections) == (BodyKind.VALUE, "hello", ["hello"])
    assert msg.footer == {"x-sig": b"\x01\x02"}
    assert (msg.to, msg.subject, msg.message_id) == ("queue", "subj", 1)
    assert (msg.reply_to, msg.correlation_id, msg.absolute_expiry_time) == (None, None, None)


def test_absent_sections_read_as_none() -> None:
    msg = Message(DATA)
    assert msg.properties is None
    assert msg.application_properties is None
    assert msg.delivery_annotations is None
    assert msg.message_annotations is None
    assert msg.footer is None
    assert (msg.to, msg.subject, msg.message_id, msg.correlation_id) == (None, None, None, None)


def test_sections_holding_null_read_as_absent() -> None:
    msg = Message(
        section(0x70, None) + section(0x73, None) + section(0x74, None) + section(0x77, None)
    )
    assert msg.header == Header()
    assert msg.properties is None
    assert msg.application_properties is None
    assert (msg.body_kind, msg.body) == (BodyKind.VALUE, None)


def test_several_data_sections_form_one_body() -> None:
    msg = Message(section(0x75, b"ab") + section(0x75, b"cd") + FOOTER)
    assert msg.body_kind is BodyKind.DATA
    assert msg.body_sections == [b"ab", b"cd"]
    assert msg.body == [b"ab", b"cd"]
    assert Message(DATA).body == b"payload"


def test_several_amqp_sequence_sections_form_one_body() -> None:
    msg = Message(SEQUENCE + section(0x76, ["x"]))
    assert msg.body_kind is BodyKind.SEQUENCE
    assert msg.body == [[1, 2], ["x"]]
    assert Message(SEQUENCE).body == [1, 2]


def test_message_without_body_section_has_body_kind_none() -> None:
    msg = Message(HEADER + PROPERTIES)
    assert (msg.body_kind, msg.body, msg.body_sections) == (BodyKind.NONE, None, [])
    assert msg.bare == PROPERTIES
    empty = Message(b"")
    assert (empty.sections, empty.bare, empty.header) == ((), b"", Header())


def test_described_amqp_value_body_comes_back_described() -> None:
    body = Described(symbol("com.example:thing"), [1, "two"])
    msg = Message(section(0x77, body))
    assert msg.body == body


def test_message_accepts_bytearray_and_memoryview() -> None:
    assert Message(bytearray(FULL)).data == FULL
    assert Message(memoryview(FULL)).subject == "subj"
    assert bytes(Message(FULL)) == FULL


def test_sections_with_symbolic_descriptors_are_read() -> None:
    data = (
        symbolic_section("amqp:header:list", [True, ubyte(9)])
        + symbolic_section("amqp:delivery-annotations:map", {symbol("x-d"): 1})
        + symbolic_section("amqp:message-annotations:map", {symbol("x-m"): 2})
        + symbolic_section("amqp:properties:list", [None, None, "addr"])
        + symbolic_section("amqp:application-properties:map", {"k": "v"})
        + symbolic_section("amqp:data:binary", b"one")
        + section(0x75, b"two")
        + symbolic_section("amqp:footer:map", {symbol("x-f"): 3})
    )
    msg = Message(data)
    assert msg.header == Header(durable=True, priority=9)
    assert msg.delivery_annotations == {"x-d": 1}
    assert msg.message_annotations == {"x-m": 2}
    assert msg.to == "addr"
    assert msg.application_properties == {"k": "v"}
    assert (msg.body_kind, msg.body) == (BodyKind.DATA, [b"one", b"two"])
    assert msg.footer == {"x-f": 3}
    seq = Message(symbolic_section("amqp:amqp-sequence:list", [1]))
    assert (seq.body_kind, seq.body) == (BodyKind.SEQUENCE, [1])
    value = Message(symbolic_section("amqp:amqp-value:*", 5))
    assert (value.body_kind, value.body) == (BodyKind.VALUE, 5)


def test_sections_with_eight_byte_ulong_descriptors_are_read() -> None:
    msg = Message(wide_section(0x70, [False, ubyte(1)]) + wide_section(0x73, [None, None, "q"]))
    assert (msg.priority, msg.to) == (1, "q")


def test_bare_message_is_the_original_slice_from_properties_through_body() -> None:
    msg = Message(FULL)
    assert msg.bare == PROPERTIES + APPLICATION_PROPERTIES + VALUE
    assert Message(HEADER + MESSAGE_ANNOTATIONS + DATA + FOOTER).bare == DATA
    assert Message(HEADER + FOOTER).bare == b""


# ---------------------------------------------------------------------------------------------
# Malformed input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        PROPERTIES + HEADER,
        HEADER + HEADER,
        PROPERTIES + PROPERTIES,
        MESSAGE_ANNOTATIONS + DELIVERY_ANNOTATIONS,
        VALUE + APPLICATION_PROPERTIES,
        VALUE + VALUE,
        DATA + SEQUENCE,
        DATA + VALUE,
        SEQUENCE + DATA,
        FOOTER + DATA,
        VALUE + FOOTER + FOOTER,
    ],
    ids=[
        "properties-then-header",
        "two-headers",
        "two-properties",
        "message-then-delivery-annotations",
        "body-then-application-properties",
        "two-amqp-values",
        "data-then-sequence",
        "data-then-value",
        "sequence-then-data",
        "footer-then-body",
        "two-footers",
    ],
)
def test_sections_out_of_the_spec_order_are_rejected(data: bytes) -> None:
    with pytest.raises(DecodeError, match="may not follow"):
        Message(data)


@pytest.mark.parametrize(
    "data",
    [
        b"\x40",  # a value that is not a described section
        b"\x00",  # truncated descriptor
        b"\x00\x53",
        b"\x00\x80\x00\x00",
        b"\x00\x53\x79\x40",  # unknown section code
        b"\x00\x53\x10\x45",  # a performative descriptor
        b"\x00\x44\x45",  # ulong0 descriptor
        b"\x00\xa1\x03abc\x40",  # descriptor is a string
        b"\x00\xa3\x08amqp:foo\x40",  # unknown symbolic descriptor
        b"\x00\x00\x53\x70\x45\x45",  # described descriptor
        b"\x00\x53\x70",  # section without a value
        b"\x00\x53\x70\xc0\x05\x01",  # value overruns the payload
        b"\x00\x53\x75\xa1\x01a",  # data section holding a string
        b"\x00\x53\x70\xc1\x01\x00",  # header holding a map
        b"\x00\x53\x74\xc0\x01\x00",  # application-properties holding a list
        b"\x00\x53\x76\x40",  # amqp-sequence holding null
        VALUE + b"\x00",  # a truncated second section
        VALUE + b"\x77",  # junk after the last section
    ],
)
def test_malformed_section_framing_is_rejected_at_construction(data: bytes) -> None:
    with pytest.raises(DecodeError):
        Message(data)


def test_corrupt_application_properties_fail_only_when_read() -> None:
    # The map keeps its size but its first key has the invalid format code 0xff.
    bad = APPLICATION_PROPERTIES.replace(b"\xa1\x06colour", b"\xff\x06colour")
    msg = Message(HEADER + PROPERTIES + bad + VALUE)
    assert msg.header == Header(durable=True, priority=7)
    assert (msg.to, msg.subject) == ("queue", "subj")
    assert msg.body == "hello"
    for _ in range(2):  # a failure is not cached as a value
        with pytest.raises(DecodeError, match="0xff"):
            _ = msg.application_properties


def test_reading_routing_fields_of_a_large_message_does_not_decode_its_body() -> None:
    good = create(["x" * 100] * 10, to="orders", subject="new", durable=True)
    assert len(good.data) > 1024
    # Replace the format code of the body's last string (0xa1) with an invalid one.
    at = good.data.rindex(b"\xa1\x64")
    msg = Message(good.data[:at] + b"\xff" + good.data[at + 1 :])
    assert (msg.to, msg.subject, msg.durable) == ("orders", "new", True)
    assert msg.header == Header(durable=True)
    assert msg.bare == msg.data[msg.data.index(b"\x00Ss") :]
    with pytest.raises(DecodeError):
        _ = msg.body


def test_header_field_of_the_wrong_type_fails_as_invalid_field() -> None:
    msg = Message(section(0x70, ["yes"]) + PROPERTIES)
    assert msg.to == "queue"
    with pytest.raises(DecodeError) as err:
        _ = msg.header
    assert err.value.condition == "amqp:invalid-field"


def test_application_property_keys_must_be_strings() -> None:
    msg = Message(section(0x74, {1: "one"}))
    with pytest.raises(DecodeError, match="application-properties key"):
        _ = msg.application_properties


@settings(max_examples=400)
@given(st.binary(max_size=200))
def test_random_bytes_only_ever_raise_decode_error(data: bytes) -> None:
    read_everything(data)


@settings(max_examples=400)
@given(
    st.sampled_from([b"\x00\x53\x70", b"\x00\x53\x73", b"\x00\x53\x74", b"\x00\x53\x77", b""]),
    st.binary(max_size=120),
)
def test_random_section_content_only_ever_raises_decode_error(head: bytes, tail: bytes) -> None:
    read_everything(head + tail)


@settings(max_examples=400)
@given(
    st.lists(st.tuples(st.integers(0, len(FULL) - 1), st.integers(0, 255)), max_size=4),
    st.integers(0, len(FULL)),
)
def test_corrupted_valid_messages_only_ever_raise_decode_error(
    flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(FULL)
    for index, value in flips:
        data[index] = value
    read_everything(bytes(data[:cut]))
    read_everything(bytes(data))


# ---------------------------------------------------------------------------------------------
# Forwarding: new header and annotations around the original bare message
# ---------------------------------------------------------------------------------------------


def test_reencoding_with_a_new_header_and_annotations_keeps_the_bare_bytes() -> None:
    msg = Message(FULL)
    new_header = msgspec.structs.replace(msg.header, delivery_count=msg.delivery_count + 1)
    out = msg.encode(header=new_header, message_annotations={"x-opt-b": 2})
    again = Message(out)
    assert again.bare == msg.bare
    assert out.endswith(msg.bare + FOOTER)
    assert again.header == Header(durable=True, priority=7, delivery_count=1)
    assert again.message_annotations == {"x-opt-b": 2}
    assert again.delivery_annotations is None
    assert again.footer == msg.footer


def test_reencoding_drops_delivery_annotations_unless_kept_or_given() -> None:
    msg = Message(FULL)
    assert Message(msg.encode()).delivery_annotations is None
    assert msg.encode(delivery_annotations=KEEP) == FULL
    given_da = Message(msg.encode(delivery_annotations={"x-next-hop": True}))
    assert given_da.delivery_annotations == {"x-next-hop": True}


def test_reencoding_everything_kept_gives_the_original_bytes() -> None:
    data = HEADER + MESSAGE_ANNOTATIONS + PROPERTIES + DATA + FOOTER
    assert Message(data).encode() == data


def test_reencoding_with_none_or_empty_leaves_sections_out() -> None:
    msg = Message(FULL)
    out = msg.encode(header=None, message_annotations={}, footer=None)
    assert out == msg.bare
    assert Message(out).sections == (
        Section.PROPERTIES,
        Section.APPLICATION_PROPERTIES,
        Section.AMQP_VALUE,
    )


def test_reencoding_can_replace_the_footer() -> None:
    msg = Message(FULL)
    out = Message(msg.encode(footer={"x-sig": b"new"}))
    assert out.footer == {"x-sig": b"new"}
    assert out.bare == msg.bare


def test_reencoding_keeps_symbolic_bare_sections_byte_for_byte() -> None:
    bare = symbolic_section("amqp:properties:list", [None, None, "q"]) + symbolic_section(
        "amqp:amqp-value:*", "v"
    )
    msg = Message(symbolic_section("amqp:header:list", [True]) + bare)
    out = msg.encode(header=Header(priority=1))
    assert out == b"\x00Sp\xc0\x04\x02BP\x01" + bare


def test_reencoding_with_an_out_of_range_header_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        Message(FULL).encode(header=Header(priority=300))


# ---------------------------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kind", "expected"),
    [
        (b"hi", None, b"\x00Su\xa0\x02hi"),
        (b"hi", BodyKind.VALUE, b"\x00Sw\xa0\x02hi"),
        ([b"a", b"b"], BodyKind.DATA, b"\x00Su\xa0\x01a\x00Su\xa0\x01b"),
        ("hi", None, b"\x00Sw\xa1\x02hi"),
        (None, None, b"\x00Sw@"),
        ([1], None, b"\x00Sw\xc0\x03\x01U\x01"),
        ([1], BodyKind.SEQUENCE, b"\x00Sv\xc0\x03\x01U\x01"),
        (None, BodyKind.NONE, b""),
    ],
    ids=["bytes", "bytes-as-value", "data-list", "str", "none", "list", "sequence", "no-body"],
)
def test_encode_message_puts_the_body_in_the_sections_its_type_selects(
    body: Any, kind: BodyKind | None, expected: bytes
) -> None:
    assert create(body, body_kind=kind).data == expected


def test_encode_message_sends_decimals_as_amqp_values_not_data() -> None:
    msg = create(decimal32(b"\x01\x02\x03\x04"))
    assert msg.data == b"\x00Sw\x74\x01\x02\x03\x04"
    assert type(msg.body) is decimal32


def test_encode_message_leaves_empty_maps_out() -> None:
    msg = create(
        "x", application_properties={}, message_annotations={}, delivery_annotations={}, footer={}
    )
    assert msg.sections == (Section.AMQP_VALUE,)


def test_encode_message_sends_header_and_properties_only_when_asked() -> None:
    assert create("x").sections == (Section.AMQP_VALUE,)
    msg = create("x", durable=True, to="q")
    assert msg.sections == (Section.HEADER, Section.PROPERTIES, Section.AMQP_VALUE)


def test_encode_message_shortcuts_override_the_given_structs() -> None:
    msg = create(
        b"",
        header=Header(priority=1, ttl=5),
        properties=Properties(to="a", subject="s"),
        ttl=10,
        to="b",
    )
    assert msg.header == Header(priority=1, ttl=10)
    assert msg.properties == Properties(to="b", subject="s")


def test_encode_message_sends_integer_ids_as_ulong() -> None:
    msg = create("x", message_id=7, correlation_id=2**64 - 1)
    assert type(msg.message_id) is ulong and msg.message_id == 7
    assert type(msg.correlation_id) is ulong
    assert b"\x00Ss\xc0" in msg.data and b"S\x07" in msg.data


@pytest.mark.parametrize(
    "kwargs",
    [
        {"priority": 300},
        {"ttl": -1},
        {"message_id": -1},
        {"correlation_id": 1.5},
        {"body": "text", "body_kind": BodyKind.DATA},
        {"body": [], "body_kind": BodyKind.DATA},
        {"body": [b"a", "b"], "body_kind": BodyKind.DATA},
        {"body": "text", "body_kind": BodyKind.SEQUENCE},
        {"body": b"x", "body_kind": BodyKind.NONE},
        {"body": object()},
        {"application_properties": {1: "x"}},
        {"message_annotations": {"x-opt-é": 1}},
    ],
    ids=lambda kw: ",".join(f"{k}={v!r}" for k, v in kw.items()),
)
def test_encode_message_rejects_values_that_do_not_fit_as_usage_errors(
    kwargs: dict[str, Any],
) -> None:
    with pytest.raises(UsageError):
        create(**kwargs)


def test_encode_message_encodes_symbol_keyed_application_properties_as_strings() -> None:
    msg = create("x", application_properties={symbol("k"): 1})
    assert b"\xa1\x01k" in msg.data
    assert msg.application_properties == {"k": 1}


# Values that come back equal (and of an equal type) from an AMQP round trip.
simple_values = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.uuids()
)
values = st.recursive(
    simple_values,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)
symbol_keys = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=8)
uints = st.integers(0, uint.hi)
ids = st.none() | st.integers(0, ulong.hi) | st.text(max_size=10) | st.binary() | st.uuids()
headers = st.builds(
    Header,
    durable=st.booleans(),
    priority=st.integers(0, 255),
    ttl=st.none() | uints,
    first_acquirer=st.booleans(),
    delivery_count=uints,
)
times = st.none() | st.integers(-(2**63), 2**63 - 1)
properties = st.builds(
    Properties,
    message_id=ids,
    user_id=st.none() | st.binary(max_size=10),
    to=st.none() | st.text(max_size=10),
    subject=st.none() | st.text(max_size=10),
    reply_to=st.none() | st.text(max_size=10),
    correlation_id=ids,
    content_type=st.none() | symbol_keys,
    content_encoding=st.none() | symbol_keys,
    absolute_expiry_time=times,
    creation_time=times,
    group_id=st.none() | st.text(max_size=10),
    group_sequence=st.none() | uints,
    reply_to_group_id=st.none() | st.text(max_size=10),
)
annotation_maps = st.none() | st.dictionaries(symbol_keys, simple_values, max_size=3)
bodies = st.one_of(
    st.tuples(st.binary(max_size=50), st.none()),
    st.tuples(st.lists(st.binary(max_size=10), min_size=1, max_size=3), st.just(BodyKind.DATA)),
    st.tuples(st.lists(values, max_size=4), st.just(BodyKind.SEQUENCE)),
    st.tuples(values, st.just(BodyKind.VALUE)),
)


@settings(max_examples=200)
@given(
    body=bodies,
    header=st.none() | headers,
    props=st.none() | properties,
    app=st.none() | st.dictionaries(st.text(max_size=8), simple_values, max_size=4),
    message_annotations=annotation_maps,
    delivery_annotations=annotation_maps,
    footer=annotation_maps,
)
def test_encoded_messages_read_back_what_was_given(
    body: tuple[Any, BodyKind | None],
    header: Header | None,
    props: Properties | None,
    app: dict[str, Any] | None,
    message_annotations: dict[str, Any] | None,
    delivery_annotations: dict[str, Any] | None,
    footer: dict[str, Any] | None,
) -> None:
    content, kind = body
    msg = create(
        content,
        body_kind=kind,
        header=header,
        properties=props,
        application_properties=app,
        message_annotations=message_annotations,
        delivery_annotations=delivery_annotations,
        footer=footer,
    )
    assert msg.header == (header or Header())
    assert msg.properties == props
    assert msg.application_properties == (app or None)
    assert msg.message_annotations == (message_annotations or None)
    assert msg.delivery_annotations == (delivery_annotations or None)
    assert msg.footer == (footer or None)
    assert msg.body_kind is (kind or BodyKind.DATA)
    if kind is None or kind is BodyKind.VALUE:
        assert msg.body == content
    elif kind is BodyKind.DATA:
        assert msg.body_sections == content
    else:
        assert msg.body_sections == [content]

    forwarded = msg.encode(header=Header(delivery_count=3), message_annotations={"x-opt-q": 1})
    assert Message(forwarded).bare == msg.bare
    assert msg.bare in forwarded


# ---------------------------------------------------------------------------------------------
# Interop with python-qpid-proton
# ---------------------------------------------------------------------------------------------


def full_proton_message() -> Any:
    """A proton message with every section and field set."""
    msg: Any = proton.Message(
        body={"k": [1, "two"]},
        durable=True,
        priority=7,
        ttl=30,
        address="orders",
        subject="new",
        reply_to="replies",
        id=5,
        correlation_id=uuid.UUID(int=9),
        user_id=b"alice",
        content_type="application/json",
        content_encoding="utf-8",
        creation_time=1700000000.5,
        expiry_time=1700000100.25,
        group_id="g",
        group_sequence=3,
        reply_to_group_id="rg",
        first_acquirer=True,
        delivery_count=2,
        properties={"colour": "red", "n": 4},
    )
    msg.annotations = {"x-opt-a": "a"}
    msg.instructions = {"x-opt-hop": 1}
    return msg


def test_messages_encoded_by_proton_parse() -> None:
    msg = Message(bytes(full_proton_message().encode()))
    assert msg.header == Header(
        durable=True, priority=7, ttl=30000, first_acquirer=True, delivery_count=2
    )
    assert msg.properties == Properties(
        message_id=5,
        user_id=b"alice",
        to="orders",
        subject="new",
        reply_to="replies",
        correlation_id=uuid.UUID(int=9),
        content_type="application/json",
        content_encoding="utf-8",
        absolute_expiry_time=1700000100250,
        creation_time=1700000000500,
        group_id="g",
        group_sequence=3,
        reply_to_group_id="rg",
    )
    assert type(msg.message_id) is ulong
    assert msg.application_properties == {"colour": "red", "n": 4}
    assert msg.message_annotations == {"x-opt-a": "a"}
    assert msg.delivery_annotations == {"x-opt-hop": 1}
    assert (msg.body_kind, msg.body) == (BodyKind.VALUE, {"k": [1, "two"]})


@pytest.mark.parametrize(
    ("body", "inferred", "kind"),
    [
        (b"bin", False, BodyKind.VALUE),
        (b"bin", True, BodyKind.DATA),
        ("text", False, BodyKind.VALUE),
        ({"a": 1}, False, BodyKind.VALUE),
        ([1, 2], False, BodyKind.VALUE),
        ([1, 2], True, BodyKind.SEQUENCE),
        (None, False, BodyKind.NONE),
    ],
    ids=["bytes", "bytes-inferred", "str", "dict", "list", "list-inferred", "none"],
)
def test_proton_bodies_parse_with_their_kind(body: Any, inferred: bool, kind: BodyKind) -> None:
    msg = Message(bytes(proton.Message(body=body, inferred=inferred).encode()))
    assert (msg.body_kind, msg.body) == (kind, body)


def test_messages_we_encode_decode_in_proton() -> None:
    msg = create(
        {"k": [1, "two"]},
        header=Header(durable=True, priority=7, ttl=1500, first_acquirer=True, delivery_count=2),
        properties=Properties(
            user_id=b"alice",
            content_encoding="utf-8",
            creation_time=1700000000500,
            absolute_expiry_time=1700000100250,
            group_id="g",
            group_sequence=3,
            reply_to_group_id="rg",
        ),
        message_id=5,
        correlation_id=uuid.UUID(int=9),
        to="orders",
        subject="new",
        reply_to="replies",
        content_type="application/json",
        application_properties={"colour": "red", "n": 4},
        message_annotations={"x-opt-a": "a"},
        delivery_annotations={"x-opt-hop": 1},
    )
    p = proton_decode(msg.data)
    assert (p.durable, p.priority, p.ttl, p.first_acquirer, p.delivery_count) == (
        True,
        7,
        1.5,
        True,
        2,
    )
    assert (p.id, p.correlation_id, p.user_id) == (5, uuid.UUID(int=9), b"alice")
    assert (p.address, p.subject, p.reply_to) == ("orders", "new", "replies")
    assert (p.content_type, p.content_encoding) == ("application/json", "utf-8")
    assert (p.creation_time, p.expiry_time) == (1700000000.5, 1700000100.25)
    assert (p.group_id, p.group_sequence, p.reply_to_group_id) == ("g", 3, "rg")
    assert p.properties == {"colour": "red", "n": 4}
    assert p.annotations == {"x-opt-a": "a"}
    assert p.instructions == {"x-opt-hop": 1}
    assert p.body == {"k": [1, "two"]}


@pytest.mark.parametrize(
    ("body", "kind", "inferred"),
    [
        (b"bin", None, True),
        (b"bin", BodyKind.VALUE, False),
        ("text", None, False),
        ([1, 2], BodyKind.SEQUENCE, True),
    ],
    ids=["data", "binary-value", "str", "sequence"],
)
def test_our_bodies_decode_in_proton(body: Any, kind: BodyKind | None, inferred: bool) -> None:
    p = proton_decode(create(body, body_kind=kind).data)
    assert p.inferred is inferred
    assert (bytes(p.body) if isinstance(p.body, memoryview) else p.body) == body


def test_forwarded_proton_message_decodes_in_proton_with_the_new_header() -> None:
    original = full_proton_message()
    msg = Message(bytes(original.encode()))
    out = msg.encode(
        header=msgspec.structs.replace(msg.header, delivery_count=3),
        message_annotations={**(msg.message_annotations or {}), "x-opt-broker": "b1"},
    )
    p = proton_decode(out)
    assert (p.durable, p.priority, p.delivery_count) == (True, 7, 3)
    assert p.annotations == {"x-opt-a": "a", "x-opt-broker": "b1"}
    assert p.instructions is None
    assert (p.address, p.id, p.properties, p.body) == (
        original.address,
        original.id,
        original.properties,
        original.body,
    )
    assert Message(out).bare == msg.bare
