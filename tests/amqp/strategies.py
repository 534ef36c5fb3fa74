"""Hypothesis strategies for AMQP 1.0 values and composites, shared by the level-1 tests.

Every strategy yields values of the Python type the decoder gives back (``uint`` for a uint,
``symbol`` for a symbol, plain ``int`` for a long...), so ``decode(encode(v))`` can be compared
with :func:`same`, which also checks the types and treats NaNs as equal.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from qpid_ha.amqp.composite import REGISTRY, Composite
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

__all__ = [
    "ARRAY_ELEMENT_TYPES",
    "SCALARS",
    "all_composite_classes",
    "amqp_values",
    "arrays",
    "composites",
    "described",
    "descriptors",
    "field_values",
    "mutations",
    "same",
    "scalars",
    "split_points",
]

Strategy = st.SearchStrategy[Any]


def _short_or_long(make: Callable[..., Strategy]) -> Strategy:
    """Mostly short values, sometimes ones too long for the 8-bit size encodings."""
    return st.one_of(make(max_size=20), make(min_size=256, max_size=300))


#: one strategy per scalar AMQP type, by the type name AMQP arrays use
SCALARS: dict[str, Strategy] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "ubyte": st.integers(0, 0xFF).map(ubyte),
    "ushort": st.integers(0, 0xFFFF).map(ushort),
    "uint": st.integers(0, 0xFFFFFFFF).map(uint),
    "ulong": st.integers(0, 2**64 - 1).map(ulong),
    "byte": st.integers(-0x80, 0x7F).map(byte),
    "short": st.integers(-0x8000, 0x7FFF).map(short),
    "int": st.integers(-(2**31), 2**31 - 1).map(int32),
    "long": st.integers(-(2**63), 2**63 - 1),
    "float": st.floats(width=32).map(float32),
    "double": st.floats(),
    "decimal32": st.binary(min_size=4, max_size=4).map(decimal32),
    "decimal64": st.binary(min_size=8, max_size=8).map(decimal64),
    "decimal128": st.binary(min_size=16, max_size=16).map(decimal128),
    "char": st.integers(0, 0x10FFFF).map(lambda cp: char(chr(cp))),
    "timestamp": st.integers(-(2**63), 2**63 - 1).map(timestamp),
    "uuid": st.uuids(),
    "binary": _short_or_long(st.binary),
    "string": _short_or_long(st.text),
    "symbol": _short_or_long(
        lambda **kw: st.text(st.characters(max_codepoint=0x7F), **kw).map(symbol)
    ),
}

#: every element type an AMQP array can have
ARRAY_ELEMENT_TYPES = (*SCALARS, "list", "map", "array")

scalars: Strategy = st.one_of(*SCALARS.values())
#: descriptors of no declared composite, so values keep them even when decoded with the registry
descriptors: Strategy = st.one_of(
    SCALARS["ulong"], st.text(st.characters(max_codepoint=0x7F), max_size=30).map(symbol)
).filter(lambda d: d not in REGISTRY)


def described(values: Strategy) -> Strategy:
    """Described values (not known to any registry) with numeric or symbolic descriptors."""
    return st.builds(Described, descriptors, values)


def _scalar_arrays() -> Strategy:
    return st.sampled_from(tuple(SCALARS)).flatmap(lambda name: _array_of(name, SCALARS[name]))


def _array_of(name: str, elements: Strategy) -> Strategy:
    # Zero-width elements (null) are bounded by the decoder to 8 per byte of the array.
    size = 30 if name == "null" else 6
    return st.builds(
        Array, st.just(name), st.lists(elements, max_size=size), st.none() | descriptors
    )


def arrays(values: Strategy | None = None, element_types: tuple[str, ...] = ()) -> Strategy:
    """Arrays, optionally described, of the given element types (all by default).

    Compound elements (list, map) hold ``values``; array elements are arrays of scalars.
    """
    values = amqp_values() if values is None else values
    compound: dict[str, Strategy] = {
        "list": st.lists(values, max_size=3),
        "map": st.dictionaries(scalars, values, max_size=3),
        "array": _scalar_arrays(),
    }

    def build(name: str) -> Strategy:
        return _array_of(name, SCALARS[name] if name in SCALARS else compound[name])

    return st.sampled_from(element_types or ARRAY_ELEMENT_TYPES).flatmap(build)


def amqp_values(max_leaves: int = 12) -> Strategy:
    """Any AMQP value: scalars, lists, maps, arrays and described values, nested."""

    def extend(children: Strategy) -> Strategy:
        return st.one_of(
            st.lists(children, max_size=5),
            st.dictionaries(scalars, children, max_size=4),
            arrays(children),
            described(children),
        )

    return st.recursive(scalars, extend, max_leaves=max_leaves)


# ---------------------------------------------------------------------------------------------
# Composites
# ---------------------------------------------------------------------------------------------


def all_composite_classes() -> list[type[Composite]]:
    """Every declared composite type (performatives, states, termini, transactions, SASL)."""
    import qpid_ha.amqp  # noqa: F401  (declares them all)

    found: list[type[Composite]] = []
    todo: list[type[Composite]] = [Composite]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.SYMBOL and cls not in found:
            found.append(cls)
    return sorted(found, key=lambda c: c.DESCRIPTOR)


def _kind(name: str) -> tuple[type[Composite], ...]:
    from qpid_ha.amqp.composite import _KINDS

    return tuple(c for c in _KINDS[name] if issubclass(c, Composite))


_FIELD_VALUES: dict[str, Callable[[], Strategy]] = {
    "boolean": lambda: st.booleans(),
    "ubyte": lambda: SCALARS["ubyte"],
    "ushort": lambda: SCALARS["ushort"],
    "uint": lambda: SCALARS["uint"],
    "ulong": lambda: SCALARS["ulong"],
    "int": lambda: SCALARS["int"],
    "long": lambda: SCALARS["long"],
    "timestamp": lambda: SCALARS["timestamp"],
    "binary": lambda: SCALARS["binary"],
    "string": lambda: SCALARS["string"],
    "symbol": lambda: SCALARS["symbol"],
    "symbols": lambda: st.lists(SCALARS["symbol"], max_size=3).map(tuple),
    "map": lambda: st.dictionaries(scalars, amqp_values(4), max_size=3),
    "fields": lambda: st.dictionaries(SCALARS["symbol"], amqp_values(4), max_size=3),
    "*": lambda: amqp_values(6),
}


def field_values(amqp_type: str) -> Strategy:
    """Values of a composite field's declared type (a primitive name, ``*`` or a kind)."""
    make = _FIELD_VALUES.get(amqp_type)
    if make is not None:
        return make()
    return st.one_of(*(composites(c) for c in _kind(amqp_type)))


def composites(cls: type[Composite]) -> Strategy:
    """Instances of ``cls`` with every field of its declared type; optional fields may be None."""
    fields: dict[str, Strategy] = {}
    for name, amqp_type in zip(cls.__struct_fields__, cls.FIELD_TYPES, strict=True):
        values = field_values(amqp_type)
        fields[name] = values if name in cls.MANDATORY else st.none() | values
    return st.builds(cls, **fields)


# ---------------------------------------------------------------------------------------------
# Comparison and byte mangling
# ---------------------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equal with identical Python types all the way down; NaN equals NaN, -0.0 is not 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, Array):
        return a.type == b.type and same(a.descriptor, b.descriptor) and _same_seq(a, b)
    if isinstance(a, list | tuple):
        return _same_seq(a, b)
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb)
            for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    if isinstance(a, Described):
        return same(a.descriptor, b.descriptor) and same(a.value, b.value)
    if isinstance(a, Composite):
        return all(same(getattr(a, f), getattr(b, f)) for f in a.__struct_fields__)
    return bool(a == b)


def _same_seq(a: Any, b: Any) -> bool:
    return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))


@st.composite
def mutations(draw: st.DrawFn, data: bytes, max_edits: int = 4) -> bytes:
    """``data`` with a few bytes flipped, inserted or deleted."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, max_edits))):
        edit = draw(st.sampled_from(("flip", "insert", "delete", "set")))
        pos = draw(st.integers(0, max(len(out) - 1, 0)))
        if edit == "insert" or not out:
            out[pos:pos] = bytes([draw(st.integers(0, 255))])
        elif edit == "delete":
            del out[pos]
        elif edit == "flip":
            out[pos] ^= 1 << draw(st.integers(0, 7))
        else:
            out[pos] = draw(st.integers(0, 255))
    return bytes(out)


@st.composite
def split_points(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut into consecutive chunks at random places (at least one byte each)."""
    n = len(data)
    if n < 2:
        return [data]
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=min(n - 1, 12))))
    bounds = [0, *cuts, n]
    return [data[i:j] for i, j in itertools.pairwise(bounds)]
