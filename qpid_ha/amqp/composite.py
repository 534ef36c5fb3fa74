"""Composite types: described lists with named, typed fields (OASIS AMQP 1.0 Part 1 section 1.4).

Every performative, terminus, delivery state, transaction type, SASL frame and message section
is a frozen :class:`msgspec.Struct` declared with :func:`composite`, which records its
descriptor and the AMQP type of each field, then generates two functions for it:

- ``encode_amqp(out)`` writes the described list, omitting trailing fields that are null or
  hold the spec default (Part 1 section 1.4: "trailing nulls may be omitted");
- ``from_fields(values)`` checks the decoded list field by field, applies the spec defaults to
  absent fields and raises :class:`~qpid_ha.errors.DecodeError` with ``amqp:invalid-field``
  for a missing mandatory field or a value of the wrong type. The decoder calls it through
  :data:`REGISTRY`, by numeric or symbolic descriptor.

The functions are generated rather than looped over so that decoding a transfer frame costs
a handful of attribute checks.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import msgspec

from ..errors import DecodeError
from .codec import typed_encoder
from .types import Array, byte, int32, short, symbol, timestamp, ubyte, uint, ulong, ushort

__all__ = ["REGISTRY", "Composite", "composite", "field_error"]

#: descriptor (ulong code or symbol) -> from_fields of the composite type it names
REGISTRY: dict[int | str, Callable[[Any], Any]] = {}

_INTS = frozenset((int, ubyte, ushort, uint, ulong, byte, short, int32, timestamp))
_RANGES = {
    "ubyte": 0xFF,
    "ushort": 0xFFFF,
    "uint": 0xFFFFFFFF,
    "ulong": 0xFFFFFFFFFFFFFFFF,
}
# Field types whose values are other composites, resolved to classes once they are declared.
_KINDS: dict[str, tuple[type, ...]] = {}


class Composite(msgspec.Struct, frozen=True, gc=False):
    """Base of every described-list type; subclasses are declared with :func:`composite`."""

    DESCRIPTOR: ClassVar[int] = 0
    SYMBOL: ClassVar[str] = ""
    FIELD_TYPES: ClassVar[tuple[str, ...]] = ()
    MANDATORY: ClassVar[frozenset[str]] = frozenset()

    def encode_amqp(self, out: bytearray) -> None:
        """Append this value's AMQP encoding (a described list) to ``out``."""
        raise NotImplementedError  # replaced per class by composite()

    @classmethod
    def from_fields(cls, values: Any) -> Any:
        """Build an instance from a decoded field list, checking types and applying defaults."""
        raise NotImplementedError  # replaced per class by composite()


def field_error(cls_name: str, field: str, value: Any) -> DecodeError:
    """The error for a composite field that is missing or of the wrong type."""
    if value is None:
        text = f"{cls_name}: mandatory field {field} is missing"
    else:
        text = f"{cls_name}: field {field} has an invalid value of type {type(value).__name__}"
    return DecodeError(text, condition="amqp:invalid-field")


def _symbols(cls_name: str, field: str, v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        return (symbol(v),)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    raise field_error(cls_name, field, v)


C = TypeVar("C", bound=type[Composite])


def composite(descriptor: int, name: str, *types: str, mandatory: tuple[str, ...] = ()) -> Any:
    """Class decorator: declare the descriptor and field types of a composite type.

    Args:
        descriptor: the numeric descriptor's low 32 bits (the domain 0x00000000 is AMQP's).
        name: the symbolic descriptor, e.g. ``amqp:open:list``.
        types: the AMQP type of each field, in order. Primitive names (``uint``, ``symbol``,
            ``boolean``, ``binary``, ``string``, ``map``, ...), ``symbols`` for a multiple
            symbol field, ``*`` for any value, or a composite kind registered with
            :func:`kind` (``source``, ``target``, ``error``, ``state``, ``outcome``).
        mandatory: field names the spec marks mandatory.
    """

    def wrap(cls: C) -> C:
        names = cls.__struct_fields__
        if len(names) != len(types):
            raise TypeError(f"{cls.__name__}: {len(names)} fields but {len(types)} types")
        defaults = tuple(_default_of(cls, f) for f in names)
        cls.DESCRIPTOR = descriptor
        cls.SYMBOL = name
        cls.FIELD_TYPES = tuple(types)
        cls.MANDATORY = frozenset(mandatory)
        cls.from_fields = _gen_from_fields(cls, names, types, defaults, mandatory)  # type: ignore[method-assign]
        cls.encode_amqp = _gen_encode(cls, names, types, defaults, mandatory)  # type: ignore[method-assign]
        REGISTRY[ulong(descriptor)] = cls.from_fields
        REGISTRY[symbol(name)] = cls.from_fields
        return cls

    return wrap


def kind(name: str, *classes: type) -> None:
    """Name a set of composite classes so fields can be typed by it (``state``, ``error``)."""
    _KINDS[name] = classes


def _default_of(cls: type[Composite], field: str) -> Any:
    idx = cls.__struct_fields__.index(field)
    defaults = cls.__struct_defaults__
    offset = len(cls.__struct_fields__) - len(defaults)
    if idx < offset:
        return None
    d = defaults[idx - offset]
    return None if d is msgspec.NODEFAULT else d


def _gen_from_fields(
    cls: type[Composite],
    names: tuple[str, ...],
    types: tuple[str, ...],
    defaults: tuple[Any, ...],
    mandatory: tuple[str, ...],
) -> Any:
    n = len(names)
    ns: dict[str, Any] = {
        "cls": cls,
        "_INTS": _INTS,
        "_err": field_error,
        "_symbols": _symbols,
        "_KINDS": _KINDS,
        "_DecodeError": DecodeError,
        "Array": Array,
    }
    cname = cls.__name__
    lines = ["def from_fields(v):"]
    lines.append("    if type(v) is not list:")
    lines.append(f"        raise _DecodeError('{cname}: the described value must be a list')")
    lines.append(f"    if len(v) < {n}:")
    lines.append(f"        v = v + [None] * ({n} - len(v))")
    for i, (f, t, d) in enumerate(zip(names, types, defaults, strict=True)):
        var = f"f{i}"
        ns[f"d{i}"] = d
        lines.append(f"    {var} = v[{i}]")
        lines.append(f"    if {var} is None:")
        if f in mandatory:
            lines.append(f"        raise _err('{cname}', '{f}', None)")
        else:
            lines.append(f"        {var} = d{i}")
        check = _check_expr(var, t)
        if t == "symbols":
            lines.append("    else:")
            lines.append(f"        {var} = _symbols('{cname}', '{f}', {var})")
        elif check:
            lines.append(f"    elif not ({check}):")
            lines.append(f"        raise _err('{cname}', '{f}', {var})")
    lines.append(f"    return cls({', '.join(f'f{i}' for i in range(n))})")
    exec("\n".join(lines), ns)
    fn = ns["from_fields"]
    return staticmethod(fn)


def _check_expr(var: str, t: str) -> str:
    if t in _RANGES:
        return f"{var}.__class__ in _INTS and 0 <= {var} <= {_RANGES[t]}"
    if t in ("int", "long", "timestamp"):
        return f"{var}.__class__ in _INTS"
    if t == "boolean":
        return f"{var}.__class__ is bool"
    if t in ("string", "symbol"):
        return f"isinstance({var}, str)"
    if t == "binary":
        return f"isinstance({var}, bytes)"
    if t in ("map", "fields"):
        return f"{var}.__class__ is dict"
    if t == "*":
        return ""
    return f"isinstance({var}, _KINDS['{t}'])"


_INLINE_ENCODE = {
    "uint": (
        "if {v} == 0:\n    body.append(0x43)\n"
        "elif {v} < 256:\n    body += _B2(0x52, {v})\n"
        "else:\n    body += _BU32(0x70, {v})"
    ),
    "boolean": "body.append(0x41 if {v} else 0x42)",
    "binary": (
        "if len({v}) < 256:\n    body += _B2(0xA0, len({v}))\n"
        "else:\n    body += _BU32(0xB0, len({v}))\n"
        "body += {v}"
    ),
}


def _gen_encode(
    cls: type[Composite],
    names: tuple[str, ...],
    types: tuple[str, ...],
    defaults: tuple[Any, ...],
    mandatory: tuple[str, ...],
) -> Any:
    head = bytearray(b"\x00")
    if cls.DESCRIPTOR < 256:
        head += bytes((0x53, cls.DESCRIPTOR))
    else:
        head += b"\x80" + cls.DESCRIPTOR.to_bytes(8, "big")
    n = len(names)
    ns: dict[str, Any] = {
        "PREFIX": bytes(head),
        "_B2": struct.Struct(">BB").pack,
        "_BU32": struct.Struct(">BI").pack,
        "_H8": struct.Struct(">BBB").pack,
        "_H32": struct.Struct(">BII").pack,
        "_ValueError": ValueError,
    }
    # Generated per class: field reads, mandatory checks, trailing-null trimming and the
    # encodings of the common field types are inlined (the transfer path runs this per message).
    lines = ["def encode_amqp(self, out):"]
    for i, f in enumerate(names):
        lines.append(f"    v{i} = self.{f}")
        if f in mandatory:
            lines.append(f"    if v{i} is None:")
            lines.append(f"        raise _ValueError('{cls.__name__}.{f} is mandatory')")
    lines.append("    out += PREFIX")
    lines.append(f"    last = {n - 1}")
    for i in range(n - 1, -1, -1):
        ns[f"d{i}"] = defaults[i]
        cond = f"v{i} is None" if defaults[i] is None else f"v{i} is None or v{i} == d{i}"
        lines.append(f"    if last == {i} and ({cond}):")
        lines.append(f"        last = {i - 1}")
    lines.append("    if last < 0:")
    lines.append("        out.append(0x45)")
    lines.append("        return")
    lines.append("    body = bytearray()")
    for i, t in enumerate(types):
        lines.append(f"    if last >= {i}:")
        lines.append(f"        if v{i} is None:")
        lines.append("            body.append(0x40)")
        lines.append("        else:")
        inline = _INLINE_ENCODE.get(t)
        if inline is None:
            enc_t = t if t in _TYPED_NAMES else "*"
            ns[f"e{i}"] = typed_encoder(enc_t)
            lines.append(f"            e{i}(body, v{i})")
        else:
            lines.extend("            " + ln for ln in inline.format(v=f"v{i}").split("\n"))
    lines.append("    size = len(body)")
    lines.append("    if size < 255:")
    lines.append("        out += _H8(0xC0, size + 1, last + 1)")
    lines.append("    else:")
    lines.append("        out += _H32(0xD0, size + 4, last + 1)")
    lines.append("    out += body")
    exec("\n".join(lines), ns)
    return ns["encode_amqp"]


_TYPED_NAMES = frozenset(
    ("uint", "ulong", "ushort", "ubyte", "boolean", "string", "symbol", "symbols", "binary",
     "map", "fields", "int", "long", "timestamp")
)  # fmt: skip
