"""The AMQP 1.0 type encodings (OASIS AMQP 1.0 Part 1, sections 1.2 to 1.6).

``encode_value`` turns Python values (see :mod:`qpid_ha.amqp.types`) into AMQP bytes, choosing
the most compact encoding; ``decode_value`` reads any encoding back. The decoder defends itself:
every size and count is checked against the bytes actually present and against
:class:`DecodeLimits` before anything is allocated, and nesting is bounded, so hostile input
costs nothing and ends in :class:`~qpid_ha.errors.DecodeError`.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import DecodeError
from .types import (
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

__all__ = [
    "DEFAULT_LIMITS",
    "DecodeLimits",
    "DescribedRegistry",
    "decode_value",
    "encode_typed",
    "encode_value",
    "skip_value",
]

#: Maps a descriptor (ulong code or symbol) to a constructor taking the described value.
DescribedRegistry = Mapping[int | str, Callable[[Any], Any]]


class DecodeLimits:
    """Bounds the decoder enforces before it allocates.

    Attributes:
        max_depth: deepest nesting of compound and described values.
        max_count: most elements in one list, map or array.
    """

    __slots__ = ("max_count", "max_depth")

    def __init__(self, max_depth: int = 64, max_count: int = 1 << 20) -> None:
        self.max_depth = max_depth
        self.max_count = max_count


DEFAULT_LIMITS = DecodeLimits()

_u8 = struct.Struct(">B").unpack_from
_u16 = struct.Struct(">H").unpack_from
_u32 = struct.Struct(">I").unpack_from
_u64 = struct.Struct(">Q").unpack_from
_i8 = struct.Struct(">b").unpack_from
_i16 = struct.Struct(">h").unpack_from
_i32 = struct.Struct(">i").unpack_from
_i64 = struct.Struct(">q").unpack_from
_f32 = struct.Struct(">f").unpack_from
_f64 = struct.Struct(">d").unpack_from
_two_u8 = struct.Struct(">BB").unpack_from
_two_u32 = struct.Struct(">II").unpack_from

# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------


def _need(buf: bytes, end: int) -> None:
    if end > len(buf):
        raise DecodeError(f"truncated value: needs {end} bytes, has {len(buf)}")


def _fixed(width: int, conv: Callable[[bytes, int], Any]) -> Callable[..., tuple[Any, int]]:
    def dec(buf: bytes, pos: int, limits: DecodeLimits, depth: int, reg: Any) -> tuple[Any, int]:
        end = pos + width
        if end > len(buf):
            raise DecodeError("truncated fixed-width value")
        return conv(buf, pos), end

    return dec


def _const(value: Any) -> Callable[..., tuple[Any, int]]:
    def dec(buf: bytes, pos: int, limits: DecodeLimits, depth: int, reg: Any) -> tuple[Any, int]:
        return value, pos

    return dec


def _d_bool(buf: bytes, pos: int, limits: DecodeLimits, depth: int, reg: Any) -> tuple[Any, int]:
    if pos >= len(buf):
        raise DecodeError("truncated boolean")
    b = buf[pos]
    if b > 1:
        raise DecodeError(f"invalid boolean byte 0x{b:02x}")
    return b == 1, pos + 1


def _d_char(buf: bytes, pos: int, limits: DecodeLimits, depth: int, reg: Any) -> tuple[Any, int]:
    _need(buf, pos + 4)
    cp = _u32(buf, pos)[0]
    if cp > 0x10FFFF:
        raise DecodeError("invalid char code point")
    return char(chr(cp)), pos + 4


def _variable(width: int, conv: Callable[[bytes], Any]) -> Callable[..., tuple[Any, int]]:
    def dec(buf: bytes, pos: int, limits: DecodeLimits, depth: int, reg: Any) -> tuple[Any, int]:
        n = len(buf)
        if width == 1:
            if pos >= n:
                raise DecodeError("truncated size")
            size = buf[pos]
            pos += 1
        else:
            if pos + 4 > n:
                raise DecodeError("truncated size")
            size = _u32(buf, pos)[0]
            pos += 4
        end = pos + size
        if end > n:
            raise DecodeError(f"value of {size} bytes overruns the buffer")
        return conv(buf[pos:end]), end

    return dec


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DecodeError(f"invalid UTF-8 in string: {e.reason}") from None


def _ascii_symbol(raw: bytes) -> symbol:
    try:
        return symbol(raw.decode("ascii"))
    except UnicodeDecodeError:
        raise DecodeError("invalid ASCII in symbol") from None


def _compound_header(buf: bytes, pos: int, wide: bool) -> tuple[int, int, int]:
    """Return (count, first element position, end position) of a list or map."""
    n = len(buf)
    if wide:
        if pos + 8 > n:
            raise DecodeError("truncated compound header")
        size, count = _two_u32(buf, pos)
        if size < 4:
            raise DecodeError("compound size smaller than its count field")
        start = pos + 8
        end = pos + 4 + size
    else:
        if pos + 2 > n:
            raise DecodeError("truncated compound header")
        size, count = _two_u8(buf, pos)
        if size < 1:
            raise DecodeError("compound size smaller than its count field")
        start = pos + 2
        end = pos + 1 + size
    if end > n:
        raise DecodeError(f"compound of {size} bytes overruns the buffer")
    # Every element takes at least one byte, so a count larger than the bytes present is a lie.
    if count > end - start:
        raise DecodeError(f"compound claims {count} elements in {end - start} bytes")
    return count, start, end


def _d_list(wide: bool) -> Callable[..., tuple[Any, int]]:
    def dec(buf: bytes, pos: int, limits: DecodeLimits, depth: int, reg: Any) -> tuple[Any, int]:
        count, p, end = _compound_header(buf, pos, wide)
        if count > limits.max_count:
            raise DecodeError(f"list of {count} elements exceeds the limit")
        if depth >= limits.max_depth:
            raise DecodeError("nesting too deep")
        depth += 1
        out: list[Any] = []
        append = out.append
        for _ in range(count):
            if p >= end:
                raise DecodeError("list element overruns the list")
            code = buf[p]
            # Inline the encodings performative fields use most, to save a call per field.
            if code == 0x40:
                append(None)
                p += 1
            elif code == 0x52 and p + 1 < end:
                append(_SMALL_UINT[buf[p + 1]])
                p += 2
            elif code == 0x43:
                append(_UINT0)
                p += 1
            elif code == 0x41:
                append(True)
                p += 1
            elif code == 0x42:
                append(False)
                p += 1
            elif code == 0xA0 and p + 1 < end:
                e = p + 2 + buf[p + 1]
                if e > end:
                    raise DecodeError("binary overruns the list")
                append(bytes(buf[p + 2 : e]))
                p = e
            else:
                v, p = _DECODERS[code](buf, p + 1, limits, depth, reg)
                append(v)
        if p != end:
            raise DecodeError("list size does not match its elements")
        return out, end

    return dec


def _d_map(wide: bool) -> Callable[..., tuple[Any, int]]:
    def dec(buf: bytes, pos: int, limits: DecodeLimits, depth: int, reg: Any) -> tuple[Any, int]:
        count, p, end = _compound_header(buf, pos, wide)
        if count & 1:
            raise DecodeError("map with an odd number of elements")
        if count > limits.max_count:
            raise DecodeError(f"map of {count} elements exceeds the limit")
        if depth >= limits.max_depth:
            raise DecodeError("nesting too deep")
        depth += 1
        out: dict[Any, Any] = {}
        for _ in range(count >> 1):
            if p >= end:
                raise DecodeError("map element overruns the map")
            k, p = _DECODERS[buf[p]](buf, p + 1, limits, depth, reg)
            if p >= end:
                raise DecodeError("map element overruns the map")
            v, p = _DECODERS[buf[p]](buf, p + 1, limits, depth, reg)
            try:
                out[k] = v
            except TypeError:
                raise DecodeError(f"unhashable map key of type {type(k).__name__}") from None
        if p != end:
            raise DecodeError("map size does not match its elements")
        return out, end

    return dec


# Element constructors whose encoding takes zero bytes per element in an array.
_ZERO_WIDTH = frozenset((0x40, 0x41, 0x42, 0x43, 0x44, 0x45))


def _d_array(wide: bool) -> Callable[..., tuple[Any, int]]:
    def dec(buf: bytes, pos: int, limits: DecodeLimits, depth: int, reg: Any) -> tuple[Any, int]:
        n = len(buf)
        if wide:
            if pos + 8 > n:
                raise DecodeError("truncated array header")
            size, count = _two_u32(buf, pos)
            if size < 4:
                raise DecodeError("array size smaller than its count field")
            p, end = pos + 8, pos + 4 + size
        else:
            if pos + 2 > n:
                raise DecodeError("truncated array header")
            size, count = _two_u8(buf, pos)
            if size < 1:
                raise DecodeError("array size smaller than its count field")
            p, end = pos + 2, pos + 1 + size
        if end > n:
            raise DecodeError(f"array of {size} bytes overruns the buffer")
        if count > limits.max_count:
            raise DecodeError(f"array of {count} elements exceeds the limit")
        if depth >= limits.max_depth:
            raise DecodeError("nesting too deep")
        depth += 1
        if p >= end:
            raise DecodeError("array without an element constructor")
        descriptor: Any = None
        code = buf[p]
        p += 1
        if code == 0x00:
            if p >= end:
                raise DecodeError("truncated array descriptor")
            descriptor, p = _DECODERS[buf[p]](buf, p + 1, limits, depth, None)
            _check_descriptor(descriptor)
            if p >= end:
                raise DecodeError("truncated array element constructor")
            code = buf[p]
            p += 1
            if code == 0x00:
                raise DecodeError("nested described array constructor")
        name = _TYPE_NAMES.get(code)
        if name is None:
            raise DecodeError(f"invalid array element constructor 0x{code:02x}")
        if code not in _ZERO_WIDTH and count > end - p:
            raise DecodeError(f"array claims {count} elements in {end - p} bytes")
        # Zero-width elements cost no bytes, so bound them by the array's whole encoding (at
        # most 8 per byte, like a list of list0): else 10 bytes could claim a million values.
        if code in _ZERO_WIDTH and count > 8 * (end - pos + 1):
            raise DecodeError(f"array claims {count} zero-width elements in {end - pos + 1} bytes")
        elem = _DECODERS[code]
        conv = reg.get(descriptor) if (reg is not None and descriptor is not None) else None
        values = []
        for _ in range(count):
            v, p = elem(buf, p, limits, depth, reg)
            if p > end:
                raise DecodeError("array element overruns the array")
            if conv is not None:
                v = conv(v)
            values.append(v)
        if p != end:
            raise DecodeError("array size does not match its elements")
        return Array(name, values, descriptor), end

    return dec


def _check_descriptor(descriptor: Any) -> None:
    if type(descriptor) is not ulong and type(descriptor) is not symbol:
        raise DecodeError(
            f"descriptor must be a ulong or a symbol, not {type(descriptor).__name__}"
        )


def _d_described(
    buf: bytes, pos: int, limits: DecodeLimits, depth: int, reg: Any
) -> tuple[Any, int]:
    if depth >= limits.max_depth:
        raise DecodeError("nesting too deep")
    depth += 1
    if pos >= len(buf):
        raise DecodeError("truncated descriptor")
    code = buf[pos]
    # Fast path for the small ulong descriptors every performative uses: 0x53 <code>.
    if code == 0x53 and pos + 1 < len(buf):
        descriptor: Any = _SMALL_ULONG[buf[pos + 1]]
        pos += 2
    else:
        descriptor, pos = _DECODERS[code](buf, pos + 1, limits, depth, None)
        _check_descriptor(descriptor)
    if pos >= len(buf):
        raise DecodeError("described type without a value")
    value, pos = _DECODERS[buf[pos]](buf, pos + 1, limits, depth, reg)
    if reg is not None:
        conv = reg.get(descriptor)
        if conv is not None:
            return conv(value), pos
    return Described(descriptor, value), pos


def _d_invalid(buf: bytes, pos: int, limits: DecodeLimits, depth: int, reg: Any) -> Any:
    raise DecodeError(f"invalid format code 0x{buf[pos - 1]:02x}")


def _ts(buf: bytes, pos: int) -> timestamp:
    return timestamp(_i64(buf, pos)[0])


_TYPE_NAMES: dict[int, str] = {
    0x40: "null", 0x41: "boolean", 0x42: "boolean", 0x56: "boolean",
    0x50: "ubyte", 0x60: "ushort", 0x70: "uint", 0x52: "uint", 0x43: "uint",
    0x80: "ulong", 0x53: "ulong", 0x44: "ulong", 0x51: "byte", 0x61: "short",
    0x71: "int", 0x54: "int", 0x81: "long", 0x55: "long", 0x72: "float", 0x82: "double",
    0x74: "decimal32", 0x84: "decimal64", 0x94: "decimal128", 0x73: "char",
    0x83: "timestamp", 0x98: "uuid", 0xA0: "binary", 0xB0: "binary", 0xA1: "string",
    0xB1: "string", 0xA3: "symbol", 0xB3: "symbol", 0x45: "list", 0xC0: "list", 0xD0: "list",
    0xC1: "map", 0xD1: "map", 0xE0: "array", 0xF0: "array",
}  # fmt: skip

_DECODERS: list[Callable[..., tuple[Any, int]]] = [_d_invalid] * 256
_DECODERS[0x00] = _d_described
_DECODERS[0x40] = _const(None)
_DECODERS[0x41] = _const(True)
_DECODERS[0x42] = _const(False)
_DECODERS[0x56] = _d_bool
_DECODERS[0x50] = _fixed(1, lambda b, p: ubyte(b[p]))
_DECODERS[0x60] = _fixed(2, lambda b, p: ushort(_u16(b, p)[0]))
_DECODERS[0x70] = _fixed(4, lambda b, p: uint(_u32(b, p)[0]))
_SMALL_UINT = tuple(uint(i) for i in range(256))
_SMALL_ULONG = tuple(ulong(i) for i in range(256))
_UINT0 = _SMALL_UINT[0]
_DECODERS[0x52] = _fixed(1, lambda b, p: _SMALL_UINT[b[p]])
_DECODERS[0x43] = _const(uint(0))
_DECODERS[0x80] = _fixed(8, lambda b, p: ulong(_u64(b, p)[0]))
_DECODERS[0x53] = _fixed(1, lambda b, p: _SMALL_ULONG[b[p]])
_DECODERS[0x44] = _const(ulong(0))
_DECODERS[0x51] = _fixed(1, lambda b, p: byte(_i8(b, p)[0]))
_DECODERS[0x61] = _fixed(2, lambda b, p: short(_i16(b, p)[0]))
_DECODERS[0x71] = _fixed(4, lambda b, p: int32(_i32(b, p)[0]))
_DECODERS[0x54] = _fixed(1, lambda b, p: int32(_i8(b, p)[0]))
_DECODERS[0x81] = _fixed(8, lambda b, p: _i64(b, p)[0])
_DECODERS[0x55] = _fixed(1, lambda b, p: _i8(b, p)[0])
_DECODERS[0x72] = _fixed(4, lambda b, p: float32(_f32(b, p)[0]))
_DECODERS[0x82] = _fixed(8, lambda b, p: _f64(b, p)[0])
_DECODERS[0x74] = _fixed(4, lambda b, p: decimal32(b[p : p + 4]))
_DECODERS[0x84] = _fixed(8, lambda b, p: decimal64(b[p : p + 8]))
_DECODERS[0x94] = _fixed(16, lambda b, p: decimal128(b[p : p + 16]))
_DECODERS[0x73] = _d_char
_DECODERS[0x83] = _fixed(8, _ts)
_DECODERS[0x98] = _fixed(16, lambda b, p: uuid.UUID(bytes=bytes(b[p : p + 16])))
_DECODERS[0xA0] = _variable(1, bytes)
_DECODERS[0xB0] = _variable(4, bytes)
_DECODERS[0xA1] = _variable(1, _utf8)
_DECODERS[0xB1] = _variable(4, _utf8)
_DECODERS[0xA3] = _variable(1, _ascii_symbol)
_DECODERS[0xB3] = _variable(4, _ascii_symbol)
_DECODERS[0x45] = _const(None)  # replaced below: list0 must give a fresh list
_DECODERS[0xC0] = _d_list(False)
_DECODERS[0xD0] = _d_list(True)
_DECODERS[0xC1] = _d_map(False)
_DECODERS[0xD1] = _d_map(True)
_DECODERS[0xE0] = _d_array(False)
_DECODERS[0xF0] = _d_array(True)


def _d_list0(buf: bytes, pos: int, limits: DecodeLimits, depth: int, reg: Any) -> tuple[Any, int]:
    return [], pos


_DECODERS[0x45] = _d_list0


def decode_value(
    buf: bytes | bytearray,
    pos: int = 0,
    limits: DecodeLimits = DEFAULT_LIMITS,
    registry: DescribedRegistry | None = None,
) -> tuple[Any, int]:
    """Decode one AMQP value from ``buf`` at ``pos``.

    Args:
        buf: the encoded bytes.
        pos: where the value's constructor starts.
        limits: nesting and count bounds.
        registry: constructors for known described types; values with other descriptors come
            back as :class:`~qpid_ha.amqp.types.Described`.

    Returns:
        The value and the position just after it.

    Raises:
        DecodeError: the bytes are malformed, truncated or over a limit.
    """
    if pos >= len(buf):
        raise DecodeError("no value to decode")
    try:
        return _DECODERS[buf[pos]](buf, pos + 1, limits, 0, registry)
    except RecursionError:
        raise DecodeError("nesting too deep") from None


# Width of the size field of each variable-width or compound format code (for skip_value).
_FIXED_WIDTH: dict[int, int] = {
    0x40: 0, 0x41: 0, 0x42: 0, 0x43: 0, 0x44: 0, 0x45: 0,
    0x50: 1, 0x51: 1, 0x52: 1, 0x53: 1, 0x54: 1, 0x55: 1, 0x56: 1,
    0x60: 2, 0x61: 2, 0x70: 4, 0x71: 4, 0x72: 4, 0x73: 4, 0x74: 4,
    0x80: 8, 0x81: 8, 0x82: 8, 0x83: 8, 0x84: 8, 0x94: 16, 0x98: 16,
}  # fmt: skip
_SIZE8 = frozenset((0xA0, 0xA1, 0xA3, 0xC0, 0xC1, 0xE0))
_SIZE32 = frozenset((0xB0, 0xB1, 0xB3, 0xD0, 0xD1, 0xF0))


def skip_value(buf: bytes, pos: int, depth: int = 0, max_depth: int = 64) -> int:
    """Return the position just after the value at ``pos`` without decoding it.

    Compound values are skipped by their size field, so this costs a few byte reads whatever
    their content. Raises DecodeError if the value overruns ``buf``.
    """
    n = len(buf)
    if pos >= n:
        raise DecodeError("no value to skip")
    code = buf[pos]
    pos += 1
    width = _FIXED_WIDTH.get(code)
    if width is not None:
        end = pos + width
    elif code in _SIZE8:
        if pos >= n:
            raise DecodeError("truncated size")
        end = pos + 1 + buf[pos]
    elif code in _SIZE32:
        if pos + 4 > n:
            raise DecodeError("truncated size")
        end = pos + 4 + _u32(buf, pos)[0]
    elif code == 0x00:
        if depth >= max_depth:
            raise DecodeError("nesting too deep")
        pos = skip_value(buf, pos, depth + 1, max_depth)
        return skip_value(buf, pos, depth + 1, max_depth)
    else:
        raise DecodeError(f"invalid format code 0x{code:02x}")
    if end > n:
        raise DecodeError("value overruns the buffer")
    return end


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------

_p_u8 = struct.Struct(">B").pack
_p_u16 = struct.Struct(">H").pack
_p_u32 = struct.Struct(">I").pack
_p_u64 = struct.Struct(">Q").pack
_p_i8 = struct.Struct(">b").pack
_p_i16 = struct.Struct(">h").pack
_p_i32 = struct.Struct(">i").pack
_p_i64 = struct.Struct(">q").pack
_p_f32 = struct.Struct(">f").pack
_p_f64 = struct.Struct(">d").pack
_p_code_u8 = struct.Struct(">BB").pack
_p_code_u32 = struct.Struct(">BI").pack
_p_code_u64 = struct.Struct(">BQ").pack
_p_code_i64 = struct.Struct(">Bq").pack
_p_hdr8 = struct.Struct(">BBB").pack
_p_hdr32 = struct.Struct(">BII").pack

Encoder = Callable[[bytearray, Any], None]


def _e_null(out: bytearray, v: Any) -> None:
    out.append(0x40)


def _e_bool(out: bytearray, v: Any) -> None:
    out.append(0x41 if v else 0x42)


def _e_ubyte(out: bytearray, v: Any) -> None:
    out += _p_code_u8(0x50, v)


def _e_ushort(out: bytearray, v: Any) -> None:
    out.append(0x60)
    out += _p_u16(v)


def _e_uint(out: bytearray, v: Any) -> None:
    if v == 0:
        out.append(0x43)
    elif v < 256:
        out += _p_code_u8(0x52, v)
    else:
        out += _p_code_u32(0x70, v)


def _e_ulong(out: bytearray, v: Any) -> None:
    if v == 0:
        out.append(0x44)
    elif v < 256:
        out += _p_code_u8(0x53, v)
    else:
        out += _p_code_u64(0x80, v)


def _e_byte(out: bytearray, v: Any) -> None:
    out.append(0x51)
    out += _p_i8(v)


def _e_short(out: bytearray, v: Any) -> None:
    out.append(0x61)
    out += _p_i16(v)


def _e_int(out: bytearray, v: Any) -> None:
    if -128 <= v <= 127:
        out.append(0x54)
        out += _p_i8(v)
    else:
        out.append(0x71)
        out += _p_i32(v)


def _e_long(out: bytearray, v: Any) -> None:
    if -128 <= v <= 127:
        out.append(0x55)
        out += _p_i8(v)
    elif -0x8000000000000000 <= v <= 0x7FFFFFFFFFFFFFFF:
        out += _p_code_i64(0x81, v)
    elif 0 <= v <= 0xFFFFFFFFFFFFFFFF:
        _e_ulong(out, v)
    else:
        raise ValueError(f"integer {v} does not fit any AMQP integer type")


def _e_float(out: bytearray, v: Any) -> None:
    out.append(0x72)
    out += _p_f32(v)


def _e_double(out: bytearray, v: Any) -> None:
    out.append(0x82)
    out += _p_f64(v)


def _e_decimal(out: bytearray, v: Any) -> None:
    out.append({4: 0x74, 8: 0x84, 16: 0x94}[len(v)])
    out += v


def _e_char(out: bytearray, v: Any) -> None:
    out.append(0x73)
    out += _p_u32(ord(v))


def _e_timestamp(out: bytearray, v: Any) -> None:
    out += _p_code_i64(0x83, v)


def _e_uuid(out: bytearray, v: Any) -> None:
    out.append(0x98)
    out += v.bytes


def _vbin(out: bytearray, small: int, raw: Any) -> None:
    """A variable-width value: 8-bit size with ``small``, else 32-bit with ``small + 0x10``."""
    n = len(raw)
    if n < 256:
        out += _p_code_u8(small, n)
    else:
        out += _p_code_u32(small + 0x10, n)
    out += raw


def _e_binary(out: bytearray, v: Any) -> None:
    _vbin(out, 0xA0, v)


def _e_string(out: bytearray, v: Any) -> None:
    _vbin(out, 0xA1, v.encode("utf-8"))


def _e_symbol(out: bytearray, v: Any) -> None:
    _vbin(out, 0xA3, v.encode("ascii"))


def _compound(out: bytearray, small: int, large: int, count: int, body: bytearray) -> None:
    size = len(body)
    if size < 255 and count < 256:
        out += _p_hdr8(small, size + 1, count)
    else:
        out += _p_hdr32(large, size + 4, count)
    out += body


def _e_list(out: bytearray, v: Any) -> None:
    if not v:
        out.append(0x45)
        return
    body = bytearray()
    for item in v:
        _encode(body, item)
    _compound(out, 0xC0, 0xD0, len(v), body)


def _e_map(out: bytearray, v: Any) -> None:
    body = bytearray()
    for k, item in v.items():
        _encode(body, k)
        _encode(body, item)
    _compound(out, 0xC1, 0xD1, 2 * len(v), body)


def _e_described(out: bytearray, v: Any) -> None:
    out.append(0x00)
    d = v.descriptor
    if isinstance(d, str):
        _e_symbol(out, d)
    else:
        _e_ulong(out, d)
    _encode(out, v.value)


# Array element encoders: (constructor, payload encoder without the constructor byte).
def _payload(fmt: Callable[[Any], bytes]) -> Encoder:
    def enc(out: bytearray, v: Any) -> None:
        out += fmt(v)

    return enc


def _payload_vbin32(out: bytearray, raw: Any) -> None:
    out += _p_u32(len(raw))
    out += raw


def _payload_list(out: bytearray, v: Any) -> None:
    body = bytearray()
    for item in v:
        _encode(body, item)
    out += _p_u32(len(body) + 4)
    out += _p_u32(len(v))
    out += body


def _payload_map(out: bytearray, v: Any) -> None:
    body = bytearray()
    for k, item in v.items():
        _encode(body, k)
        _encode(body, item)
    out += _p_u32(len(body) + 4)
    out += _p_u32(2 * len(v))
    out += body


def _payload_array(out: bytearray, v: Any) -> None:
    tmp = bytearray()
    _e_array(tmp, v, wide=True)
    out += tmp[1:]


_ARRAY_ELEMENT: dict[str, tuple[int, Encoder]] = {
    "null": (0x40, lambda out, v: None),
    "boolean": (0x56, lambda out, v: out.append(1 if v else 0)),
    "ubyte": (0x50, _payload(_p_u8)),
    "ushort": (0x60, _payload(_p_u16)),
    "uint": (0x70, _payload(_p_u32)),
    "ulong": (0x80, _payload(_p_u64)),
    "byte": (0x51, _payload(_p_i8)),
    "short": (0x61, _payload(_p_i16)),
    "int": (0x71, _payload(_p_i32)),
    "long": (0x81, _payload(_p_i64)),
    "float": (0x72, _payload(_p_f32)),
    "double": (0x82, _payload(_p_f64)),
    "decimal32": (0x74, _payload(bytes)),
    "decimal64": (0x84, _payload(bytes)),
    "decimal128": (0x94, _payload(bytes)),
    "char": (0x73, _payload(lambda v: _p_u32(ord(v)))),
    "timestamp": (0x83, _payload(_p_i64)),
    "uuid": (0x98, _payload(lambda v: v.bytes)),
    "binary": (0xB0, _payload_vbin32),
    "string": (0xB1, lambda out, v: _payload_vbin32(out, v.encode("utf-8"))),
    "symbol": (0xB3, lambda out, v: _payload_vbin32(out, v.encode("ascii"))),
    "list": (0xD0, _payload_list),
    "map": (0xD1, _payload_map),
    "array": (0xF0, _payload_array),
}


def _e_array(out: bytearray, v: Any, wide: bool = False) -> None:
    try:
        code, elem = _ARRAY_ELEMENT[v.type]
    except KeyError:
        raise ValueError(f"unknown AMQP array element type {v.type!r}") from None
    body = bytearray()
    if v.descriptor is not None:
        body.append(0x00)
        if isinstance(v.descriptor, str):
            _e_symbol(body, v.descriptor)
        else:
            _e_ulong(body, v.descriptor)
    # Symbols and binaries that all fit in 8-bit sizes use the compact constructor.
    if code in (0xB3, 0xB0) and all(len(x) < 256 for x in v):
        body.append(code - 0x10)
        raw_of = (lambda x: x.encode("ascii")) if code == 0xB3 else bytes
        for item in v:
            raw = raw_of(item)
            body.append(len(raw))
            body += raw
    else:
        body.append(code)
        for item in v:
            elem(body, item)
    count = len(v)
    size = len(body)
    if not wide and size < 255 and count < 256:
        out += _p_hdr8(0xE0, size + 1, count)
    else:
        out += _p_hdr32(0xF0, size + 4, count)
    out += body


_ENCODERS: dict[type, Encoder] = {
    type(None): _e_null,
    bool: _e_bool,
    int: _e_long,
    float: _e_double,
    str: _e_string,
    bytes: _e_binary,
    bytearray: _e_binary,
    memoryview: lambda out, v: _e_binary(out, v.tobytes()),
    list: _e_list,
    tuple: _e_list,
    dict: _e_map,
    uuid.UUID: _e_uuid,
    ubyte: _e_ubyte,
    ushort: _e_ushort,
    uint: _e_uint,
    ulong: _e_ulong,
    byte: _e_byte,
    short: _e_short,
    int32: _e_int,
    timestamp: _e_timestamp,
    float32: _e_float,
    symbol: _e_symbol,
    char: _e_char,
    decimal32: _e_decimal,
    decimal64: _e_decimal,
    decimal128: _e_decimal,
    Described: _e_described,
    Array: _e_array,
}


def _encode(out: bytearray, v: Any) -> None:
    enc = _ENCODERS.get(type(v))
    if enc is not None:
        enc(out, v)
        return
    encode_amqp = getattr(v, "encode_amqp", None)
    if encode_amqp is not None:  # performatives and other composite types
        encode_amqp(out)
        return
    for base, enc in _ENCODERS.items():
        if base is not type(None) and isinstance(v, base):
            enc(out, v)
            return
    raise ValueError(f"cannot encode {type(v).__name__} as an AMQP value")


def encode_value(v: Any, out: bytearray | None = None) -> bytearray:
    """Encode ``v`` as an AMQP value, appending to ``out`` (a new bytearray by default).

    Raises:
        ValueError: the value has no AMQP representation (or an int out of every range).
    """
    if out is None:
        out = bytearray()
    start = len(out)
    try:
        _encode(out, v)
    except (struct.error, OverflowError) as e:
        del out[start:]
        raise ValueError(f"value out of range for its AMQP type: {e}") from None
    return out


def _e_fields(out: bytearray, v: Any) -> None:
    """Encode a ``fields`` map (Part 2 section 2.8.15): its keys are symbols."""
    body = bytearray()
    for k, item in v.items():
        if type(k) is str:
            _e_symbol(body, k)
        else:
            _encode(body, k)
        _encode(body, item)
    _compound(out, 0xC1, 0xD1, 2 * len(v), body)


def _e_symbols(out: bytearray, v: Any) -> None:
    """Encode a ``multiple="true"`` symbol field: always as an array (proton needs arrays)."""
    if isinstance(v, str):
        v = (v,)
    _e_array(out, Array("symbol", v))


def _e_any(out: bytearray, v: Any) -> None:
    _encode(out, v)


_TYPED: dict[str, Encoder] = {
    "boolean": _e_bool,
    "ubyte": _e_ubyte,
    "ushort": _e_ushort,
    "uint": _e_uint,
    "ulong": _e_ulong,
    "int": _e_int,
    "long": _e_long,
    "timestamp": _e_timestamp,
    "binary": _e_binary,
    "string": _e_string,
    "symbol": _e_symbol,
    "symbols": _e_symbols,
    "map": _e_map,
    "fields": _e_fields,
    "*": _e_any,
}


def encode_typed(out: bytearray, amqp_type: str, v: Any) -> None:
    """Encode ``v`` as the named AMQP type (``"uint"``, ``"symbol"``, ``"symbols"``, ``"*"``...).

    Performative fields have declared types; this encodes a plain Python int as the declared
    ``uint`` rather than the ``long`` it would otherwise become.
    """
    if v is None:
        out.append(0x40)
    else:
        _TYPED[amqp_type](out, v)


def typed_encoder(amqp_type: str) -> Encoder:
    """Return the encoder for a named AMQP type, as used by :func:`encode_typed`."""
    return _TYPED[amqp_type]
