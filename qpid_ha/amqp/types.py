"""Python values for the AMQP 1.0 type system (OASIS AMQP 1.0 Part 1, section 1.6).

Python's own types stand for the AMQP types they match without ambiguity: ``None`` is null,
``bool`` boolean, ``int`` long, ``float`` double, ``str`` string, ``bytes`` binary,
``uuid.UUID`` uuid, ``list`` list and ``dict`` map. The other AMQP types get thin subclasses
named after them, as python-qpid-proton names them, so that a decoded value encodes back to
the same AMQP type.
"""

from __future__ import annotations

from typing import Any, Self

__all__ = [
    "Array",
    "Described",
    "byte",
    "char",
    "decimal32",
    "decimal64",
    "decimal128",
    "float32",
    "int32",
    "short",
    "symbol",
    "timestamp",
    "ubyte",
    "uint",
    "ulong",
    "ushort",
]


class _BoundedInt(int):
    """An int subclass that checks its range on construction."""

    __slots__ = ()
    lo = 0
    hi = 0

    def __new__(cls, value: int = 0) -> Self:
        v = int.__new__(cls, value)
        if not cls.lo <= v <= cls.hi:
            raise ValueError(f"{int(value)} is out of range for AMQP {cls.__name__}")
        return v

    def __repr__(self) -> str:
        return f"{type(self).__name__}({int(self)})"


class ubyte(_BoundedInt):
    """AMQP ubyte: 8-bit unsigned integer."""

    __slots__ = ()
    lo, hi = 0, 0xFF


class ushort(_BoundedInt):
    """AMQP ushort: 16-bit unsigned integer."""

    __slots__ = ()
    lo, hi = 0, 0xFFFF


class uint(_BoundedInt):
    """AMQP uint: 32-bit unsigned integer."""

    __slots__ = ()
    lo, hi = 0, 0xFFFFFFFF


class ulong(_BoundedInt):
    """AMQP ulong: 64-bit unsigned integer."""

    __slots__ = ()
    lo, hi = 0, 0xFFFFFFFFFFFFFFFF


class byte(_BoundedInt):
    """AMQP byte: 8-bit signed integer."""

    __slots__ = ()
    lo, hi = -0x80, 0x7F


class short(_BoundedInt):
    """AMQP short: 16-bit signed integer."""

    __slots__ = ()
    lo, hi = -0x8000, 0x7FFF


class int32(_BoundedInt):
    """AMQP int: 32-bit signed integer."""

    __slots__ = ()
    lo, hi = -0x80000000, 0x7FFFFFFF


class timestamp(_BoundedInt):
    """AMQP timestamp: milliseconds since the Unix epoch, 64-bit signed."""

    __slots__ = ()
    lo, hi = -0x8000000000000000, 0x7FFFFFFFFFFFFFFF


class float32(float):
    """AMQP float: IEEE 754 binary32. The value is kept as a Python float."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"float32({float(self)!r})"


class symbol(str):
    """AMQP symbol: an ASCII string used for names and constants."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"symbol({str(self)!r})"


class char(str):
    """AMQP char: a single Unicode code point."""

    __slots__ = ()

    def __new__(cls, value: str) -> char:
        if len(value) != 1:
            raise ValueError("an AMQP char holds exactly one code point")
        return str.__new__(cls, value)

    def __repr__(self) -> str:
        return f"char({str(self)!r})"


class _Decimal(bytes):
    """An IEEE 754 decimal kept as its raw big-endian bytes (passed through, not computed)."""

    __slots__ = ()
    width = 0

    def __new__(cls, raw: bytes) -> Any:
        if len(raw) != cls.width:
            raise ValueError(f"AMQP {cls.__name__} takes exactly {cls.width} bytes")
        return bytes.__new__(cls, raw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({bytes(self)!r})"


class decimal32(_Decimal):
    """AMQP decimal32, passed through as 4 raw bytes."""

    __slots__ = ()
    width = 4


class decimal64(_Decimal):
    """AMQP decimal64, passed through as 8 raw bytes."""

    __slots__ = ()
    width = 8


class decimal128(_Decimal):
    """AMQP decimal128, passed through as 16 raw bytes."""

    __slots__ = ()
    width = 16


class Described:
    """A described type whose descriptor the codec does not know (Part 1 section 1.4)."""

    __slots__ = ("descriptor", "value")

    def __init__(self, descriptor: int | str, value: Any) -> None:
        #: a ulong code or a symbol naming the type
        self.descriptor = descriptor
        #: the described value
        self.value = value

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Described)
            and self.descriptor == other.descriptor
            and self.value == other.value
        )

    def __hash__(self) -> int:
        return hash(self.descriptor)

    def __repr__(self) -> str:
        return f"Described({self.descriptor!r}, {self.value!r})"


class Array(list[Any]):
    """An AMQP array: a sequence of values that share one type (Part 1 section 1.6.24).

    Attributes:
        type: the AMQP type name of the elements (``"symbol"``, ``"uint"``, ...).
        descriptor: for an array of described values, their common descriptor.
    """

    __slots__ = ("descriptor", "type")

    def __init__(self, type: str, values: Any = (), descriptor: int | str | None = None) -> None:
        super().__init__(values)
        self.type = type
        self.descriptor = descriptor

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Array):
            return False
        return (
            self.type == other.type
            and self.descriptor == other.descriptor
            and list.__eq__(self, other)
        )

    __hash__ = None

    def __repr__(self) -> str:
        extra = f", descriptor={self.descriptor!r}" if self.descriptor is not None else ""
        return f"Array({self.type!r}, {list(self)!r}{extra})"
