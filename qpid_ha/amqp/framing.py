"""Protocol headers and frames (OASIS AMQP 1.0 Part 2, sections 2.2 and 2.3).

A frame is ``size:4 doff:1 type:1 channel:2``, then extended header bytes up to ``doff * 4``,
then the body: a performative and, for transfers, the payload. :func:`parse_frame` reads one
frame from a buffer without copying anything while the frame is incomplete, and checks the
size against the negotiated ``max-frame-size`` as soon as the first four bytes are present, so
a peer that announces a 4 GiB frame is refused before a byte of it is buffered.
"""

from __future__ import annotations

import logging
import struct
from typing import Any

from ..errors import DecodeError, FramingError
from .codec import DecodeLimits, decode_value
from .composite import REGISTRY, Composite
from .performatives import PERFORMATIVES
from .sasl import SASL_FRAMES

__all__ = [
    "AMQP_FRAME",
    "AMQP_HEADER",
    "EMPTY_FRAME",
    "MIN_MAX_FRAME_SIZE",
    "SASL_FRAME",
    "SASL_HEADER",
    "TLS_HEADER",
    "encode_frame",
    "parse_frame",
]

AMQP_HEADER = b"AMQP\x00\x01\x00\x00"
TLS_HEADER = b"AMQP\x02\x01\x00\x00"
SASL_HEADER = b"AMQP\x03\x01\x00\x00"
#: frame types
AMQP_FRAME = 0
SASL_FRAME = 1
#: the smallest max-frame-size a peer may impose (Part 2 section 2.7.1)
MIN_MAX_FRAME_SIZE = 512
#: an empty AMQP frame, used as a heartbeat (Part 2 section 2.4.5)
EMPTY_FRAME = b"\x00\x00\x00\x08\x02\x00\x00\x00"

_header = struct.Struct(">IBBH")
_unpack_header = _header.unpack_from
_unpack_size = struct.Struct(">I").unpack_from
_pack_header = _header.pack_into

frame_log = logging.getLogger("qpid_ha.amqp.frames")

# Decoders of the performatives and SASL frames by their small descriptor code.
_FRAME_BODIES: tuple[type[Composite], ...] = (*PERFORMATIVES.values(), *SASL_FRAMES)
_PERFORMATIVE_DECODERS = {cls.DESCRIPTOR: cls.from_fields for cls in _FRAME_BODIES}


def parse_frame(
    buf: bytes | bytearray, pos: int, max_frame_size: int, limits: DecodeLimits
) -> tuple[int, int, int, Any, bytes] | None:
    """Parse the frame at ``buf[pos:]``.

    Returns:
        ``None`` when the frame is not complete yet; otherwise ``(end, type, channel, body,
        payload)`` where ``body`` is the decoded performative (``None`` for an empty frame)
        and ``payload`` the bytes that follow it.

    Raises:
        FramingError: size, data offset or type are invalid, or the frame is too large.
        DecodeError: the body does not decode to a composite type.
    """
    avail = len(buf) - pos
    if avail < 4:
        return None
    size = _unpack_size(buf, pos)[0]
    if size < 8:
        raise FramingError(f"frame size {size} is smaller than a frame header")
    if size > max_frame_size:
        raise FramingError(f"frame of {size} bytes exceeds the max-frame-size of {max_frame_size}")
    if avail < size:
        return None
    _, doff, ftype, channel = _unpack_header(buf, pos)
    if doff < 2:
        raise FramingError(f"data offset {doff} is below the minimum of 2")
    end = pos + size
    body_start = pos + doff * 4
    if body_start > end:
        raise FramingError(f"data offset {doff} points past the frame end")
    if body_start == end:
        return end, ftype, channel, None, b""
    # Decode in place; a body that runs past the frame's end is caught just after.
    if buf[body_start] == 0 and end - body_start > 3 and buf[body_start + 1] == 0x53:
        # The usual performative encoding, 00 53 <code> <list>: skip the generic described path.
        from_fields = _PERFORMATIVE_DECODERS.get(buf[body_start + 2])
        if from_fields is None:
            body, consumed = decode_value(buf, body_start, limits, REGISTRY)
        else:
            fields, consumed = decode_value(buf, body_start + 3, limits, REGISTRY)
            body = from_fields(fields)
    else:
        body, consumed = decode_value(buf, body_start, limits, REGISTRY)
    if consumed > end:
        raise DecodeError("frame body overruns the frame")
    if not isinstance(body, Composite):
        raise DecodeError("frame body is not a performative")
    payload = bytes(buf[consumed:end]) if consumed < end else b""
    return end, ftype, channel, body, payload


def encode_frame(
    out: bytearray,
    channel: int,
    body: Composite,
    payload: bytes | memoryview | None = None,
    frame_type: int = AMQP_FRAME,
) -> int:
    """Append one frame to ``out`` and return its size in bytes."""
    start = len(out)
    out += b"\x00\x00\x00\x00\x02\x00\x00\x00"
    body.encode_amqp(out)
    if payload:
        out += payload
    size = len(out) - start
    _pack_header(out, start, size, 2, frame_type, channel)
    return size
