"""The client's Message: qpid.messaging's fields, content that round-trips Python values as AMQP
values exactly, and interop with python-qpid-proton in both directions."""

from __future__ import annotations

import uuid
from typing import Any

import proton
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qpid_ha.amqp.message import BodyKind, Header, Properties, Section, encode_message
from qpid_ha.amqp.message import Message as AmqpMessage
from qpid_ha.amqp.types import symbol, ulong
from qpid_ha.client.message import DEFAULT_PRIORITY, Message, decode, encode
from qpid_ha.errors import DecodeError, UsageError


def round_trip(message: Message) -> Message:
    return decode(encode(message))


def proton_decode(data: bytes) -> Any:
    """Decode with python-qpid-proton (Any: its stubs omit most message attributes)."""
    msg: Any = proton.Message()
    msg.decode(data)
    return msg


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same Python types all the way down."""
    return a == b and repr(a) == repr(b)


# ---------------------------------------------------------------------------------------------
# Content
# ---------------------------------------------------------------------------------------------

CONTENTS = [
    "text",
    "",
    b"\x00bytes",
    b"",
    {"k": [1, "two", 3.5, None, True, b"\x01", {"nested": {"deep": [False]}}]},
    {},
    [1, "a", [2.5, {"x": None}]],
    [],
    0,
    -(2**63),
    2**63 - 1,
    1.5,
    -0.0,
    True,
    False,
    None,
    uuid.UUID(int=7),
]


@pytest.mark.parametrize("content", CONTENTS, ids=repr)
def test_content_reads_back_as_the_same_value_of_the_same_type(content: Any) -> None:
    assert same(round_trip(Message(content)).content, content)


def test_bytes_go_in_a_data_section_and_everything_else_in_an_amqp_value() -> None:
    assert AmqpMessage(encode(Message(b"raw"))).body_kind is BodyKind.DATA
    for content in ("text", {"a": 1}, [1], 5, None):
        assert AmqpMessage(encode(Message(content))).body_kind is BodyKind.VALUE


def test_the_content_type_never_changes_the_encoding() -> None:
    json_bytes = Message(b'{"a": 1}', content_type="application/json")
    assert AmqpMessage(encode(json_bytes)).body_kind is BodyKind.DATA
    assert round_trip(json_bytes).content == b'{"a": 1}'
    text = Message("plain", content_type="application/octet-stream")
    assert round_trip(text).content == "plain"


def test_bytearray_and_memoryview_content_is_sent_as_bytes() -> None:
    assert same(round_trip(Message(bytearray(b"ab"))).content, b"ab")
    assert same(round_trip(Message(memoryview(b"cd"))).content, b"cd")


def test_bodies_of_several_sections_read_back_as_one_value() -> None:
    data = decode(encode_message([b"ab", b"cd"], body_kind=BodyKind.DATA))
    assert data.content == b"abcd"
    sequence = AmqpMessage(b"".join(_section(0x76, [i, i + 1]) for i in (1, 3)))
    assert decode(sequence).content == [1, 2, 3, 4]
    assert decode(encode_message([1, "a"], body_kind=BodyKind.SEQUENCE)).content == [1, "a"]
    assert decode(encode_message(body_kind=BodyKind.NONE)).content is None


def _section(code: int, value: Any) -> bytes:
    from qpid_ha.amqp.codec import encode_value

    return bytes(encode_value(value, bytearray(b"\x00\x53" + bytes((code,)))))


def test_content_without_an_amqp_type_is_refused() -> None:
    with pytest.raises(UsageError, match="cannot encode"):
        encode(Message(object()))


def test_malformed_data_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        decode(b"\x00\x53\x77")


# ---------------------------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------------------------


def full_message() -> Message:
    return Message(
        {"k": "v"},
        "application/x-thing",
        id="msg-1",
        subject="greeting",
        user_id=b"alice",
        reply_to="replies",
        correlation_id=uuid.UUID(int=3),
        durable=True,
        priority=7,
        ttl=1.5,
        properties={"colour": "red", "n": 3, "x": 2.5, "ok": True},
        annotations={"x-opt-origin": "here"},
        to="orders",
        delivery_count=2,
    )


def test_every_field_round_trips() -> None:
    message = full_message()
    assert round_trip(message) == message


def test_the_positional_arguments_are_qpid_messagings() -> None:
    message = Message("c", "t", "i", "s", b"u", "r", "c-id", True, 1, 2.0, {"p": 1})
    assert (message.content, message.content_type, message.id, message.subject) == (
        "c",
        "t",
        "i",
        "s",
    )
    assert (message.user_id, message.reply_to, message.correlation_id) == (b"u", "r", "c-id")
    assert (message.durable, message.priority, message.ttl, message.properties) == (
        True,
        1,
        2.0,
        {"p": 1},
    )


def test_fields_land_in_the_header_and_properties_sections() -> None:
    amqp = AmqpMessage(encode(full_message()))
    assert amqp.header == Header(durable=True, priority=7, ttl=1500, delivery_count=2)
    assert amqp.properties == Properties(
        message_id="msg-1",
        user_id=b"alice",
        to="orders",
        subject="greeting",
        reply_to="replies",
        correlation_id=uuid.UUID(int=3),
        content_type="application/x-thing",
    )
    assert amqp.application_properties == {"colour": "red", "n": 3, "x": 2.5, "ok": True}
    assert amqp.message_annotations == {"x-opt-origin": "here"}


def test_a_bare_message_sends_only_its_body() -> None:
    assert AmqpMessage(encode(Message("x"))).sections == (Section.AMQP_VALUE,)


def test_ttl_is_seconds_here_and_milliseconds_on_the_wire() -> None:
    assert AmqpMessage(encode(Message(ttl=2.5))).header.ttl == 2500
    assert AmqpMessage(encode(Message(ttl=10))).header.ttl == 10000
    assert decode(encode_message(ttl=1234)).ttl == 1.234
    assert decode(encode_message("no ttl")).ttl is None


def test_a_ttl_below_a_millisecond_still_expires() -> None:
    assert AmqpMessage(encode(Message(ttl=0.0001))).header.ttl == 1
    assert AmqpMessage(encode(Message(ttl=0))).header.ttl == 0


@pytest.mark.parametrize(
    ("ttl", "error"),
    [(-1, "cannot be negative"), (5e6, "above the AMQP limit"), ("1", "number of seconds")],
)
def test_bad_ttls_are_refused(ttl: Any, error: str) -> None:
    with pytest.raises(UsageError, match=error):
        encode(Message(ttl=ttl))


def test_the_default_priority_reads_back_as_none() -> None:
    assert round_trip(Message(priority=DEFAULT_PRIORITY)).priority is None
    assert round_trip(Message(durable=True)).priority is None
    assert round_trip(Message(priority=0)).priority == 0
    assert decode(encode_message(priority=9)).priority == 9


@pytest.mark.parametrize("priority", [-1, 256, True, "high"])
def test_bad_priorities_are_refused(priority: Any) -> None:
    with pytest.raises(UsageError, match="priority is 0 to 255"):
        encode(Message(priority=priority))


def test_a_string_user_id_is_sent_as_utf8_and_reads_back_as_bytes() -> None:
    assert round_trip(Message(user_id="zoë")).user_id == "zoë".encode()
    with pytest.raises(UsageError, match="user_id"):
        encode(Message(user_id=5))  # type: ignore[arg-type]


def test_an_int_id_is_sent_as_a_ulong() -> None:
    amqp = AmqpMessage(encode(Message(id=5, correlation_id=6)))
    assert type(amqp.message_id) is ulong and amqp.message_id == 5
    assert type(amqp.correlation_id) is ulong
    with pytest.raises(UsageError, match="message_id"):
        encode(Message(id=-1))


def test_annotation_keys_are_sent_as_symbols() -> None:
    annotations = AmqpMessage(encode(Message(annotations={"x-opt-a": 1}))).message_annotations
    assert annotations is not None
    assert [type(k) for k in annotations] == [symbol]


def test_redelivered_follows_the_delivery_count() -> None:
    message = Message()
    assert not message.redelivered
    message.redelivered = True
    assert (message.redelivered, message.delivery_count) == (True, 1)
    message.delivery_count = 3
    message.redelivered = True
    assert message.delivery_count == 3
    message.redelivered = False
    assert message.delivery_count == 0
    assert decode(encode_message(header=Header(delivery_count=2))).redelivered


def test_properties_and_annotations_are_copied_and_never_none() -> None:
    props = {"a": 1}
    message = Message(properties=props)
    message.properties["b"] = 2
    assert props == {"a": 1}
    assert (Message().properties, Message().annotations) == ({}, {})
    assert decode(encode_message("x")).properties == {}


def test_messages_compare_by_value_and_are_not_hashable() -> None:
    assert Message("a", subject="s") == Message("a", subject="s")
    assert Message("a") != Message("b")
    assert Message("a") != "a"
    with pytest.raises(TypeError):
        hash(Message())


def test_repr_shows_the_fields_that_are_set() -> None:
    assert (
        repr(Message("hi", subject="s", ttl=1.0)) == "Message(content='hi', subject='s', ttl=1.0)"
    )


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(),
    st.binary(),
    st.uuids(),
)
contents = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_simple = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False),
    st.text(max_size=10),
)  # fmt: skip
_ASCII = st.characters(max_codepoint=127)
_ids = st.none() | st.text(max_size=10) | st.integers(0, 2**64 - 1) | st.uuids() | st.binary()

messages = st.builds(
    Message,
    content=contents,
    content_type=st.none() | st.text(_ASCII, max_size=10),  # a symbol
    id=_ids,
    subject=st.none() | st.text(max_size=10),
    user_id=st.none() | st.binary(max_size=10),
    reply_to=st.none() | st.text(max_size=10),
    correlation_id=_ids,
    durable=st.booleans(),
    priority=st.none() | st.integers(0, 255),
    ttl=st.none() | st.integers(0, 2**32 - 1).map(lambda ms: ms / 1000),
    properties=st.dictionaries(st.text(max_size=8), _simple, max_size=4),
    # annotation keys are symbols: ASCII
    annotations=st.dictionaries(st.text(_ASCII, min_size=1, max_size=8), _simple, max_size=3),
    to=st.none() | st.text(max_size=10),
    delivery_count=st.integers(0, 2**32 - 1),
)


@given(messages)
def test_any_message_reads_back_equal_with_its_content_types_kept(message: Message) -> None:
    back = round_trip(message)
    expected_priority = None if message.priority == DEFAULT_PRIORITY else message.priority
    assert back.priority == expected_priority
    back.priority = message.priority
    assert back == message
    assert same(back.content, message.content)
    assert same(back.properties, message.properties)


# ---------------------------------------------------------------------------------------------
# Interop with python-qpid-proton
# ---------------------------------------------------------------------------------------------


def test_a_message_proton_encodes_reads_back_with_its_values() -> None:
    sent: Any = proton.Message(
        body={"k": [1, "two", 2.5]},
        id=5,
        correlation_id="c",
        subject="s",
        reply_to="r",
        user_id=b"alice",
        address="orders",
        content_type="application/x",
        durable=True,
        priority=7,
        ttl=1.5,
        delivery_count=1,
        properties={"colour": "red", "n": 4},
    )
    sent.annotations = {"x-opt-a": "a"}
    got = decode(bytes(sent.encode()))
    assert got == Message(
        {"k": [1, "two", 2.5]},
        "application/x",
        id=5,
        subject="s",
        user_id=b"alice",
        reply_to="r",
        correlation_id="c",
        durable=True,
        priority=7,
        ttl=1.5,
        properties={"colour": "red", "n": 4},
        annotations={"x-opt-a": "a"},
        to="orders",
        delivery_count=1,
    )
    assert got.redelivered


@pytest.mark.parametrize(
    ("body", "inferred"),
    [(b"bin", False), (b"bin", True), ("text", False), ([1, 2], True), ([1, 2], False)],
    ids=["bytes-value", "bytes-data", "str", "list-sequence", "list-value"],
)
def test_every_body_proton_sends_reads_back_as_its_value(body: Any, inferred: bool) -> None:
    assert same(decode(bytes(proton.Message(body=body, inferred=inferred).encode())).content, body)


def test_a_proton_message_without_a_body_has_no_content() -> None:
    assert decode(bytes(proton.Message().encode())).content is None


def test_proton_reads_our_messages_with_their_values() -> None:
    got = proton_decode(encode(full_message()))
    assert got.body == {"k": "v"}
    assert (got.id, got.subject, got.user_id, got.reply_to) == (
        "msg-1",
        "greeting",
        b"alice",
        "replies",
    )
    assert (got.correlation_id, got.content_type, got.address) == (
        uuid.UUID(int=3),
        "application/x-thing",
        "orders",
    )
    assert (got.durable, got.priority, got.ttl, got.delivery_count) == (True, 7, 1.5, 2)
    assert got.properties == {"colour": "red", "n": 3, "x": 2.5, "ok": True}
    assert dict(got.annotations) == {"x-opt-origin": "here"}
    raw = proton_decode(encode(Message(b"raw")))  # keep it: its body is a view into it
    assert bytes(raw.body) == b"raw"


@given(contents)
def test_proton_reads_any_content_we_send_as_the_same_value(content: Any) -> None:
    received = proton_decode(encode(Message(content)))
    body = received.body
    if isinstance(content, bytes):
        # proton gives a data section as a memoryview into the message it decoded
        body = bytes(body)
    assert body == content
