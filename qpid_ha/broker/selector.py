"""JMS message selectors: the ``apache.org:selector-filter:string`` source filter.

A selector is the SQL-92 conditional expression subset of JMS 1.1/2.0 (section 3.8.1) that
python-qpid-proton's ``Selector("colour = 'red'")``, Qpid JMS and rhea send. It is compiled
once, by :func:`compile_selector`, into a tree of closures; matching a message then costs a few
function calls and never raises.

Syntax:

- literals: strings in single quotes (``''`` stands for a quote), exact numerics (``57``,
  ``-957``, ``0x1F``, ``0b101``, octal ``017``, an optional ``L`` suffix), approximate
  numerics (``7.``, ``.5``, ``-57.9E2``, ``7E3``, an optional ``F`` or ``D`` suffix), ``TRUE``
  and ``FALSE``;
- identifiers: a letter, ``_`` or ``$`` then letters, digits, ``_``, ``$`` or ``.``; or any
  text in double quotes (``""`` stands for a quote). Identifiers are case-sensitive;
- operators, loosest first: ``OR``; ``AND``; ``NOT``; the comparisons ``= <> < <= > >=``,
  ``[NOT] BETWEEN x AND y``, ``[NOT] IN (x, ...)``, ``[NOT] LIKE 'pattern' [ESCAPE 'c']``
  (``%`` any run of characters, ``_`` one character) and ``IS [NOT] NULL``; ``+ -``;
  ``* /``; unary ``+ -``; parentheses. Keywords are case-insensitive.

An empty or blank selector matches every message.

Identifiers name application properties, except the names below, which read the message's
header, properties and annotations as qpidd does (``amqp.*``) and as the JMS mapping of Qpid
JMS defines them (``JMS*``). Message and correlation ids read as strings (a uuid in its
canonical form, a ulong in decimal, binary as UTF-8).

============================  ====================================================
``amqp.durable``              header durable (boolean)
``amqp.priority``             header priority; also ``JMSPriority``
``amqp.ttl``                  header ttl
``amqp.first_acquirer``       header first-acquirer (boolean)
``amqp.delivery_count``       header delivery-count; ``JMSXDeliveryCount`` is it plus one
``amqp.delivery_mode``        ``'PERSISTENT'`` if durable else ``'NON_PERSISTENT'``;
                              also ``JMSDeliveryMode``
``amqp.redelivered``          delivery-count > 0; also ``JMSRedelivered``
``amqp.message_id``           message-id; also ``JMSMessageID``
``amqp.user_id``              user-id; also ``JMSXUserID``
``amqp.to``                   to; also ``JMSDestination``
``amqp.subject``              subject
``amqp.reply_to``             reply-to; also ``JMSReplyTo``
``amqp.correlation_id``       correlation-id; also ``JMSCorrelationID``
``amqp.content_type``         content-type
``amqp.content_encoding``     content-encoding
``amqp.absolute_expiry_time`` absolute-expiry-time; ``JMSExpiration`` is 0 when absent
``amqp.creation_time``        creation-time; ``JMSTimestamp`` is 0 when absent
``amqp.group_id``             group-id; also ``JMSXGroupID``
``amqp.group_sequence``       group-sequence; also ``JMSXGroupSeq``
``amqp.reply_to_group_id``    reply-to-group-id
``amqp.jms_type``             the ``x-opt-jms-type`` message annotation
``JMSType``                   ``x-opt-jms-type`` if present (Qpid JMS), else subject (qpidd)
============================  ====================================================

Evaluation follows SQL's three-valued logic. A missing property, or one whose value is of a
type selectors do not handle (binary, uuid, list, map, decimal...), is NULL; any comparison or
arithmetic with NULL is unknown, ``NOT`` unknown is unknown, ``FALSE AND`` unknown is false,
``TRUE OR`` unknown is true, and a message matches only when the selector is TRUE. Beyond
NULL, an operation on values of the wrong type is unknown too: comparing a string with a number,
ordering strings or booleans (only ``=`` and ``<>`` apply to them), arithmetic on a non-number,
``LIKE`` on a non-string, and division by zero. Integers and floats compare and combine freely;
integer division truncates towards zero, as in Java.
"""

from __future__ import annotations

import math
import operator
import re
import uuid
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from ..amqp.message import Message
from ..errors import DecodeError, InvalidArgument

__all__ = ["Selector", "compile_selector"]

#: a compiled expression: (message, application properties) -> bool, int, float, str or None
_Eval = Callable[[Message, Mapping[str, Any]], Any]

_NO_PROPERTIES: Final[Mapping[str, Any]] = MappingProxyType({})
_NUMS: Final[frozenset[Any]] = frozenset((int, float))
_PLAIN: Final[frozenset[Any]] = frozenset((bool, int, float, str))
# Static kind of an expression, known at compile time (a literal, a comparison...).
_BOOL, _NUM, _STR, _ANY = range(4)
_KIND: Final[dict[type, int]] = {bool: _BOOL, int: _NUM, float: _NUM, str: _STR}
_KIND_NAMES: Final = {_BOOL: "a boolean", _NUM: "a number", _STR: "a string"}
_MAX_DEPTH: Final = 50  # nested parentheses, NOT and unary signs
_LONG_MAX: Final = (1 << 63) - 1
_KEYWORDS: Final = frozenset(
    ("AND", "OR", "NOT", "BETWEEN", "LIKE", "ESCAPE", "IN", "IS", "NULL", "TRUE", "FALSE")
)

# -- tokens -----------------------------------------------------------------------------------

_TOKEN_RE: Final = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<approx>(?:\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)[fFdD]?
               |\d+[fFdD])
  | (?P<hex>0[xX][0-9a-fA-F]+[lL]?)
  | (?P<bin>0[bB][01]+[lL]?)
  | (?P<octal>0[0-7]*[lL]?)
  | (?P<decimal>[1-9]\d*[lL]?)
  | (?P<word>(?:[^\W\d]|\$)[\w$.]*)
  | (?P<op><>|<=|>=|[=<>+\-*/(),])
    """,
    re.VERBOSE,
)


class _Token(NamedTuple):
    kind: str  # "string", "ident", "keyword", "exact", "approx", "op" or "end"
    value: Any
    pos: int


def _describe(tok: _Token) -> str:
    if tok.kind == "end":
        return "the end of the selector"
    if tok.kind == "string":
        text: str = tok.value
        return "string '" + text.replace("'", "''") + "'"
    if tok.kind in ("exact", "approx"):
        return f"number {tok.value!r}"
    if tok.kind == "ident":
        return f"identifier {tok.value}"
    if tok.kind == "keyword":
        return str(tok.value)
    return f"'{tok.value}'"


def _error(text: str, reason: str, pos: int) -> InvalidArgument:
    return InvalidArgument(f"invalid selector {text!r}: {reason} (at position {pos})")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos, end = 0, len(text)
    match = _TOKEN_RE.match
    while pos < end:
        m = match(text, pos)
        if m is None:
            if text[pos] == "'":
                raise _error(text, "unterminated string literal", pos)
            if text[pos] == '"':
                raise _error(text, "unterminated quoted identifier", pos)
            raise _error(text, f"unexpected character {text[pos]!r}", pos)
        kind, raw = m.lastgroup, m.group()
        if kind == "space":
            pos = m.end()
            continue
        if kind == "string":
            tokens.append(_Token("string", raw[1:-1].replace("''", "'"), pos))
        elif kind == "quoted":
            tokens.append(_Token("ident", raw[1:-1].replace('""', '"'), pos))
        elif kind == "word":
            upper = raw.upper()
            if upper in _KEYWORDS:
                tokens.append(_Token("keyword", upper, pos))
            else:
                tokens.append(_Token("ident", raw, pos))
        elif kind == "op":
            tokens.append(_Token("op", raw, pos))
        else:
            nxt = m.end()
            if nxt < end and (text[nxt].isalnum() or text[nxt] in "_$.'\""):
                raise _error(text, f"malformed number {text[pos : nxt + 1]!r}", pos)
            tokens.append(_number(text, kind or "", raw, pos))
        pos = m.end()
    tokens.append(_Token("end", None, end))
    return tokens


def _number(text: str, kind: str, raw: str, pos: int) -> _Token:
    if kind == "approx":
        value = float(raw.rstrip("fFdD"))
        if math.isinf(value):
            raise _error(text, f"number {raw} is out of range", pos)
        return _Token("approx", value, pos)
    digits = raw.rstrip("lL")
    if kind == "decimal":
        if len(digits) > 20:
            raise _error(text, f"number {raw} is out of range", pos)
        # Range checked by the parser: -9223372036854775808 is valid, its magnitude is not.
        return _Token("exact", int(digits), pos)
    base = {"hex": 16, "bin": 2, "octal": 8}[kind]
    body = digits[2:] if kind != "octal" else digits
    if len(body) > 64:
        raise _error(text, f"number {raw} is out of range", pos)
    value = int(body or "0", base)
    if value >= 1 << 64:
        raise _error(text, f"number {raw} is out of range", pos)
    # As in Java, a 64-bit pattern with the top bit set is a negative long.
    return _Token("exact", value - (1 << 64) if value > _LONG_MAX else value, pos)


# -- values -----------------------------------------------------------------------------------


def _plain(v: Any) -> Any:
    """An application property value as a selector value: bool, int, float, str or None."""
    cls = v.__class__
    if cls in _PLAIN or v is None:
        return v
    if isinstance(v, int):  # ubyte ... ulong, timestamp
        return int(v)
    if isinstance(v, float):  # float32
        return float(v)
    if isinstance(v, str):  # symbol, char
        return str(v)
    return None  # binary, uuid, list, map, decimals, described values: NULL


def _id_string(v: Any) -> str | None:
    """A message-id or correlation-id as a string, as qpidd reads it."""
    if isinstance(v, str):
        return str(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return str(int(v))
    if isinstance(v, bytes):
        try:
            return v.decode()
        except UnicodeDecodeError:
            return None
    return None


def _field(m: Message, name: str) -> Any:
    props = m.properties
    return None if props is None else getattr(props, name)


def _jms_type(m: Message) -> Any:
    annotations = m.message_annotations
    return None if annotations is None else annotations.get("x-opt-jms-type")


def _jms_type_or_subject(m: Message) -> Any:
    value = _plain(_jms_type(m))
    return m.subject if value is None else value


#: special identifier -> reader of the message field it names (its result goes through _plain)
_SPECIAL: Final[dict[str, Callable[[Message], Any]]] = {
    "amqp.durable": lambda m: m.durable,
    "amqp.priority": lambda m: m.priority,
    "amqp.ttl": lambda m: m.ttl,
    "amqp.first_acquirer": lambda m: m.header.first_acquirer,
    "amqp.delivery_count": lambda m: m.delivery_count,
    "amqp.delivery_mode": lambda m: "PERSISTENT" if m.durable else "NON_PERSISTENT",
    "amqp.redelivered": lambda m: m.delivery_count > 0,
    "amqp.message_id": lambda m: _id_string(m.message_id),
    "amqp.user_id": lambda m: _id_string(_field(m, "user_id")),
    "amqp.to": lambda m: m.to,
    "amqp.subject": lambda m: m.subject,
    "amqp.reply_to": lambda m: m.reply_to,
    "amqp.correlation_id": lambda m: _id_string(m.correlation_id),
    "amqp.content_type": lambda m: _field(m, "content_type"),
    "amqp.content_encoding": lambda m: _field(m, "content_encoding"),
    "amqp.absolute_expiry_time": lambda m: m.absolute_expiry_time,
    "amqp.creation_time": lambda m: _field(m, "creation_time"),
    "amqp.group_id": lambda m: _field(m, "group_id"),
    "amqp.group_sequence": lambda m: _field(m, "group_sequence"),
    "amqp.reply_to_group_id": lambda m: _field(m, "reply_to_group_id"),
    "amqp.jms_type": _jms_type,
    "JMSDeliveryMode": lambda m: "PERSISTENT" if m.durable else "NON_PERSISTENT",
    "JMSPriority": lambda m: m.priority,
    "JMSMessageID": lambda m: _id_string(m.message_id),
    "JMSCorrelationID": lambda m: _id_string(m.correlation_id),
    "JMSTimestamp": lambda m: _field(m, "creation_time") or 0,
    "JMSExpiration": lambda m: m.absolute_expiry_time or 0,
    "JMSRedelivered": lambda m: m.delivery_count > 0,
    "JMSDestination": lambda m: m.to,
    "JMSReplyTo": lambda m: m.reply_to,
    "JMSType": _jms_type_or_subject,
    "JMSXDeliveryCount": lambda m: m.delivery_count + 1,
    "JMSXGroupID": lambda m: _field(m, "group_id"),
    "JMSXGroupSeq": lambda m: _field(m, "group_sequence"),
    "JMSXUserID": lambda m: _id_string(_field(m, "user_id")),
}


def _special(read: Callable[[Message], Any]) -> _Eval:
    def special(m: Message, p: Mapping[str, Any]) -> Any:
        try:
            return _plain(read(m))
        except DecodeError:  # a malformed section: its fields are NULL
            return None

    return special


def _property(name: str) -> _Eval:
    def prop(m: Message, p: Mapping[str, Any]) -> Any:
        v = p.get(name)
        return v if v.__class__ in _PLAIN else _plain(v)

    return prop


def _constant(value: Any) -> _Eval:
    return lambda m, p: value


# -- operators ----------------------------------------------------------------------------------


def _not3(v: Any) -> bool | None:
    return True if v is False else False if v is True else None


def _add(a: Any, b: Any) -> Any:
    try:
        return a + b
    except OverflowError:  # a huge int with a float
        return None


def _sub(a: Any, b: Any) -> Any:
    try:
        return a - b
    except OverflowError:
        return None


def _mul(a: Any, b: Any) -> Any:
    try:
        return a * b
    except OverflowError:
        return None


def _div(a: Any, b: Any) -> Any:
    if b == 0:
        return None
    if a.__class__ is int and b.__class__ is int:
        q = abs(a) // abs(b)  # Java's integer division truncates towards zero
        return q if (a < 0) == (b < 0) else -q
    try:
        return a / b
    except OverflowError:
        return None


_ARITHMETIC: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "+": _add,
    "-": _sub,
    "*": _mul,
    "/": _div,
}
_ORDER: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_MIRROR: Final = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NO_CONSTANT: Final = object()


class _Expr(NamedTuple):
    fn: _Eval
    kind: int
    pos: int
    const: Any = _NO_CONSTANT


def _or(fns: tuple[_Eval, ...]) -> _Eval:
    def or_(m: Message, p: Mapping[str, Any]) -> bool | None:
        result: bool | None = False
        for f in fns:
            v = f(m, p)
            if v is True:
                return True
            if v is not False:
                result = None
        return result

    return or_


def _and(fns: tuple[_Eval, ...]) -> _Eval:
    def and_(m: Message, p: Mapping[str, Any]) -> bool | None:
        result: bool | None = True
        for f in fns:
            v = f(m, p)
            if v is False:
                return False
            if v is not True:
                result = None
        return result

    return and_


def _negate(f: _Eval) -> _Eval:
    return lambda m, p: _not3(f(m, p))


def _equality(op: str, left: _Expr, right: _Expr) -> _Eval:
    lf, rf = left.fn, right.fn
    if left.const is not _NO_CONSTANT and right.const is _NO_CONSTANT:
        lf, rf, left, right = rf, lf, right, left
    eq = op == "="
    if right.const is not _NO_CONSTANT:
        c = right.const
        if c.__class__ in _NUMS:
            if eq:
                return lambda m, p: (v == c) if (v := lf(m, p)).__class__ in _NUMS else None
            return lambda m, p: (v != c) if (v := lf(m, p)).__class__ in _NUMS else None
        cls = c.__class__  # str or bool
        if eq:
            return lambda m, p: (v == c) if (v := lf(m, p)).__class__ is cls else None
        return lambda m, p: (v != c) if (v := lf(m, p)).__class__ is cls else None

    def equality(m: Message, p: Mapping[str, Any]) -> bool | None:
        a = lf(m, p)
        if a is None:
            return None
        b = rf(m, p)
        if b is None or _KIND[a.__class__] != _KIND[b.__class__]:
            return None
        return (a == b) is eq

    return equality


def _ordering(op: str, left: _Expr, right: _Expr) -> _Eval:
    lf, rf = left.fn, right.fn
    if left.const is not _NO_CONSTANT and right.const is _NO_CONSTANT:
        lf, rf, left, right, op = rf, lf, right, left, _MIRROR[op]
    cmp = _ORDER[op]
    if right.const is not _NO_CONSTANT:
        c = right.const
        if c.__class__ not in _NUMS:
            return lambda m, p: None
        return lambda m, p: cmp(v, c) if (v := lf(m, p)).__class__ in _NUMS else None

    def ordering(m: Message, p: Mapping[str, Any]) -> bool | None:
        a = lf(m, p)
        if a.__class__ not in _NUMS:
            return None
        b = rf(m, p)
        if b.__class__ not in _NUMS:
            return None
        return cmp(a, b)

    return ordering


def _between(e: _Eval, lo: _Eval, hi: _Eval) -> _Eval:
    # e BETWEEN lo AND hi is lo <= e AND e <= hi, in three-valued logic
    def between(m: Message, p: Mapping[str, Any]) -> bool | None:
        v = e(m, p)
        if v.__class__ not in _NUMS:
            return None
        a = lo(m, p)
        b = hi(m, p)
        above = (a <= v) if a.__class__ in _NUMS else None
        below = (v <= b) if b.__class__ in _NUMS else None
        if above is False or below is False:
            return False
        return True if above is True and below is True else None

    return between


def _in(e: _Eval, items: list[_Expr]) -> _Eval:
    # e IN (a, b) is e = a OR e = b, in three-valued logic
    if all(item.const is not _NO_CONSTANT for item in items):
        groups: dict[int, set[Any]] = {}
        for item in items:
            groups.setdefault(_KIND[item.const.__class__], set()).add(item.const)
        sets = {kind: frozenset(values) for kind, values in groups.items()}
        # not found among the values of its own kind: false, unless the list has other kinds
        miss = {kind: False if len(sets) == 1 else None for kind in sets}

        def in_constants(m: Message, p: Mapping[str, Any]) -> bool | None:
            v = e(m, p)
            kind = _KIND.get(v.__class__, -1)
            values = sets.get(kind)
            if values is None:
                return None
            return True if v in values else miss[kind]

        return in_constants

    fns = tuple(item.fn for item in items)

    def in_(m: Message, p: Mapping[str, Any]) -> bool | None:
        v = e(m, p)
        if v is None:
            return None
        kind = _KIND[v.__class__]
        result: bool | None = False
        for f in fns:
            x = f(m, p)
            if x is None or _KIND[x.__class__] != kind:
                result = None
            elif x == v:
                return True
        return result

    return in_


def _like_pattern(pattern: str, escape: str | None) -> Callable[[str], bool] | None:
    """A matcher for a LIKE pattern; ``None`` if the pattern ends with its escape character.

    The pattern is cut at each ``%`` into segments of a fixed length (``_`` and every other
    character match one character each). The first segment must match at the start, the last
    at the end, and each middle one is found leftmost after the previous one; this takes time
    proportional to the lengths of the pattern and the string, where a backtracking regular
    expression such as ``.*a.*a.*a.*b`` could take polynomially long on a hostile string.
    """
    segments: list[list[str]] = [[]]
    chars = iter(pattern)
    for ch in chars:
        if ch == escape:
            nxt = next(chars, None)
            if nxt is None:
                return None
            segments[-1].append(re.escape(nxt))
        elif ch == "%":
            segments.append([])
        elif ch == "_":
            segments[-1].append(".")
        else:
            segments[-1].append(re.escape(ch))
    regexes = [re.compile("".join(seg), re.DOTALL) for seg in segments]
    if len(regexes) == 1:
        whole = regexes[0].fullmatch
        return lambda s: whole(s) is not None
    first = regexes[0].match
    middle = [rx.search for seg, rx in zip(segments[1:-1], regexes[1:-1], strict=True) if seg]
    last, last_size = regexes[-1].match, len(segments[-1])

    def like(s: str) -> bool:
        m = first(s)
        if m is None:
            return False
        pos = m.end()
        for search in middle:
            m = search(s, pos)
            if m is None:
                return False
            pos = m.end()
        tail = len(s) - last_size
        return tail >= pos and last(s, tail) is not None

    return like


def _like(e: _Eval, match: Callable[[str], bool]) -> _Eval:
    return lambda m, p: match(v) if (v := e(m, p)).__class__ is str else None


def _arithmetic(first: _Eval, rest: list[tuple[Callable[[Any, Any], Any], _Eval]]) -> _Eval:
    def arithmetic(m: Message, p: Mapping[str, Any]) -> Any:
        acc = first(m, p)
        if acc.__class__ not in _NUMS:
            return None
        for op, f in rest:
            b = f(m, p)
            if b.__class__ not in _NUMS:
                return None
            acc = op(acc, b)
            if acc is None:
                return None
        return acc

    return arithmetic


def _sign(op: str, f: _Eval) -> _Eval:
    if op == "-":
        return lambda m, p: -v if (v := f(m, p)).__class__ in _NUMS else None
    return lambda m, p: v if (v := f(m, p)).__class__ in _NUMS else None


# -- parser -------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the tokens, building the closures as it goes."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.uses_properties = False

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def at(self, kind: str, value: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == kind and tok.value == value

    def accept(self, kind: str, value: str) -> bool:
        if self.at(kind, value):
            self.i += 1
            return True
        return False

    def fail(self, reason: str, tok: _Token | None = None) -> InvalidArgument:
        tok = tok or self.peek()
        return _error(self.text, f"{reason}, found {_describe(tok)}", tok.pos)

    def expect(self, kind: str, value: str, what: str) -> None:
        if not self.accept(kind, value):
            raise self.fail(f"expected {what}")

    def nest(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _error(self.text, "expression nested too deeply", self.peek().pos)

    def condition(self, e: _Expr) -> _Expr:
        if e.kind in (_BOOL, _ANY):
            return e
        raise _error(
            self.text, f"expected a condition, found {_KIND_NAMES[e.kind]} expression", e.pos
        )

    def numeric(self, e: _Expr) -> _Expr:
        if e.kind in (_NUM, _ANY):
            return e
        raise _error(
            self.text, f"arithmetic needs numbers, found {_KIND_NAMES[e.kind]} expression", e.pos
        )

    # selector := [or_expr] end
    def selector(self) -> _Expr:
        if self.peek().kind == "end":
            return _Expr(_constant(True), _BOOL, 0, True)
        e = self.condition(self.or_expr())
        if self.peek().kind != "end":
            raise self.fail("expected an operator or the end of the selector")
        return e

    # or_expr := and_expr (OR and_expr)*
    def or_expr(self) -> _Expr:
        first = self.and_expr()
        if not self.at("keyword", "OR"):
            return first
        fns = [self.condition(first).fn]
        while self.accept("keyword", "OR"):
            fns.append(self.condition(self.and_expr()).fn)
        return _Expr(_or(tuple(fns)), _BOOL, first.pos)

    # and_expr := not_expr (AND not_expr)*
    def and_expr(self) -> _Expr:
        first = self.not_expr()
        if not self.at("keyword", "AND"):
            return first
        fns = [self.condition(first).fn]
        while self.accept("keyword", "AND"):
            fns.append(self.condition(self.not_expr()).fn)
        return _Expr(_and(tuple(fns)), _BOOL, first.pos)

    # not_expr := NOT not_expr | comparison
    def not_expr(self) -> _Expr:
        tok = self.peek()
        if not self.accept("keyword", "NOT"):
            return self.comparison()
        self.nest()
        operand = self.condition(self.not_expr())
        self.depth -= 1
        return _Expr(_negate(operand.fn), _BOOL, tok.pos)

    # comparison := additive [cmp_op additive | IS [NOT] NULL
    #                         | [NOT] BETWEEN additive AND additive
    #                         | [NOT] IN '(' additive (',' additive)* ')'
    #                         | [NOT] LIKE string [ESCAPE string]]
    def comparison(self) -> _Expr:
        left = self.additive()
        tok = self.peek()
        if tok.kind == "op" and tok.value in _MIRROR:
            self.take()
            right = self.additive()
            if tok.value in ("=", "<>"):
                fn = _equality(tok.value, left, right)
            else:
                fn = _ordering(tok.value, left, right)
            return _Expr(fn, _BOOL, left.pos)
        if self.accept("keyword", "IS"):
            negated = self.accept("keyword", "NOT")
            self.expect("keyword", "NULL", "NULL or NOT NULL after IS")
            f = left.fn
            if negated:
                return _Expr(lambda m, p: f(m, p) is not None, _BOOL, left.pos)
            return _Expr(lambda m, p: f(m, p) is None, _BOOL, left.pos)
        negated = self.accept("keyword", "NOT")
        if self.accept("keyword", "BETWEEN"):
            lo = self.additive()
            self.expect("keyword", "AND", "AND after BETWEEN")
            hi = self.additive()
            fn = _between(left.fn, lo.fn, hi.fn)
        elif self.accept("keyword", "IN"):
            self.expect("op", "(", "'(' after IN")
            items = [self.additive()]
            while self.accept("op", ","):
                items.append(self.additive())
            self.expect("op", ")", "',' or ')' in the IN list")
            fn = _in(left.fn, items)
        elif self.accept("keyword", "LIKE"):
            fn = _like(left.fn, self.like_pattern())
        elif negated:
            raise self.fail("expected BETWEEN, IN or LIKE after NOT")
        else:
            return left
        return _Expr(_negate(fn) if negated else fn, _BOOL, left.pos)

    def like_pattern(self) -> Callable[[str], bool]:
        tok = self.take()
        if tok.kind != "string":
            raise self.fail("expected a string literal after LIKE", tok)
        escape: str | None = None
        if self.accept("keyword", "ESCAPE"):
            esc = self.take()
            if esc.kind != "string":
                raise self.fail("expected a string literal after ESCAPE", esc)
            if len(esc.value) != 1:
                raise _error(self.text, "the ESCAPE string must be one character", esc.pos)
            escape = esc.value
        match = _like_pattern(tok.value, escape)
        if match is None:
            raise _error(self.text, "the LIKE pattern ends with its escape character", tok.pos)
        return match

    # additive := multiplicative (('+' | '-') multiplicative)*
    def additive(self) -> _Expr:
        return self.chain(self.multiplicative, ("+", "-"))

    # multiplicative := unary (('*' | '/') unary)*
    def multiplicative(self) -> _Expr:
        return self.chain(self.unary, ("*", "/"))

    def chain(self, operand: Callable[[], _Expr], ops: tuple[str, str]) -> _Expr:
        first = operand()
        tok = self.peek()
        if not (tok.kind == "op" and tok.value in ops):
            return first
        rest: list[tuple[Callable[[Any, Any], Any], _Eval]] = []
        self.numeric(first)
        while tok.kind == "op" and tok.value in ops:
            self.take()
            rest.append((_ARITHMETIC[tok.value], self.numeric(operand()).fn))
            tok = self.peek()
        return _Expr(_arithmetic(first.fn, rest), _NUM, first.pos)

    # unary := ('+' | '-') unary | primary
    def unary(self) -> _Expr:
        tok = self.peek()
        if not (tok.kind == "op" and tok.value in ("+", "-")):
            return self.primary()
        self.take()
        nxt = self.peek()
        if tok.value == "-" and nxt.kind in ("exact", "approx"):
            self.take()  # a negative literal: -9223372036854775808 is in range
            if nxt.kind == "exact" and nxt.value > _LONG_MAX + 1:
                raise _error(self.text, f"number -{nxt.value} is out of range", tok.pos)
            return _Expr(_constant(-nxt.value), _NUM, tok.pos, -nxt.value)
        self.nest()
        operand = self.numeric(self.unary())
        self.depth -= 1
        if operand.const is not _NO_CONSTANT:
            value = -operand.const if tok.value == "-" else operand.const
            return _Expr(_constant(value), _NUM, tok.pos, value)
        return _Expr(_sign(tok.value, operand.fn), _NUM, tok.pos)

    # primary := '(' or_expr ')' | literal | identifier
    def primary(self) -> _Expr:
        tok = self.take()
        if tok.kind == "op" and tok.value == "(":
            self.nest()
            e = self.or_expr()
            self.expect("op", ")", "')'")
            self.depth -= 1
            return e._replace(pos=tok.pos)
        if tok.kind == "string":
            return _Expr(_constant(tok.value), _STR, tok.pos, tok.value)
        if tok.kind == "exact":
            if tok.value > _LONG_MAX:
                raise _error(self.text, f"number {tok.value} is out of range", tok.pos)
            return _Expr(_constant(tok.value), _NUM, tok.pos, tok.value)
        if tok.kind == "approx":
            return _Expr(_constant(tok.value), _NUM, tok.pos, tok.value)
        if tok.kind == "keyword" and tok.value in ("TRUE", "FALSE"):
            value = tok.value == "TRUE"
            return _Expr(_constant(value), _BOOL, tok.pos, value)
        if tok.kind == "ident":
            read = _SPECIAL.get(tok.value)
            if read is not None:
                return _Expr(_special(read), _ANY, tok.pos)
            self.uses_properties = True
            return _Expr(_property(tok.value), _ANY, tok.pos)
        raise self.fail("expected an identifier, a literal or '('", tok)


# -- public API ---------------------------------------------------------------------------------


class Selector:
    """A compiled JMS message selector; calling it on a message tells whether it matches.

    Made by :func:`compile_selector`. Thread-safe and reusable: it holds no per-message state.

    Attributes:
        text: the selector as given.
    """

    __slots__ = ("_root", "_uses_properties", "text")

    def __init__(self, text: str, root: _Eval, uses_properties: bool) -> None:
        self.text = text
        self._root = root
        self._uses_properties = uses_properties

    def evaluate(self, message: Message) -> bool | None:
        """The three-valued result of the selector on ``message``.

        Args:
            message: the message to test.

        Returns:
            ``True`` or ``False``, or ``None`` when the result is unknown (SQL's NULL).
            Application properties or fields that cannot be decoded read as NULL.
        """
        result = self._root(message, self._properties(message))
        return result if result.__class__ is bool else None

    def __call__(self, message: Message) -> bool:
        """Whether ``message`` matches: the selector is TRUE for it (never raises)."""
        try:
            return self._root(message, self._properties(message)) is True
        except Exception:  # a selector that fails on a message does not match it
            return False

    def _properties(self, message: Message) -> Mapping[str, Any]:
        if self._uses_properties:
            try:
                return message.application_properties or _NO_PROPERTIES
            except DecodeError:  # malformed: every property reads as NULL
                pass
        return _NO_PROPERTIES

    def __repr__(self) -> str:
        return f"Selector({self.text!r})"


def compile_selector(text: str) -> Selector:
    """Compile a JMS message selector (the syntax and semantics are in the module docstring).

    Args:
        text: the selector, for example ``"colour = 'red' AND size > 10"``; an empty or blank
            selector matches every message.

    Returns:
        The compiled selector, a callable from a :class:`~qpid_ha.amqp.message.Message` to
        ``bool`` that never raises.

    Raises:
        InvalidArgument: the selector is malformed (condition ``amqp:invalid-field``); the
            description says what is wrong and where.
    """
    if not isinstance(text, str):
        raise InvalidArgument(f"a selector is a string, not {type(text).__name__}")
    parser = _Parser(text)
    try:
        root = parser.selector()
    except RecursionError:
        raise _error(text, "expression nested too deeply", 0) from None
    return Selector(text, root.fn, parser.uses_properties)
