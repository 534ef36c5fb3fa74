"""Level-1 tests of frame parsing and encoding (OASIS AMQP 1.0 Part 2, sections 2.3 and 2.4.5)."""

from __future__ import annotations

import struct
import tracemalloc
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qpid_ha.amqp.codec import DEFAULT_LIMITS, encode_value
from qpid_ha.amqp.composite import Composite
from qpid_ha.amqp.framing import (
    AMQP_FRAME,
    EMPTY_FRAME,
    SASL_FRAME,
    encode_frame,
    parse_frame,
)
from qpid_ha.amqp.performatives import Begin, Close, Error, Open, Transfer
from qpid_ha.amqp.sasl import SaslMechanisms
from qpid_ha.errors import DecodeError, FramingError

from .strategies import all_composite_classes, composites


def encode_performative(body: Composite) -> bytes:
    """The bytes of a performative alone."""
    return bytes(encode_value(body))


MAX = 65536


def frame(body: bytes, doff: int = 2, ftype: int = AMQP_FRAME, channel: int = 0) -> bytes:
    """A frame around raw body bytes, with ``doff * 4 - 8`` bytes of extended header."""
    ext = b"\x00" * max(doff * 4 - 8, 0)
    return struct.pack(">IBBH", 8 + len(ext) + len(body), doff, ftype, channel) + ext + body


def encoded(body: Composite, payload: bytes = b"", channel: int = 0, ftype: int = 0) -> bytes:
    out = bytearray()
    size = encode_frame(out, channel, body, payload, ftype)
    assert size == len(out)
    return bytes(out)


def parse(buf: bytes | bytearray, pos: int = 0, max_frame_size: int = MAX) -> Any:
    return parse_frame(buf, pos, max_frame_size, DEFAULT_LIMITS)


TRANSFER = encoded(Transfer(handle=0, delivery_id=1, delivery_tag=b"t"), b"payload", channel=3)


def test_a_frame_gives_its_end_type_channel_performative_and_payload() -> None:
    end, ftype, channel, body, payload = parse(TRANSFER)
    assert end == len(TRANSFER)
    assert (ftype, channel) == (AMQP_FRAME, 3)
    assert body == Transfer(handle=0, delivery_id=1, delivery_tag=b"t")
    assert payload == b"payload"
    assert type(payload) is bytes


def test_a_frame_without_payload_gives_empty_payload() -> None:
    data = encoded(Close(Error("amqp:internal-error", "boom")))
    assert parse(data)[3:] == (Close(Error("amqp:internal-error", "boom")), b"")


def test_sasl_frames_carry_their_frame_type() -> None:
    data = encoded(SaslMechanisms(("PLAIN",)), ftype=SASL_FRAME)
    assert parse(data)[1:4] == (SASL_FRAME, 0, SaslMechanisms(("PLAIN",)))


@pytest.mark.parametrize("cls", all_composite_classes(), ids=lambda c: c.__name__)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_every_composite_survives_a_frame_with_any_payload(cls: Any, data: st.DataObject) -> None:
    body = data.draw(composites(cls))
    payload = data.draw(st.binary(max_size=64))
    channel = data.draw(st.integers(0, 0xFFFF))
    raw = encoded(body, payload, channel)
    end, _, got_channel, got, got_payload = parse(raw, max_frame_size=1 << 24)
    assert end == len(raw)
    assert got_channel == channel
    assert type(got) is cls
    assert got_payload == payload


def test_frames_back_to_back_parse_one_after_another() -> None:
    stream = TRANSFER + EMPTY_FRAME + encoded(Begin(None, 0, 10, 10), channel=1)
    first = parse(stream)
    second = parse(stream, first[0])
    third = parse(stream, second[0])
    assert first[3] == Transfer(handle=0, delivery_id=1, delivery_tag=b"t")
    assert second[3] is None
    assert third[2:4] == (1, Begin(None, 0, 10, 10))
    assert third[0] == len(stream)


def test_a_frame_body_is_the_encoded_performative() -> None:
    body = Open(container_id="c")
    assert encoded(body)[8:] == encode_performative(body)


# ---------------------------------------------------------------------------------------------
# Partial frames
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [TRANSFER, EMPTY_FRAME, encoded(Close())], ids=["transfer", "empty", "close"]
)
def test_every_prefix_of_a_frame_is_incomplete(data: bytes) -> None:
    for cut in range(len(data)):
        assert parse(data[:cut]) is None
        assert parse(bytearray(b"xx" + data[:cut]), 2) is None
    assert parse(data) is not None


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_every_prefix_of_any_frame_is_incomplete(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(all_composite_classes()))
    raw = encoded(data.draw(composites(cls)), data.draw(st.binary(max_size=16)))
    cut = data.draw(st.integers(0, len(raw) - 1))
    assert parse(raw[:cut], max_frame_size=1 << 24) is None


def test_a_partial_frame_is_not_copied() -> None:
    # A 2 MiB frame of which 1 MiB has arrived: looking at it allocates nothing.
    big = bytearray(struct.pack(">IBBH", 2 << 20, 2, 0, 0)) + bytearray(1 << 20)
    tracemalloc.start()
    try:
        assert parse(big, max_frame_size=4 << 20) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4096


# ---------------------------------------------------------------------------------------------
# Malformed headers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(8))
def test_frame_size_below_the_header_size_is_refused_from_four_bytes(size: int) -> None:
    with pytest.raises(FramingError, match="smaller than a frame header") as info:
        parse(struct.pack(">I", size))
    assert info.value.condition == "amqp:connection:framing-error"


@pytest.mark.parametrize("size", [MAX + 1, 0xFFFFFFFF])
def test_frame_larger_than_max_frame_size_is_refused_from_four_bytes(size: int) -> None:
    with pytest.raises(FramingError, match="exceeds the max-frame-size"):
        parse(struct.pack(">I", size))


def test_frame_of_exactly_max_frame_size_is_accepted() -> None:
    payload = b"x" * (512 - len(TRANSFER) + len(b"payload"))
    data = encoded(Transfer(handle=0, delivery_id=1, delivery_tag=b"t"), payload, channel=3)
    assert len(data) == 512
    assert parse(data, max_frame_size=512)[4] == payload
    with pytest.raises(FramingError):
        parse(data, max_frame_size=511)


@pytest.mark.parametrize("doff", [0, 1])
def test_data_offset_below_two_is_refused(doff: int) -> None:
    with pytest.raises(FramingError, match="data offset"):
        parse(struct.pack(">IBBH", 8, doff, 0, 0))


@pytest.mark.parametrize(("size", "doff"), [(8, 3), (12, 4), (16, 255)])
def test_data_offset_beyond_the_frame_is_refused(size: int, doff: int) -> None:
    data = struct.pack(">IBBH", size, doff, 0, 0) + b"\x00" * (size - 8)
    with pytest.raises(FramingError, match="past the frame end"):
        parse(data)


def test_empty_frame_is_a_heartbeat_without_body() -> None:
    assert parse(EMPTY_FRAME) == (8, AMQP_FRAME, 0, None, b"")


def test_frame_of_only_an_extended_header_has_no_body() -> None:
    assert parse(frame(b"", doff=4)) == (16, AMQP_FRAME, 0, None, b"")


def test_extended_header_is_skipped_before_the_body() -> None:
    body = encode_performative(Close())
    assert parse(frame(body, doff=3))[3] == Close()


def test_frame_body_that_is_not_a_composite_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="not a performative") as info:
        parse(frame(b"\x52\x01"))
    assert info.value.condition == "amqp:decode-error"


def test_frame_body_running_past_the_frame_end_is_a_decode_error() -> None:
    body = encode_performative(Open(container_id="container"))
    short = struct.pack(">IBBH", 8 + len(body) - 3, 2, 0, 0) + body
    # The bytes after the short frame (here, the rest of the body) must not complete it.
    with pytest.raises(DecodeError):
        parse(short)
    with pytest.raises(DecodeError):
        parse(short[: 8 + len(body) - 3])


def test_malformed_performative_in_a_frame_is_an_invalid_field_error() -> None:
    with pytest.raises(DecodeError) as info:
        parse(frame(b"\x00\x53\x10\x45"))  # open without container-id
    assert info.value.condition == "amqp:invalid-field"
