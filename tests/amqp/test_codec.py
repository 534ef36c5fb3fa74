"""Level-1 tests of the AMQP 1.0 type codec and of the composite types (Part 1, Part 2 2.7)."""

from __future__ import annotations

import struct
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qpid_ha.amqp.codec import DecodeLimits, decode_value, encode_value, skip_value
from qpid_ha.amqp.composite import REGISTRY, Composite
from qpid_ha.amqp.delivery_states import Accepted, Modified, Received, Rejected
from qpid_ha.amqp.performatives import (
    MAX_UINT,
    Attach,
    Begin,
    Close,
    Detach,
    Disposition,
    Error,
    Flow,
    Open,
    Transfer,
)
from qpid_ha.amqp.sasl import SaslInit, SaslMechanisms, SaslOutcome
from qpid_ha.amqp.terminus import Source, Target
from qpid_ha.amqp.transactions import Coordinator, Declare, Discharge, TransactionalState
from qpid_ha.amqp.types import (
    Array,
    Described,
    byte,
    char,
    decimal32,
    decimal64,
    decimal128,
    float32,
    int32,
    short,
    symbol,
    timestamp,
    ubyte,
    uint,
    ulong,
    ushort,
)
from qpid_ha.errors import DecodeError

from .strategies import (
    ARRAY_ELEMENT_TYPES,
    SCALARS,
    all_composite_classes,
    amqp_values,
    arrays,
    composites,
    described,
    same,
)

COMPOSITES = all_composite_classes()


def roundtrip(value: Any, registry: Any = None) -> Any:
    """Encode, decode, and check the decoder consumed exactly the encoding."""
    data = bytes(encode_value(value))
    decoded, end = decode_value(data, 0, registry=registry)
    assert end == len(data)
    return decoded


def described_list(code: int, fields: list[Any]) -> bytes:
    """A described list with a small numeric descriptor, hand-assembled."""
    return b"\x00\x53" + bytes([code]) + bytes(encode_value(fields))


# ---------------------------------------------------------------------------------------------
# Round trips of every primitive type
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", list(SCALARS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_scalar_type_decodes_to_the_value_and_type_it_was_encoded_from(
    type_name: str, data: st.DataObject
) -> None:
    value = data.draw(SCALARS[type_name])
    assert same(roundtrip(value), value)


@pytest.mark.parametrize("type_name", ARRAY_ELEMENT_TYPES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_arrays_of_every_element_type_round_trip_with_type_and_descriptor(
    type_name: str, data: st.DataObject
) -> None:
    value = data.draw(arrays(element_types=(type_name,)))
    decoded = roundtrip(value)
    assert same(decoded, value)
    assert decoded.type == type_name


@settings(max_examples=200, deadline=None)
@given(amqp_values())
def test_nested_lists_maps_arrays_and_described_values_round_trip(value: Any) -> None:
    assert same(roundtrip(value), value)


@settings(max_examples=50, deadline=None)
@given(described(amqp_values(6)))
def test_described_values_keep_numeric_and_symbolic_descriptors(value: Described) -> None:
    decoded = roundtrip(value)
    assert isinstance(decoded, Described)
    assert type(decoded.descriptor) is type(value.descriptor)
    assert same(decoded, value)


def test_described_value_with_plain_int_descriptor_equals_its_decoding() -> None:
    # Described(0x77, v) and Described(ulong(0x77), v) encode to the same bytes.
    value = Described(0x77, "x")
    assert roundtrip(value) == value
    assert roundtrip(Described("x:y", 1)) == Described("x:y", 1)


@settings(max_examples=100, deadline=None)
@given(amqp_values())
def test_skip_value_ends_where_decode_value_ends(value: Any) -> None:
    data = bytes(encode_value(value)) + b"\x40"
    assert skip_value(data, 0) == decode_value(data)[1] == len(data) - 1


@settings(max_examples=100, deadline=None)
@given(amqp_values(), st.binary(max_size=8))
def test_decode_value_at_an_offset_reads_only_that_value(value: Any, before: bytes) -> None:
    data = before + bytes(encode_value(value)) + b"\x41"
    decoded, end = decode_value(data, len(before))
    assert same(decoded, value)
    assert data[end:] == b"\x41"


def test_python_builtins_map_to_their_amqp_types() -> None:
    assert bytes(encode_value(None)) == b"\x40"
    assert bytes(encode_value(True)) == b"\x41"
    assert bytes(encode_value(False)) == b"\x42"
    assert bytes(encode_value(-1)) == b"\x55\xff"
    assert bytes(encode_value(1.5)) == b"\x82" + struct.pack(">d", 1.5)
    assert bytes(encode_value("é")) == b"\xa1\x02\xc3\xa9"
    assert bytes(encode_value(b"ab")) == b"\xa0\x02ab"
    assert bytes(encode_value(bytearray(b"ab"))) == b"\xa0\x02ab"
    assert bytes(encode_value(memoryview(b"ab"))) == b"\xa0\x02ab"
    assert bytes(encode_value([])) == b"\x45"
    assert roundtrip((1, "a")) == [1, "a"]
    u = uuid.UUID(int=1)
    assert bytes(encode_value(u)) == b"\x98" + u.bytes


def test_integer_above_the_long_range_is_encoded_as_ulong() -> None:
    decoded = roundtrip(2**64 - 1)
    assert type(decoded) is ulong and decoded == 2**64 - 1


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, object(), {1, 2}])
def test_values_without_an_amqp_encoding_are_refused_with_value_error(value: Any) -> None:
    with pytest.raises(ValueError):
        encode_value(value)


def test_array_with_an_unknown_element_type_is_refused() -> None:
    with pytest.raises(ValueError, match="element type"):
        encode_value(Array("bogus", [1]))


@pytest.mark.parametrize(
    ("cls", "bad"),
    [(ubyte, 256), (ushort, -1), (uint, 2**32), (ulong, -1), (byte, 128), (short, 2**15),
     (int32, -(2**31) - 1), (timestamp, 2**63)],
)  # fmt: skip
def test_bounded_integer_types_refuse_out_of_range_values(cls: type[int], bad: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        cls(bad)


def test_char_holds_one_code_point_and_decimals_hold_their_width() -> None:
    with pytest.raises(ValueError):
        char("ab")
    with pytest.raises(ValueError):
        decimal32(b"\x00" * 5)
    with pytest.raises(ValueError):
        decimal64(b"\x00" * 4)
    with pytest.raises(ValueError):
        decimal128(b"\x00" * 8)


# ---------------------------------------------------------------------------------------------
# Every encoding width, hand-built
# ---------------------------------------------------------------------------------------------

WIDTHS: list[tuple[str, bytes, Any]] = [
    ("null", b"\x40", None),
    ("true", b"\x41", True),
    ("false", b"\x42", False),
    ("boolean-1", b"\x56\x01", True),
    ("boolean-0", b"\x56\x00", False),
    ("ubyte", b"\x50\xff", ubyte(255)),
    ("ushort", b"\x60\x01\x02", ushort(0x0102)),
    ("uint0", b"\x43", uint(0)),
    ("smalluint", b"\x52\x07", uint(7)),
    ("uint", b"\x70\x00\x01\x00\x00", uint(0x10000)),
    ("ulong0", b"\x44", ulong(0)),
    ("smallulong", b"\x53\xfe", ulong(254)),
    ("ulong", b"\x80" + (2**64 - 1).to_bytes(8, "big"), ulong(2**64 - 1)),
    ("byte", b"\x51\x80", byte(-128)),
    ("short", b"\x61\xff\xfe", short(-2)),
    ("smallint", b"\x54\xff", int32(-1)),
    ("int", b"\x71\x80\x00\x00\x00", int32(-(2**31))),
    ("smalllong", b"\x55\x7f", 127),
    ("long", b"\x81\x80" + b"\x00" * 7, -(2**63)),
    ("float", b"\x72" + struct.pack(">f", 0.5), float32(0.5)),
    ("double", b"\x82" + struct.pack(">d", -2.25), -2.25),
    ("decimal32", b"\x74\x01\x02\x03\x04", decimal32(b"\x01\x02\x03\x04")),
    ("decimal64", b"\x84" + bytes(range(8)), decimal64(bytes(range(8)))),
    ("decimal128", b"\x94" + bytes(range(16)), decimal128(bytes(range(16)))),
    ("char", b"\x73\x00\x01\xf6\x00", char("\U0001f600")),
    ("timestamp", b"\x83" + (1_700_000_000_000).to_bytes(8, "big"), timestamp(1_700_000_000_000)),
    ("uuid", b"\x98" + bytes(range(16)), uuid.UUID(bytes=bytes(range(16)))),
    ("vbin8", b"\xa0\x02ab", b"ab"),
    ("vbin32", b"\xb0\x00\x00\x00\x02ab", b"ab"),
    ("str8", b"\xa1\x02\xc3\xa9", "é"),
    ("str32", b"\xb1\x00\x00\x00\x02\xc3\xa9", "é"),
    ("sym8", b"\xa3\x03abc", symbol("abc")),
    ("sym32", b"\xb3\x00\x00\x00\x03abc", symbol("abc")),
    ("list0", b"\x45", []),
    ("list8", b"\xc0\x03\x02\x41\x43", [True, uint(0)]),
    ("list32", b"\xd0\x00\x00\x00\x06\x00\x00\x00\x02\x41\x43", [True, uint(0)]),
    ("map8", b"\xc1\x05\x02\xa3\x01k\x41", {symbol("k"): True}),
    ("map32", b"\xd1\x00\x00\x00\x08\x00\x00\x00\x02\xa3\x01k\x41", {symbol("k"): True}),
    ("array8", b"\xe0\x04\x02\x52\x01\x02", Array("uint", [uint(1), uint(2)])),
    (
        "array32",
        b"\xf0\x00\x00\x00\x0d\x00\x00\x00\x02\x70" + b"\x00\x00\x00\x01\x00\x00\x00\x02",
        Array("uint", [uint(1), uint(2)]),
    ),
    ("array8-sym8", b"\xe0\x06\x02\xa3\x01a\x01b", Array("symbol", [symbol("a"), symbol("b")])),
    ("array8-bool", b"\xe0\x04\x02\x56\x01\x00", Array("boolean", [True, False])),
    ("array8-true", b"\xe0\x02\x03\x41", Array("boolean", [True, True, True])),
    ("array8-null", b"\xe0\x02\x02\x40", Array("null", [None, None])),
    (
        "array8-described",
        b"\xe0\x05\x01\x00\x53\x24\x45",
        Array("list", [[]], descriptor=ulong(0x24)),
    ),
    ("described-ulong", b"\x00\x53\x77\x40", Described(ulong(0x77), None)),
    ("described-symbol", b"\x00\xa3\x03a:b\x41", Described(symbol("a:b"), True)),
]


@pytest.mark.parametrize(("data", "expected"), [w[1:] for w in WIDTHS], ids=[w[0] for w in WIDTHS])
def test_every_encoding_width_decodes_to_the_right_value_and_type(
    data: bytes, expected: Any
) -> None:
    decoded, end = decode_value(data)
    assert end == len(data)
    assert same(decoded, expected)


@pytest.mark.parametrize(
    ("value", "encoding"),
    [
        (uint(0), b"\x43"),
        (uint(255), b"\x52\xff"),
        (uint(256), b"\x70\x00\x00\x01\x00"),
        (ulong(0), b"\x44"),
        (ulong(255), b"\x53\xff"),
        (ulong(256), b"\x80" + (256).to_bytes(8, "big")),
        (int32(-128), b"\x54\x80"),
        (int32(128), b"\x71\x00\x00\x00\x80"),
        (-128, b"\x55\x80"),
        (128, b"\x81" + (128).to_bytes(8, "big")),
        (b"x" * 255, b"\xa0\xff" + b"x" * 255),
        (b"x" * 256, b"\xb0\x00\x00\x01\x00" + b"x" * 256),
        ("x" * 256, b"\xb1\x00\x00\x01\x00" + b"x" * 256),
        (symbol("x" * 256), b"\xb3\x00\x00\x01\x00" + b"x" * 256),
    ],
    ids=repr,
)
def test_encoder_picks_the_most_compact_width(value: Any, encoding: bytes) -> None:
    assert bytes(encode_value(value)) == encoding


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ([uint(7)] * 300, 0xD0),
        ([None] * 254, 0xC0),
        ([None] * 255, 0xD0),
        ({ulong(i): None for i in range(200)}, 0xD1),
        ({None: None}, 0xC1),
        (Array("ubyte", [ubyte(1)] * 300), 0xF0),
        (Array("symbol", [symbol("s" * 300)]), 0xF0),
        (Array("binary", [b"b" * 300, b""]), 0xF0),
        (Array("string", ["a"]), 0xE0),
        (Array("array", [Array("uint", [uint(1)])]), 0xE0),
    ],
    ids=["list32-count", "list8", "list32-size", "map32", "map8", "array32-count",
         "array32-sym32", "array32-vbin32", "array8", "array-of-array"],
)  # fmt: skip
def test_large_compounds_switch_to_32_bit_encodings_and_round_trip(value: Any, code: int) -> None:
    assert encode_value(value)[0] == code
    assert same(roundtrip(value), value)


def test_zero_width_array_elements_up_to_eight_per_byte_decode() -> None:
    # array8 of nulls: 4 bytes from constructor to end, so up to 32 elements.
    assert decode_value(b"\xe0\x02\x20\x40")[0] == Array("null", [None] * 32)
    with pytest.raises(DecodeError, match="zero-width"):
        decode_value(b"\xe0\x02\x21\x40")


def test_array_of_described_elements_uses_the_registry_for_each_element() -> None:
    data = b"\xe0\x05\x02\x00\x53\x24\x45"  # two accepted outcomes sharing one constructor
    decoded, _ = decode_value(data + b"", registry=REGISTRY)
    assert decoded == Array("list", [Accepted(), Accepted()], descriptor=ulong(0x24))


@pytest.mark.parametrize(
    "data",
    [
        b"\x56\x02",  # boolean byte neither 0 nor 1
        b"\xa1\x01\xff",  # invalid UTF-8
        b"\xa3\x01\xe9",  # non-ASCII symbol
        b"\x73\x00\x11\x00\x00",  # char beyond U+10FFFF
        b"\xc1\x03\x01\x40\x40",  # map with an odd count
        b"\xc1\x03\x02\x45\x40",  # unhashable (list) map key
        b"\xc1\x06\x02\xe0\x02\x00\x40\x40",  # unhashable (array) map key
        b"\x00\x41\x40",  # boolean descriptor
        b"\x00\x45\x40",  # list descriptor
        b"\xe0\x05\x01\x00\x53\x01\x00",  # nested described array constructor
        b"\xe0\x02\x01\x01",  # invalid element constructor
        b"\xc0\x03\x01\x40\x40",  # list whose size exceeds its element
        b"\x01",  # reserved format code
        b"\xff",
        b"",
    ],
)
def test_malformed_encodings_raise_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        decode_value(data)
    assert info.value.condition == "amqp:decode-error"


@settings(max_examples=150, deadline=None)
@given(amqp_values())
def test_every_truncation_of_a_valid_encoding_raises_decode_error(value: Any) -> None:
    data = bytes(encode_value(value))
    for cut in range(len(data)):
        with pytest.raises(DecodeError):
            decode_value(data[:cut])


def test_decode_limits_bound_depth_and_count() -> None:
    nested = bytes(encode_value([[[[1]]]]))
    assert decode_value(nested, limits=DecodeLimits(max_depth=4))[0] == [[[[1]]]]
    with pytest.raises(DecodeError, match="too deep"):
        decode_value(nested, limits=DecodeLimits(max_depth=3))
    three = bytes(encode_value([1, 2, 3]))
    with pytest.raises(DecodeError, match="limit"):
        decode_value(three, limits=DecodeLimits(max_count=2))


# ---------------------------------------------------------------------------------------------
# Composite types
# ---------------------------------------------------------------------------------------------


def test_every_registered_descriptor_names_a_declared_composite() -> None:
    declared: set[int | str] = set()
    for cls in COMPOSITES:
        declared.add(ulong(cls.DESCRIPTOR))
        declared.add(symbol(cls.SYMBOL))
    assert set(REGISTRY) == declared
    assert len(COMPOSITES) >= 30


def _defaults(cls: type[Composite]) -> list[Any]:
    """The spec default of each field (every field of a composite struct has a default)."""
    blank = cls()
    return [getattr(blank, f) for f in cls.__struct_fields__]


def _matches(sent: Any, got: Any) -> bool:
    """``got`` is what decoding ``sent`` should give: nulls become the spec defaults."""
    if not isinstance(sent, Composite):
        return same(got, sent)
    if type(got) is not type(sent):
        return False
    for f, default in zip(sent.__struct_fields__, _defaults(type(sent)), strict=True):
        v, g = getattr(sent, f), getattr(got, f)
        if v is None or (type(v) is not float and v == default):
            if g != default:
                return False
        elif not _matches(v, g):
            return False
    return True


@pytest.mark.parametrize("cls", COMPOSITES, ids=lambda c: c.__name__)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_composite_round_trips_through_the_registry(
    cls: type[Composite], data: st.DataObject
) -> None:
    value = data.draw(composites(cls))
    decoded = roundtrip(value, REGISTRY)
    assert type(decoded) is cls
    assert _matches(value, decoded), decoded
    # Trailing fields that are null or hold the default are not sent.
    raw = roundtrip(value)
    assert isinstance(raw, Described)
    assert raw.descriptor == cls.DESCRIPTOR
    if raw.value:
        last = len(raw.value) - 1
        sent = getattr(value, cls.__struct_fields__[last])
        assert sent is not None
        assert type(sent) is float or sent != _defaults(cls)[last]
    else:
        assert raw.value == []
        assert all(
            getattr(value, f) is None or getattr(value, f) == d
            for f, d in zip(cls.__struct_fields__, _defaults(cls), strict=True)
        )


def test_close_without_error_is_encoded_as_an_empty_described_list() -> None:
    assert bytes(encode_value(Close())) == b"\x00S\x18E"
    assert roundtrip(Close(), REGISTRY) == Close()


def test_begin_with_the_default_handle_max_sends_four_fields() -> None:
    begin = Begin(next_outgoing_id=0, incoming_window=100, outgoing_window=100)
    raw = roundtrip(begin)
    assert raw == Described(ulong(0x11), [None, uint(0), uint(100), uint(100)])
    decoded = roundtrip(begin, REGISTRY)
    assert decoded.handle_max == MAX_UINT
    assert decoded == begin


def test_plain_python_field_values_decode_equal() -> None:
    # Users construct performatives with plain ints and strs; the decoder gives AMQP types back.
    open_ = Open(container_id="c", max_frame_size=512, properties={"k": 1}, channel_max=7)
    decoded = roundtrip(open_, REGISTRY)
    assert decoded == open_
    assert type(decoded.max_frame_size) is uint
    assert type(decoded.channel_max) is ushort
    assert decoded.properties is not None
    assert [type(k) for k in decoded.properties] == [symbol]  # fields keys are symbols


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (described_list(0x10, ["c"]), Open(container_id="c", max_frame_size=MAX_UINT,
                                           channel_max=0xFFFF)),
        (described_list(0x11, [None, uint(1), uint(2), uint(3)]),
         Begin(next_outgoing_id=1, incoming_window=2, outgoing_window=3, handle_max=MAX_UINT)),
        (described_list(0x12, ["l", uint(0), True]),
         Attach(name="l", handle=0, role=True, snd_settle_mode=2, rcv_settle_mode=0,
                incomplete_unsettled=False)),
        (described_list(0x13, [None, uint(1), uint(0), uint(1)]),
         Flow(incoming_window=1, next_outgoing_id=0, outgoing_window=1, drain=False, echo=False)),
        (described_list(0x14, [uint(0)]),
         Transfer(handle=0, more=False, resume=False, aborted=False, batchable=False)),
        (described_list(0x15, [True, uint(0)]),
         Disposition(role=True, first=0, settled=False, batchable=False)),
        (described_list(0x16, [uint(3)]), Detach(handle=3, closed=False)),
        (b"\x00\x53\x28\x45",
         Source(durable=0, expiry_policy="session-end", timeout=0, dynamic=False)),
        (b"\x00\x53\x29\x45", Target(durable=0, expiry_policy="session-end", timeout=0,
                                     dynamic=False)),
    ],
    ids=["open", "begin", "attach", "flow", "transfer", "disposition", "detach", "source",
         "target"],
)  # fmt: skip
def test_absent_fields_decode_to_the_spec_defaults(data: bytes, expected: Composite) -> None:
    decoded, _ = decode_value(data, registry=REGISTRY)
    assert decoded == expected


def test_fields_beyond_the_declared_ones_are_ignored() -> None:
    data = described_list(0x18, [None, "future", uint(9)])
    assert decode_value(data, registry=REGISTRY)[0] == Close()


@pytest.mark.parametrize("cls", COMPOSITES, ids=lambda c: c.__name__)
def test_symbolic_descriptors_decode_to_the_same_class(cls: type[Composite]) -> None:
    value = cls(**{f: _valid(cls, f) for f in cls.MANDATORY})
    numeric = bytes(encode_value(value))
    assert numeric[:2] == b"\x00\x53"
    name = cls.SYMBOL.encode("ascii")
    symbolic = b"\x00\xa3" + bytes([len(name)]) + name + numeric[3:]
    decoded, end = decode_value(symbolic, registry=REGISTRY)
    assert end == len(symbolic)
    assert type(decoded) is cls
    assert decoded == decode_value(numeric, registry=REGISTRY)[0]


def test_declare_and_open_decode_from_their_symbolic_descriptors() -> None:
    declare = b"\x00\xa3\x11amqp:declare:list\x45"
    assert decode_value(declare, registry=REGISTRY)[0] == Declare()
    open_ = b"\x00\xa3\x0eamqp:open:list\xc0\x03\x01\xa1\x00"
    assert decode_value(open_, registry=REGISTRY)[0] == Open(container_id="")


_VALID: dict[str, Any] = {
    "boolean": True,
    "ubyte": ubyte(1),
    "ushort": ushort(1),
    "uint": uint(1),
    "ulong": ulong(1),
    "string": "s",
    "symbol": symbol("s"),
    "symbols": (symbol("s"),),
    "binary": b"b",
}


def _valid(cls: type[Composite], field: str) -> Any:
    return _VALID[cls.FIELD_TYPES[cls.__struct_fields__.index(field)]]


MANDATORY_FIELDS = [
    (cls, f) for cls in COMPOSITES for f in cls.__struct_fields__ if f in cls.MANDATORY
]
TYPED_FIELDS = [
    (cls, f)
    for cls in COMPOSITES
    for f, t in zip(cls.__struct_fields__, cls.FIELD_TYPES, strict=True)
    if t != "*"
]


def _fields_of(cls: type[Composite]) -> list[Any]:
    """A full field list for ``cls`` with every mandatory field valid, as decoded values."""
    return [_valid(cls, f) if f in cls.MANDATORY else None for f in cls.__struct_fields__]


@pytest.mark.parametrize(
    ("cls", "field"), MANDATORY_FIELDS, ids=lambda x: getattr(x, "__name__", x)
)
def test_missing_mandatory_field_is_an_invalid_field_error(
    cls: type[Composite], field: str
) -> None:
    fields = _fields_of(cls)
    assert type(decode_value(described_list(cls.DESCRIPTOR, fields), registry=REGISTRY)[0]) is cls
    fields[cls.__struct_fields__.index(field)] = None
    with pytest.raises(DecodeError) as info:
        decode_value(described_list(cls.DESCRIPTOR, fields), registry=REGISTRY)
    assert info.value.condition == "amqp:invalid-field"
    assert field in info.value.description


@pytest.mark.parametrize("cls", [c for c in COMPOSITES if c.MANDATORY], ids=lambda c: c.__name__)
def test_composite_sent_as_an_empty_list_lacks_its_mandatory_fields(cls: type[Composite]) -> None:
    with pytest.raises(DecodeError) as info:
        decode_value(b"\x00\x53" + bytes([cls.DESCRIPTOR]) + b"\x45", registry=REGISTRY)
    assert info.value.condition == "amqp:invalid-field"


@pytest.mark.parametrize(("cls", "field"), TYPED_FIELDS, ids=lambda x: getattr(x, "__name__", x))
def test_field_of_the_wrong_type_is_an_invalid_field_error(
    cls: type[Composite], field: str
) -> None:
    fields = _fields_of(cls)
    fields[cls.__struct_fields__.index(field)] = uuid.UUID(int=7)  # wrong for every typed field
    with pytest.raises(DecodeError) as info:
        decode_value(described_list(cls.DESCRIPTOR, fields), registry=REGISTRY)
    assert info.value.condition == "amqp:invalid-field"
    assert field in info.value.description


@pytest.mark.parametrize(
    ("cls", "fields"),
    [
        (SaslOutcome, [uint(256)]),  # ubyte field out of range
        (Begin, [uint(0x10000), uint(0), uint(1), uint(1)]),  # ushort out of range
        (Begin, [None, -1, uint(1), uint(1)]),  # uint field negative (a smalllong)
        (Attach, ["l", uint(0), uint(1)]),  # role must be a boolean
        (Transfer, [uint(0), None, "tag"]),  # delivery-tag must be binary
        (Open, ["c", None, None, None, None, None, None, None, None, [1]]),  # fields not a map
        (Disposition, [True, uint(0), None, None, Source()]),  # state that is not a state
        (Attach, ["l", uint(0), True, None, None, Target()]),  # a target as source
        (Detach, [uint(0), None, Accepted()]),  # an outcome as the error
        (SaslMechanisms, [uint(1)]),  # symbols field holding a uint
        (SaslMechanisms, [[symbol("a"), uint(1)]]),  # symbols list with a non-symbol
        (Error, [uint(1)]),  # condition must be a symbol
    ],
    ids=["ubyte-range", "ushort-range", "uint-negative", "boolean", "binary", "fields",
         "state-kind", "source-kind", "error-kind", "symbols", "symbols-element", "symbol"],
)  # fmt: skip
def test_out_of_range_or_mistyped_field_values_are_invalid_field_errors(
    cls: type[Composite], fields: list[Any]
) -> None:
    with pytest.raises(DecodeError) as info:
        decode_value(described_list(cls.DESCRIPTOR, fields), registry=REGISTRY)
    assert info.value.condition == "amqp:invalid-field"


def test_composite_whose_described_value_is_not_a_list_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        decode_value(b"\x00\x53\x10\xa1\x01c", registry=REGISTRY)


def test_multiple_symbol_field_accepts_a_single_symbol() -> None:
    data = described_list(0x40, [symbol("PLAIN")])
    assert decode_value(data, registry=REGISTRY)[0] == SaslMechanisms(("PLAIN",))


def test_multiple_symbol_fields_are_encoded_as_arrays() -> None:
    raw = roundtrip(SaslMechanisms(sasl_server_mechanisms=("PLAIN", "ANONYMOUS")))
    assert raw.value == [Array("symbol", [symbol("PLAIN"), symbol("ANONYMOUS")])]
    raw = roundtrip(Open(container_id="c", offered_capabilities=()))
    assert raw.value[-1] == Array("symbol", [])


def test_encoding_a_composite_without_a_mandatory_field_is_refused() -> None:
    with pytest.raises(ValueError, match="mandatory"):
        encode_value(Attach(name="l", role=True))


@pytest.mark.parametrize(
    "value",
    [
        Transfer(handle=1, delivery_id=2, delivery_tag=b"t", state=TransactionalState(b"x",
                 Rejected(Error("amqp:not-found", "gone", {symbol("k"): 1})))),
        Disposition(role=True, first=1, last=5, settled=True,
                    state=Modified(True, False, {symbol("x-opt"): "v"})),
        Disposition(role=False, first=0, state=Received(section_number=1, section_offset=2)),
        Attach(name="c", handle=0, role=False,
               source=Source(address="q", outcomes=("amqp:accepted:list",)),
               target=Coordinator(capabilities=("amqp:local-transactions",))),
        Discharge(txn_id=b"\x01", fail=True),
        SaslInit(mechanism="PLAIN", initial_response=b"\x00u\x00p", hostname="h"),
    ],
    ids=["transfer-txn", "disposition-modified", "disposition-received", "attach-coordinator",
         "discharge", "sasl-init"],
)  # fmt: skip
def test_nested_composites_round_trip(value: Composite) -> None:
    assert roundtrip(value, REGISTRY) == value


def test_composite_longer_than_255_bytes_uses_a_list32() -> None:
    open_ = Open(container_id="c" * 300)
    data = bytes(encode_value(open_))
    assert data[3] == 0xD0
    assert roundtrip(open_, REGISTRY) == open_


def test_composites_are_described_values_elsewhere() -> None:
    # Inside lists and maps composites keep their identity through the registry.
    value = {symbol("outcome"): [Accepted(), Rejected(Error("amqp:x"))]}
    assert roundtrip(value, REGISTRY) == value
    # Without a registry they come back as Described values.
    assert roundtrip(Accepted()) == Described(ulong(0x24), [])
