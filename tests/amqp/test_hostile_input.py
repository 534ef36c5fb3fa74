"""Level-1 tests of hostile and random input against the decoder, the framer and the engine.

Whatever a peer sends, the codec functions raise only DecodeError or FramingError, and a
server :class:`Connection` never raises from ``receive_data``: it closes with the spec's error
condition, reported as a ``ConnectionClosed`` event, without allocating anything large.
"""

from __future__ import annotations

import functools
import itertools
import os
import struct
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qpid_ha.amqp import conditions
from qpid_ha.amqp._state import EndpointState
from qpid_ha.amqp.codec import DEFAULT_LIMITS, decode_value, encode_value, skip_value
from qpid_ha.amqp.composite import REGISTRY, Composite
from qpid_ha.amqp.connection import Connection
from qpid_ha.amqp.events import (
    AuthenticationFailed,
    ConnectionClosed,
    ConnectionOpened,
    CreditGranted,
    DeliveryReceived,
    Event,
    LinkAttached,
    LinkDetached,
    SessionBegun,
    SessionEnded,
)
from qpid_ha.amqp.framing import AMQP_HEADER, SASL_HEADER, TLS_HEADER, encode_frame, parse_frame
from qpid_ha.amqp.performatives import Begin, Close, End, Open, Transfer
from qpid_ha.amqp.sasl import (
    AnonymousServer,
    PlainServer,
    SaslInit,
    SaslServer,
    ServerMechanism,
)
from qpid_ha.amqp.types import symbol, ubyte, uint, ulong, ushort
from qpid_ha.errors import DecodeError, FramingError, UsageError

from .pair import Pair
from .strategies import (
    all_composite_classes,
    amqp_values,
    field_values,
    mutations,
    split_points,
)

DECODE_ERROR = "amqp:decode-error"
FRAMING_ERROR = "amqp:connection:framing-error"
LIMIT = 1 << 20  # the most a hostile input may make us allocate
SPEC_CONDITIONS = frozenset(
    v for k, v in vars(conditions).items() if k.isupper() and isinstance(v, str)
)
U32_MAX = 0xFFFFFFFF
# Values a field of each primitive type accepts, mixed into random field lists.
_FIELD_SAMPLES: tuple[Any, ...] = (
    uint(1), ushort(2), ubyte(3), ulong(4), True, "s", symbol("s"), b"b", {}
)  # fmt: skip


@contextmanager
def peak_allocation() -> Iterator[list[int]]:
    """Measure the peak of Python allocations inside the block (in the yielded list)."""
    result: list[int] = []
    tracemalloc.start()
    try:
        yield result
        result.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def frame(body: bytes, doff: int = 2, ftype: int = 0) -> bytes:
    return struct.pack(">IBBH", 8 + len(body), doff, ftype, 0) + body


def short_frame(body: bytes, cut: int) -> bytes:
    """A frame whose size ends ``cut`` bytes before its body does (the rest follows it)."""
    return struct.pack(">IBBH", 8 + len(body) - cut, 2, 0, 0) + body


def nested(depth: int, head: Callable[[int], bytes], inner: bytes) -> bytes:
    """``depth`` compound headers around ``inner``, each sized to exactly what it wraps.

    ``head(n)`` gives the header for a compound whose content after the header is n bytes.
    """
    heads: list[bytes] = []
    size = len(inner)
    for _ in range(depth):
        h = head(size)
        heads.append(h)
        size += len(h)
    return b"".join(reversed(heads)) + inner


def list32(n: int) -> bytes:
    return b"\xd0" + struct.pack(">II", n + 4, 1)


def map32_value(n: int) -> bytes:  # a map whose one value is what follows (key null)
    return b"\xd1" + struct.pack(">II", n + 5, 2) + b"\x40"


def array32_of_arrays(n: int) -> bytes:  # an array element: size, count 1, ctor array32
    return struct.pack(">II", n + 5, 1) + b"\xf0"


def open_carrying(value: bytes) -> bytes:
    """An open performative whose properties map holds ``value`` under the key ``k``."""
    props = b"\xa3\x01k" + value
    fields = b"\xa1\x01c" + b"\x40" * 8 + b"\xd1" + struct.pack(">II", len(props) + 4, 2) + props
    return b"\x00\x53\x10\xd0" + struct.pack(">II", len(fields) + 4, 10) + fields


# Values that are malformed, over a limit, or claim far more than they hold.
HOSTILE_VALUES: dict[str, bytes] = {
    "truncated-uint": b"\x70\x00\x01",
    "truncated-list32-header": b"\xd0\x00\x00\x00",
    "truncated-described": b"\x00\x53",
    "nested-list8-10000": b"\xc0\xff\x01" * 10_000 + b"\x40",
    "nested-list32-10000": nested(10_000, list32, b"\x45"),
    "nested-map32-10000": nested(10_000, map32_value, b"\x40"),
    "nested-array32-10000": b"\xf0"
    + nested(9_999, array32_of_arrays, struct.pack(">IIB", 5, 0, 0x40)),
    "nested-described-descriptor-10000": b"\x00" * 10_000 + b"\x53\x01\x40",
    "nested-described-value-10000": b"\x00\x53\x01" * 10_000 + b"\x40",
    "list32-count-4G": b"\xd0" + struct.pack(">II", 8, U32_MAX) + b"\x40" * 4,
    "list32-size-and-count-4G": b"\xd0" + struct.pack(">II", U32_MAX, U32_MAX) + b"\x40" * 4,
    "list8-count-255-in-1-byte": b"\xc0\x02\xff\x40",
    "map32-count-4G": b"\xd1" + struct.pack(">II", 8, U32_MAX - 1) + b"\x40" * 4,
    "map32-size-and-count-4G": b"\xd1" + struct.pack(">II", U32_MAX, U32_MAX - 1) + b"\x40" * 4,
    "array32-uint-count-4G": b"\xf0" + struct.pack(">II", 9, U32_MAX) + b"\x70" + b"\x00" * 4,
    "array32-size-and-count-4G": b"\xf0" + struct.pack(">II", U32_MAX, U32_MAX) + b"\x70",
    **{
        f"array32-zero-width-{code:02x}-count-{label}": b"\xf0"
        + struct.pack(">II", 5, count)
        + bytes([code])
        for code in (0x40, 0x41, 0x42, 0x43, 0x44, 0x45)
        for label, count in (
            ("4G", U32_MAX),
            ("max-count", DEFAULT_LIMITS.max_count),
            ("100k", 100_000),
        )
    },
    "array32-described-list0-count-1M": b"\xf0"
    + struct.pack(">II", 8, DEFAULT_LIMITS.max_count)
    + b"\x00\x53\x24\x45",
    "vbin32-4G": b"\xb0" + struct.pack(">I", U32_MAX) + b"abc",
    "str32-4G": b"\xb1" + struct.pack(">I", U32_MAX) + b"abc",
    "sym32-4G": b"\xb3" + struct.pack(">I", U32_MAX) + b"abc",
    "invalid-utf8": b"\xa1\x02\xc3\x28",
    "reserved-format-code": b"\x0f",
}


@pytest.mark.parametrize("data", HOSTILE_VALUES.values(), ids=HOSTILE_VALUES.keys())
def test_hostile_value_is_a_decode_error_that_allocates_nothing_large(data: bytes) -> None:
    with peak_allocation() as peak, pytest.raises(DecodeError) as info:
        decode_value(data, registry=REGISTRY)
    assert info.value.condition == DECODE_ERROR
    assert peak[0] < LIMIT


@pytest.mark.parametrize("data", HOSTILE_VALUES.values(), ids=HOSTILE_VALUES.keys())
def test_skip_value_over_hostile_value_raises_only_decode_error(data: bytes) -> None:
    try:
        end = skip_value(data, 0)
    except DecodeError:
        return
    assert end <= len(data)  # skipping by size fields alone may accept what decoding refuses


def test_nesting_just_inside_the_depth_limit_decodes() -> None:
    depth = DEFAULT_LIMITS.max_depth
    assert decode_value(nested(depth, list32, b"\x45"))[1] > 0
    with pytest.raises(DecodeError, match="too deep"):
        decode_value(nested(depth + 1, list32, b"\x45"))


# ---------------------------------------------------------------------------------------------
# The engine under hostile input
# ---------------------------------------------------------------------------------------------


def server_frames(output: bytes) -> list[Any]:
    """The performatives in what a server wrote after its protocol header."""
    assert output[:8] == AMQP_HEADER
    bodies, pos = [], 8
    while pos < len(output):
        parsed = parse_frame(output, pos, 1 << 20, DEFAULT_LIMITS)
        assert parsed is not None
        pos, body = parsed[0], parsed[3]
        bodies.append(body)
    return bodies


def closed_with(server: Connection, events: list[Event]) -> str:
    """The condition of the one ConnectionClosed the server reported for its own error."""
    closed = [e for e in events if isinstance(e, ConnectionClosed)]
    assert len(closed) == 1, events
    assert closed[0].by_peer is False
    assert closed[0].error is not None
    assert server.finished
    return str(closed[0].error.condition)


HOSTILE_FRAMES: dict[str, tuple[bytes, str]] = {
    "frame-size-4G": (b"\xff\xff\xff\xff\x02\x00\x00\x00", FRAMING_ERROR),
    "frame-size-4G-alone": (b"\xff\xff\xff\xff", FRAMING_ERROR),
    "frame-size-below-8": (b"\x00\x00\x00\x04", FRAMING_ERROR),
    "data-offset-below-2": (b"\x00\x00\x00\x08\x01\x00\x00\x00", FRAMING_ERROR),
    "data-offset-beyond-size": (b"\x00\x00\x00\x08\x03\x00\x00\x00", FRAMING_ERROR),
    "open-cut-short-by-frame-size": (frame(open_carrying(b"\x40")[:-3]), DECODE_ERROR),
    "open-overrunning-its-frame": (short_frame(open_carrying(b"\x40"), 3), DECODE_ERROR),
    "frame-body-not-a-performative": (frame(b"\x52\x01"), DECODE_ERROR),
    **{
        f"open-carrying-{name}": (frame(open_carrying(value)), DECODE_ERROR)
        for name, value in HOSTILE_VALUES.items()
        if len(value) < 60_000
    },
}


@pytest.mark.parametrize(("data", "condition"), HOSTILE_FRAMES.values(), ids=HOSTILE_FRAMES.keys())
def test_server_closes_with_the_spec_condition_on_hostile_frames(
    data: bytes, condition: str
) -> None:
    server = Connection(server=True, container_id="server")
    stream = AMQP_HEADER + data
    with peak_allocation() as peak:
        server.receive_data(stream)
    assert peak[0] < LIMIT
    assert closed_with(server, list(server.events())) == condition
    # The client is told why: open (the server had not sent one yet) then close with the error.
    bodies = server_frames(server.data_to_send())
    assert isinstance(bodies[0], Open)
    assert isinstance(bodies[-1], Close)
    assert bodies[-1].error is not None and bodies[-1].error.condition == condition
    # Nothing more is read once closed.
    server.receive_data(stream)
    assert list(server.events()) == []


@pytest.mark.parametrize(("data", "condition"), HOSTILE_FRAMES.values(), ids=HOSTILE_FRAMES.keys())
def test_server_fed_hostile_frames_byte_by_byte_closes_the_same_way(
    data: bytes, condition: str
) -> None:
    server = Connection(server=True, container_id="server")
    stream = AMQP_HEADER + data
    with peak_allocation() as peak:
        for i in range(len(stream)):
            server.receive_data(stream[i : i + 1])
    assert peak[0] < LIMIT
    assert closed_with(server, list(server.events())) == condition


def test_a_4_gib_frame_is_refused_as_soon_as_its_size_arrives() -> None:
    server = Connection(server=True)
    server.receive_data(AMQP_HEADER + b"\xff\xff")
    assert list(server.events()) == []
    server.receive_data(b"\xff\xff")
    assert closed_with(server, list(server.events())) == FRAMING_ERROR


def test_frame_over_our_max_frame_size_is_refused_before_any_open() -> None:
    server = Connection(server=True, max_frame_size=512)
    server.receive_data(AMQP_HEADER + struct.pack(">I", 513))
    assert closed_with(server, list(server.events())) == FRAMING_ERROR


@pytest.mark.parametrize(
    "header",
    [
        b"GET / HTTP/1.1\r\n",
        TLS_HEADER,
        b"AMQP\x01\x01\x00\x00",
        b"AMQP\x00\x02\x00\x00",
        b"\x16\x03",
    ],
)
def test_server_refuses_a_foreign_protocol_header_with_a_framing_error(header: bytes) -> None:
    server = Connection(server=True)
    server.receive_data(header)
    assert closed_with(server, list(server.events())) == FRAMING_ERROR
    assert server.data_to_send() in (b"", AMQP_HEADER)  # at most our own header, as 2.2 wants


@pytest.mark.parametrize(
    ("data", "condition"),
    [
        (b"\xff\xff\xff\xff", FRAMING_ERROR),
        (b"\x00\x00\x00\x04", FRAMING_ERROR),
        (frame(b"\x00\x53\x41" + b"\x00" * 3, ftype=1), DECODE_ERROR),
        (frame(b"\x00\x53\x41" + b"\x00" * 10_000 + b"\x45", ftype=1), DECODE_ERROR),
    ],
    ids=["frame-size-4G", "frame-size-below-8", "truncated-sasl-init", "nested-10000"],
)
def test_server_refuses_hostile_sasl_frames_before_authentication(
    data: bytes, condition: str
) -> None:
    server = Connection(server=True, sasl=SaslServer([AnonymousServer()]))
    with peak_allocation() as peak:
        server.receive_data(SASL_HEADER + data)
    assert peak[0] < LIMIT
    assert closed_with(server, list(server.events())) == condition
    assert not server.authenticated


def test_transport_closed_mid_frame_reports_the_connection_closed() -> None:
    server = Connection(server=True)
    server.receive_data(AMQP_HEADER + frame(open_carrying(b"\x40"))[:20])
    assert list(server.events()) == []
    server.receive_data(b"")
    closed = [e for e in server.events() if isinstance(e, ConnectionClosed)]
    assert len(closed) == 1
    assert closed[0].error is not None
    assert closed[0].error.condition == conditions.CONNECTION_FORCED
    assert server.finished


# ---------------------------------------------------------------------------------------------
# Fuzzing
# ---------------------------------------------------------------------------------------------


@functools.cache
def client_stream() -> bytes:
    """What a client sends: header, open, begin, attaches, flow, transfers and a disposition."""
    pair = Pair()
    cs, _ = pair.established()
    sender, _ = pair.link(cs, "out", credit=10)
    receiver, server_sender = pair.link(cs, "in", client_sends=False)
    receiver.flow(5)
    pair.pump()
    sender.send(b"hello")
    big = sender.send(b"x" * 100, more=True)
    sender.send_more(big, b"y" * 100)
    server_sender.send(b"to the client")
    pair.pump()
    for event in pair.client_events:
        if isinstance(event, DeliveryReceived):
            event.delivery.accept()
    pair.pump()
    return b"".join(pair.frames_to_server)


def respond(server: Connection, events: list[Event]) -> None:
    """Play a broker: answer opens, begins and attaches, grant credit, send when given it."""
    for event in server.events():
        events.append(event)
        try:
            if isinstance(event, ConnectionOpened) and server.local is EndpointState.UNINIT:
                server.open()
            elif isinstance(event, SessionBegun) and event.session.local is EndpointState.UNINIT:
                event.session.begin()
            elif isinstance(event, LinkAttached) and event.link.local is EndpointState.UNINIT:
                link = event.link
                link.attach(source=link.remote_source, target=link.remote_target)
                if link.is_receiver:
                    link.flow(10)
            elif isinstance(event, CreditGranted) and event.link.credit > 0:
                event.link.send(b"message")
            elif isinstance(event, DeliveryReceived):
                event.delivery.accept()
        except UsageError:
            pass  # the engine moved on (the peer ended or closed): an application sees the same


def feed(server: Connection, chunks: list[bytes]) -> list[Event]:
    """Feed chunks then end of transport; return every event. Nothing may raise."""
    events: list[Event] = []
    for chunk in chunks:
        server.receive_data(chunk)
        respond(server, events)
        server.data_to_send()
        if server.finished:
            assert any(isinstance(e, ConnectionClosed | AuthenticationFailed) for e in events)
    server.receive_data(b"")
    respond(server, events)
    server.data_to_send()
    assert server.finished
    ends = [e for e in events if isinstance(e, ConnectionClosed | AuthenticationFailed)]
    assert len(ends) == 1, ends
    if isinstance(ends[0], ConnectionClosed) and not ends[0].by_peer:
        assert ends[0].error is not None
        assert ends[0].error.condition in SPEC_CONDITIONS
    return events


def sasl_server() -> Connection:
    """A server offering PLAIN and ANONYMOUS that sends its open at once (held until SASL ends)."""
    mechanisms: list[ServerMechanism] = [PlainServer.from_users({"u": "p"}), AnonymousServer()]
    server = Connection(server=True, sasl=SaslServer(mechanisms))
    server.open()
    return server


def frames_of(stream: bytes) -> list[bytes]:
    """The protocol header and each frame of a valid stream, as separate chunks."""
    chunks, pos = [stream[:8]], 8
    while pos < len(stream):
        end = pos + struct.unpack_from(">I", stream, pos)[0]
        chunks.append(stream[pos:end])
        pos = end
    return chunks


def eager_server() -> Connection:
    """A server that sends its open at once, before the client's arrives."""
    server = Connection(server=True)
    server.open()
    return server


def test_replaying_the_client_stream_frame_by_frame_delivers_its_messages() -> None:
    # The fuzzing below starts from this stream: unmutated, it makes a working connection.
    events = feed(Connection(server=True), frames_of(client_stream()))
    payloads = [e.payload for e in events if isinstance(e, DeliveryReceived)]
    assert payloads == [b"hello", b"x" * 100 + b"y" * 100]
    closed = [e for e in events if isinstance(e, ConnectionClosed)]
    assert closed[0].error is not None
    assert closed[0].error.condition == conditions.CONNECTION_FORCED  # only the transport ended


def test_replaying_the_client_stream_to_an_eager_server_in_one_chunk_delivers_nothing() -> None:
    # Pipelined, the transfers arrive before the server granted credit: the peer is refused.
    events = feed(eager_server(), [client_stream()])
    assert [e for e in events if isinstance(e, DeliveryReceived)] == []
    detached = [e for e in events if isinstance(e, LinkDetached)]
    assert detached
    assert detached[0].error is not None
    assert detached[0].error.condition == conditions.TRANSFER_LIMIT_EXCEEDED


#: QPID_HA_FUZZ_EXAMPLES=5000 fuzzes the engine harder than the default run does
FUZZ = settings(
    max_examples=int(os.environ.get("QPID_HA_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(st.data())
def test_server_survives_mutated_client_streams_in_any_chunking(data: st.DataObject) -> None:
    stream = data.draw(mutations(client_stream(), max_edits=4))
    feed(eager_server(), data.draw(split_points(stream)))


@FUZZ
@given(st.data())
def test_server_survives_mutations_after_the_protocol_header(data: st.DataObject) -> None:
    body = data.draw(mutations(client_stream()[8:], max_edits=2))
    feed(eager_server(), data.draw(split_points(AMQP_HEADER + body)))


@FUZZ
@given(st.data())
def test_server_survives_a_mangled_frame_in_a_working_exchange(data: st.DataObject) -> None:
    # Frame by frame, so the server has answered and granted credit before the bad frame.
    frames = frames_of(client_stream())
    i = data.draw(st.integers(1, len(frames) - 1))
    frames[i] = data.draw(mutations(frames[i], max_edits=2))
    feed(Connection(server=True), frames)


@FUZZ
@given(st.data())
def test_server_survives_performatives_with_any_field_values(data: st.DataObject) -> None:
    # Valid encodings of unexpected values: handles, ids, windows, credit, states, flags...
    frames = frames_of(client_stream())
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(1, len(frames) - 1))
        parsed = parse_frame(frames[i], 0, 1 << 20, DEFAULT_LIMITS)
        assert parsed is not None
        _, _, channel, body, payload = parsed
        name, amqp_type = data.draw(
            st.sampled_from(list(zip(body.__struct_fields__, body.FIELD_TYPES, strict=True)))
        )
        values = field_values(amqp_type)
        if name not in body.MANDATORY:
            values = st.none() | values
        body = body.__replace__(**{name: data.draw(values)})
        out = bytearray()
        encode_frame(out, channel, body, payload)
        frames[i] = bytes(out)
    feed(Connection(server=True), frames)


def test_session_error_before_the_server_opened_ends_the_session_without_raising() -> None:
    # A client pipelines open, begin and a transfer on a handle it never attached.
    server = Connection(server=True)
    bad = Transfer(handle=5, delivery_id=0, delivery_tag=b"t")
    stream = bytearray(AMQP_HEADER)
    for body in (Open(container_id="c"), Begin(None, 0, 10, 10), bad):
        encode_frame(stream, 0, body)
    server.receive_data(bytes(stream))
    ended = [e for e in server.events() if isinstance(e, SessionEnded)]
    assert len(ended) == 1
    assert ended[0].error is not None
    assert ended[0].error.condition == conditions.UNATTACHED_HANDLE
    # The client learns why: the server's open, then an end carrying the error.
    bodies = server_frames(server.data_to_send())
    assert isinstance(bodies[0], Open)
    assert isinstance(bodies[-1], End)
    assert bodies[-1].error is not None
    assert bodies[-1].error.condition == conditions.UNATTACHED_HANDLE


@FUZZ
@example(mangle=[], cuts=[])  # the unmutated stream in one chunk reaches the bug every time
@given(
    mangle=st.lists(st.tuples(st.integers(8, 10_000), st.integers(0, 255)), max_size=3),
    cuts=st.lists(st.integers(1, 10_000), max_size=8),
)
def test_server_answering_late_survives_pipelined_client_streams(
    mangle: list[tuple[int, int]], cuts: list[int]
) -> None:
    # Like a broker that answers only after reading: frames beyond open arrive before it opens.
    stream = bytearray(client_stream())
    for pos, byte in mangle:
        stream[pos % len(stream)] = byte
    bounds = sorted({0, len(stream), *(c % len(stream) for c in cuts)})
    feed(
        Connection(server=True),
        [bytes(stream[i:j]) for i, j in itertools.pairwise(bounds)],
    )


@FUZZ
@given(st.data())
def test_server_survives_random_bytes(data: st.DataObject) -> None:
    prefix = data.draw(st.sampled_from((b"", AMQP_HEADER, SASL_HEADER)))
    stream = prefix + data.draw(st.binary(min_size=1, max_size=300))
    make = data.draw(st.sampled_from((eager_server, sasl_server)))
    feed(make(), data.draw(split_points(stream)))


@FUZZ
@given(st.data())
def test_sasl_server_survives_mutated_sasl_exchanges(data: st.DataObject) -> None:
    init = SaslInit(mechanism="PLAIN", initial_response=b"\x00u\x00p")
    sasl = SASL_HEADER + frame(bytes(encode_value(init)), ftype=1)
    stream = data.draw(mutations(sasl + client_stream(), max_edits=3))
    feed(sasl_server(), data.draw(split_points(stream)))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_decode_value_on_random_bytes_raises_only_decode_error(data: bytes) -> None:
    for registry in (None, REGISTRY):
        try:
            _, end = decode_value(data, registry=registry)
        except DecodeError:
            continue
        assert end <= len(data)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(all_composite_classes()),
    st.lists(amqp_values(4) | st.sampled_from(list(_FIELD_SAMPLES)), max_size=16),
)
def test_registered_descriptor_with_any_fields_gives_the_composite_or_invalid_field(
    cls: type[Composite], fields: list[Any]
) -> None:
    data = b"\x00\x53" + bytes([cls.DESCRIPTOR]) + bytes(encode_value(fields))
    try:
        value, end = decode_value(data, registry=REGISTRY)
    except DecodeError as e:
        assert e.condition == conditions.INVALID_FIELD
        return
    assert type(value) is cls
    assert end == len(data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_decode_value_on_mutated_encodings_raises_only_decode_error(data: st.DataObject) -> None:
    value = data.draw(amqp_values())
    mangled = data.draw(mutations(bytes(encode_value(value))))
    try:
        _, end = decode_value(mangled, registry=REGISTRY)
    except DecodeError:
        return
    assert end <= len(mangled)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_parse_frame_on_random_bytes_raises_only_protocol_errors(data: bytes) -> None:
    pos = 0
    while True:
        try:
            parsed = parse_frame(data, pos, 512, DEFAULT_LIMITS)
        except (FramingError, DecodeError):
            return
        if parsed is None:
            return
        assert pos < parsed[0] <= len(data)
        pos = parsed[0]
